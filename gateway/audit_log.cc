#include "gateway/audit_log.h"

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/storage.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"
#include "gateway/json_writer.h"
#include "gateway/log.h"

namespace brug::gateway {

using adapters::Row;
using adapters::Tx;
using crypto::Sha256Digest;

namespace {

adapters::Blob blob_of(const Sha256Digest& d) { return adapters::Blob(d.begin(), d.end()); }

Result<Sha256Digest> digest_of(const adapters::Blob& b) {
  if (b.size() != 32) return Status::error(Code::kCorrupt, "stored hash has the wrong size");
  Sha256Digest d{};
  std::copy(b.begin(), b.end(), d.begin());
  return d;
}

// Perfect subtree hashes as stored: level 0 in audit_events, higher levels in audit_nodes.
class StoredTree final : public crypto::MerkleHashSource {
 public:
  explicit StoredTree(Tx& tx) : tx_(tx) {}
  Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const override {
    auto rows =
        level == 0
            ? tx_.query("SELECT leaf_hash FROM audit_events WHERE idx = ?",
                        {static_cast<std::int64_t>(index)})
            : tx_.query("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?",
                        {static_cast<std::int64_t>(level), static_cast<std::int64_t>(index)});
    if (!rows) return rows.status();
    if (rows->empty()) {
      return Status::error(Code::kCorrupt, "audit tree node " + std::to_string(level) + "/" +
                                               std::to_string(index) + " is missing");
    }
    return digest_of(rows->front().blob(0));
  }

 private:
  Tx& tx_;
};

Result<std::uint64_t> stored_size(Tx& tx) {
  auto rows = tx.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_events");
  if (!rows) return rows.status();
  return static_cast<std::uint64_t>(rows->front().integer(0));
}

Checkpoint checkpoint_of(const Row& r) {
  return {static_cast<std::uint64_t>(r.integer(0)), crypto::to_hex(r.blob(1)), r.text(2), r.text(3),
          crypto::to_hex(r.blob(4))};
}

constexpr const char* kCheckpointColumns = "size, root, time, key_id, signature";

}  // namespace

std::string checkpoint_bytes(const Checkpoint& c) {
  return "brug-checkpoint/v1\n" + std::to_string(c.size) + "\n" + c.root + "\n" + c.time + "\n" +
         c.key_id + "\n";
}

std::string audit_leaf(const AuditEvent& e, std::uint64_t index, const Sha256Digest& prev) {
  // Written directly, members in sorted order: byte for byte what nlohmann's sorted compact
  // dump gives (tests/gateway/audit_log_test.cc), at a fraction of the cost.
  JsonWriter w(640);
  w.begin_object();
  w.key("action").value(e.action).key("actor").value(e.actor);
  w.key("actor_role").value(e.actor_role).key("basis").value(e.basis);
  w.key("consent_ids").value(e.consent_ids).key("decision").value(e.decision);
  w.key("fields").value(e.fields).key("index").value(static_cast<std::int64_t>(index));
  w.key("policy_ids").value(e.policy_ids).key("policy_set").value(e.policy_set);
  w.key("prev").value(crypto::to_hex(prev)).key("purpose").value(e.purpose);
  w.key("reason").value(e.reason).key("recipient").value(e.recipient);
  w.key("record_type").value(e.record_type).key("request_id").value(e.request_id);
  w.key("subject").value(e.subject).key("time").value(e.time);
  w.key("trace_id").value(e.trace_id);
  w.end_object();
  return w.take();
}

AuditLog::AuditLog(adapters::Storage& storage, const crypto::SigningKey& key, AuditOptions options)
    : storage_(storage), key_(key), options_(options) {}

Status AuditLog::append(std::vector<AuditEvent> events) {
  if (events.empty()) return Status::ok();
  Batch mine{std::move(events)};
  std::unique_lock lock(mu_);
  queue_.push_back(&mine);
  while (!mine.done) {
    if (writing_) {
      cv_.wait(lock);
      continue;
    }
    // Lead: write everything that is waiting, including our own batch, in one transaction.
    writing_ = true;
    std::deque<Batch*> taken;
    taken.swap(queue_);
    lock.unlock();
    const Status s = write(taken);
    lock.lock();
    for (Batch* b : taken) {
      b->status = s;
      b->done = true;
    }
    writing_ = false;
    cv_.notify_all();
  }
  return mine.status;
}

Result<AuditLog::Frontier> AuditLog::load_frontier(Tx& tx, std::uint64_t size) {
  Frontier f;
  f.size = size;
  if (size == 0) return f;
  const StoredTree tree(tx);
  auto last = tree.perfect_subtree_hash(0, size - 1);
  if (!last) return last.status();
  f.last = *last;
  for (unsigned level = 0; level < 64; ++level) {
    if (((size >> level) & 1) == 0) continue;
    auto h = tree.perfect_subtree_hash(level, (size >> level) - 1);
    if (!h) return h.status();
    f.edge[level] = *h;
  }
  return f;
}

Status AuditLog::write(std::deque<Batch*>& batches) {
  std::optional<Frontier> done;
  Status s = storage_.transact([&](Tx& tx) {
    auto size = stored_size(tx);
    if (!size) return size.status();
    // The right edge of the tree is kept between writes; it is read back only when the
    // stored log is not where the last write left it (first write, or a failed one).
    Frontier f;
    if (frontier_ && frontier_->size == *size) {
      f = *frontier_;
    } else {
      auto loaded = load_frontier(tx, *size);
      if (!loaded) return loaded.status();
      f = *loaded;
    }
    const std::string now = utc_now_rfc3339();
    for (Batch* b : batches) {
      for (AuditEvent& e : b->events) {
        if (e.time.empty()) e.time = now;
        const std::uint64_t n = f.size;
        std::string leaf = audit_leaf(e, n, f.last);
        const Sha256Digest hash = crypto::merkle_leaf_hash(
            std::span(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size()));
        BRUG_RETURN_IF_ERROR(
            tx.exec("INSERT INTO audit_events (idx, leaf, leaf_hash, time, actor, action, "
                    "purpose, subject, recipient, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {static_cast<std::int64_t>(n), adapters::Blob(leaf.begin(), leaf.end()),
                     blob_of(hash), e.time, e.actor, e.action, e.purpose, e.subject, e.recipient,
                     e.decision})
                .status());
        // Complete every perfect subtree this leaf closes: while the index is odd at a level,
        // the node and the edge's subtree to its left make their parent.
        Sha256Digest node = hash;
        unsigned level = 0;
        for (; ((n >> level) & 1) == 1; ++level) {
          node = crypto::merkle_node_hash(f.edge[level], node);
          BRUG_RETURN_IF_ERROR(
              tx.exec("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)",
                      {static_cast<std::int64_t>(level + 1),
                       static_cast<std::int64_t>(n >> (level + 1)), blob_of(node)})
                  .status());
        }
        f.edge[level] = node;
        f.last = hash;
        f.size = n + 1;
      }
    }
    BRUG_RETURN_IF_ERROR(maybe_checkpoint(tx, f.size, false));
    done = f;
    return Status::ok();
  });
  // Only a committed write moves the cached edge; anything else makes the next one reload it.
  if (s.is_ok()) {
    frontier_ = done;
  } else {
    frontier_.reset();
  }
  return s;
}

Status AuditLog::maybe_checkpoint(Tx& tx, std::uint64_t size, bool force) {
  auto last = tx.query("SELECT size, time FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
  if (!last) return last.status();
  const std::uint64_t last_size =
      last->empty() ? 0 : static_cast<std::uint64_t>(last->front().integer(0));
  if (size == 0 || size == last_size) return Status::ok();
  bool due = force || last->empty() || size - last_size >= options_.checkpoint_every_events;
  const std::string now = utc_now_rfc3339();
  if (!due) {
    // RFC 3339 UTC with milliseconds: compare the seconds since the epoch of both.
    auto seconds = [](const std::string& t) {
      std::tm tm{};
      strptime(t.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
      return static_cast<long long>(timegm(&tm));
    };
    due = seconds(now) - seconds(last->front().text(1)) >= options_.checkpoint_every_s;
  }
  if (!due) return Status::ok();
  const StoredTree tree(tx);
  auto root = crypto::merkle_root(tree, size);
  if (!root) return root.status();
  Checkpoint c{size, crypto::to_hex(*root), now, key_.key_id().text(), ""};
  const std::string bytes = checkpoint_bytes(c);
  const crypto::Signature sig =
      key_.sign(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return tx
      .exec(
          "INSERT INTO audit_checkpoints (size, root, time, key_id, signature) VALUES "
          "(?, ?, ?, ?, ?)",
          {static_cast<std::int64_t>(size), blob_of(*root), now, c.key_id,
           adapters::Blob(sig.bytes().begin(), sig.bytes().end())})
      .status();
}

Result<std::uint64_t> AuditLog::size() {
  std::uint64_t n = 0;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto s = stored_size(tx);
    if (!s) return s.status();
    n = *s;
    return Status::ok();
  }));
  return n;
}

Result<std::optional<Checkpoint>> AuditLog::checkpoint(bool fresh) {
  if (fresh) {
    // Through the writer lock, so a checkpoint never races an append's own.
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !writing_; });
    writing_ = true;
    lock.unlock();
    Status s = storage_.transact([&](Tx& tx) {
      auto n = stored_size(tx);
      if (!n) return n.status();
      return maybe_checkpoint(tx, *n, true);
    });
    lock.lock();
    writing_ = false;
    cv_.notify_all();
    BRUG_RETURN_IF_ERROR(s);
  }
  std::optional<Checkpoint> out;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto rows = tx.query(std::string("SELECT ") + kCheckpointColumns +
                         " FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
    if (!rows) return rows.status();
    if (!rows->empty()) out = checkpoint_of(rows->front());
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Checkpoint>> AuditLog::checkpoints() {
  std::vector<Checkpoint> out;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto rows = tx.query(std::string("SELECT ") + kCheckpointColumns +
                         " FROM audit_checkpoints ORDER BY size");
    if (!rows) return rows.status();
    for (const Row& r : *rows) out.push_back(checkpoint_of(r));
    return Status::ok();
  }));
  return out;
}

Result<std::vector<std::string>> AuditLog::entries(std::uint64_t start, std::uint64_t end) {
  std::vector<std::string> out;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto rows = tx.query("SELECT leaf FROM audit_events WHERE idx >= ? AND idx < ? ORDER BY idx",
                         {static_cast<std::int64_t>(start), static_cast<std::int64_t>(end)});
    if (!rows) return rows.status();
    for (const Row& r : *rows) out.push_back(r.text(0));
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Sha256Digest>> AuditLog::inclusion_proof(std::uint64_t index,
                                                            std::uint64_t size) {
  std::vector<Sha256Digest> out;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto n = stored_size(tx);
    if (!n) return n.status();
    if (size > *n) return Status::error(Code::kInvalidArgument, "size is beyond the log");
    auto proof = crypto::inclusion_proof(StoredTree(tx), index, size);
    if (!proof) return proof.status();
    out = std::move(proof).value();
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Sha256Digest>> AuditLog::consistency_proof(std::uint64_t from,
                                                              std::uint64_t to) {
  std::vector<Sha256Digest> out;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto n = stored_size(tx);
    if (!n) return n.status();
    if (from > to || to > *n) {
      return Status::error(Code::kInvalidArgument, "need from <= to <= the log's size");
    }
    auto proof = crypto::consistency_proof(StoredTree(tx), from, to);
    if (!proof) return proof.status();
    out = std::move(proof).value();
    return Status::ok();
  }));
  return out;
}

Result<Sha256Digest> AuditLog::root(std::uint64_t size) {
  Sha256Digest out{};
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto r = crypto::merkle_root(StoredTree(tx), size);
    if (!r) return r.status();
    out = *r;
    return Status::ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> AuditLog::search(const AuditFilter& f) {
  std::string where = "1 = 1";
  std::vector<adapters::SqlValue> params;
  auto add = [&](const std::string& value, const char* clause) {
    if (value.empty()) return;
    where += clause;
    params.push_back(value);
  };
  add(f.from_time, " AND time >= ?");
  add(f.to_time, " AND time <= ?");
  add(f.actor, " AND actor = ?");
  add(f.purpose, " AND purpose = ?");
  add(f.decision, " AND decision = ?");
  add(f.action, " AND action = ?");
  const auto limit = std::min<std::uint64_t>(f.limit, 1000);
  std::vector<std::pair<std::uint64_t, std::string>> out;
  BRUG_RETURN_IF_ERROR(storage_.read([&](Tx& tx) {
    auto collect = [&](const std::string& sql, std::vector<adapters::SqlValue> values) {
      values.push_back(static_cast<std::int64_t>(limit - out.size()));
      auto rows = tx.query(sql, std::move(values));
      if (!rows) return rows.status();
      for (const Row& r : *rows) out.emplace_back(r.integer(0), r.text(1));
      return Status::ok();
    };
    if (f.subject.empty()) {
      return collect("SELECT idx, leaf FROM audit_events WHERE " + where + " ORDER BY idx LIMIT ?",
                     params);
    }
    // By subject: one seek per block of 4096 events (migration 5's index on idx >> 12).
    auto size = stored_size(tx);
    if (!size) return size.status();
    const std::string sql = "SELECT idx, leaf FROM audit_events WHERE idx >> 12 = ? AND " + where +
                            " AND subject = ? ORDER BY idx LIMIT ?";
    for (std::uint64_t block = 0; (block << 12) < *size && out.size() < limit; ++block) {
      std::vector<adapters::SqlValue> values{static_cast<std::int64_t>(block)};
      values.insert(values.end(), params.begin(), params.end());
      values.push_back(f.subject);
      BRUG_RETURN_IF_ERROR(collect(sql, std::move(values)));
    }
    return Status::ok();
  }));
  return out;
}

Status verify_audit_export(const std::string& dir, const std::string& public_key_hex) {
  auto key = crypto::VerifyKey::from_hex(public_key_hex);
  if (!key) return Status::error(Code::kInvalidArgument, "--pubkey: " + key.message());
  std::ifstream entries(dir + "/entries.jsonl", std::ios::binary);
  std::ifstream checkpoints_file(dir + "/checkpoints.json", std::ios::binary);
  if (!entries || !checkpoints_file) {
    return Status::error(Code::kNotFound, dir + ": needs entries.jsonl and checkpoints.json");
  }
  crypto::MemoryMerkleTree tree;
  Sha256Digest prev{};
  std::string line;
  for (std::uint64_t i = 0; std::getline(entries, line); ++i) {
    auto bad = [&](const std::string& why) {
      return Status::error(Code::kCorrupt, "first bad index " + std::to_string(i) + ": " + why);
    };
    const auto leaf = nlohmann::json::parse(line, nullptr, false);
    if (!leaf.is_object() || !leaf.contains("index") || !leaf.contains("prev")) {
      return bad("not an audit leaf");
    }
    if (leaf["index"] != i) return bad("leaf says index " + leaf["index"].dump());
    if (leaf["prev"] != crypto::to_hex(prev)) {
      // The previous leaf changed, or this one was moved or inserted.
      return Status::error(Code::kCorrupt, "first bad index " + std::to_string(i == 0 ? 0 : i - 1) +
                                               ": the chain of leaf hashes breaks before index " +
                                               std::to_string(i));
    }
    prev = crypto::merkle_leaf_hash(
        std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()));
    tree.append_leaf_hash(prev);
  }
  const auto list = nlohmann::json::parse(checkpoints_file, nullptr, false);
  if (!list.is_array() || list.empty()) {
    return Status::error(Code::kCorrupt, "checkpoints.json holds no checkpoints");
  }
  std::uint64_t covered = 0;
  Sha256Digest covered_root{};
  for (const auto& j : list) {
    Checkpoint c{j.value("size", std::uint64_t{0}), j.value("root", ""), j.value("time", ""),
                 j.value("key_id", ""), j.value("signature", "")};
    const std::string at = "checkpoint of size " + std::to_string(c.size);
    auto kid = crypto::KeyId::parse(c.key_id);
    if (!kid) return Status::error(Code::kCorrupt, at + ": bad key id");
    auto sig = crypto::Signature::from_hex(*kid, c.signature);
    const std::string bytes = checkpoint_bytes(c);
    if (!sig ||
        !key->verify(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                     *sig)
             .is_ok()) {
      return Status::error(Code::kCorrupt, at + ": the signature does not verify");
    }
    if (c.size > tree.size()) {
      return Status::error(Code::kCorrupt, at + ": the export holds only " +
                                               std::to_string(tree.size()) + " entries");
    }
    auto root = crypto::merkle_root(tree, c.size);
    if (!root || crypto::to_hex(*root) != c.root) {
      return Status::error(Code::kCorrupt, "first bad index in [" + std::to_string(covered) + ", " +
                                               std::to_string(c.size) + "): " + at +
                                               " does not match the entries");
    }
    if (covered > 0) {
      auto proof = crypto::consistency_proof(tree, covered, c.size);
      if (!proof ||
          !crypto::verify_consistency(covered, c.size, covered_root, *root, *proof).is_ok()) {
        return Status::error(Code::kCorrupt, at + " is not consistent with the one before");
      }
    }
    covered = c.size;
    covered_root = *root;
  }
  if (tree.size() > covered) {
    return Status::error(Code::kCorrupt, "first bad index " + std::to_string(covered) +
                                             ": entries beyond the newest signed checkpoint");
  }
  return Status::ok();
}

}  // namespace brug::gateway
