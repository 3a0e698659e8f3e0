#include "gateway/audit/audit_log.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "crypto/encoding.h"
#include "crypto/env.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"
#include "gateway/audit/tlog.h"
#include "gateway/http/json_writer.h"

namespace brug::gateway {

using adapters::AuditStore;
using adapters::Stores;
using crypto::Sha256Digest;

namespace {

// Leaves handed to the store at a time by one append (see append_in).
constexpr std::size_t kLeavesPerPart = 256;

// Perfect subtree hashes are stored at every kNodeStride-th level only (level 0, the leaf
// hashes, with the events): a level between is at most 2^(kNodeStride-1) stored hashes away,
// and an append writes one node row per 15 leaves instead of one per leaf. Proofs and tiles
// read a few more rows; appends, which every request makes, write far fewer.
constexpr unsigned kNodeStride = 4;
bool stored_level(unsigned level) { return level % kNodeStride == 0; }

// Commits remembered for unchanged_since: more than the writes that can commit between a
// request's read and its write lock on a busy gateway. How long it waits for a write of this
// process that has committed but is not remembered yet.
constexpr std::size_t kRemembered = 256;
constexpr std::chrono::milliseconds kSettleWait{20};

// The perfect subtree hashes at positions `at`, in that order, from the stored levels below
// them: one look-up for all. kCorrupt when a stored hash is missing.
Result<std::vector<Sha256Digest>> subtree_hashes_at(AuditStore& store,
                                                    const std::vector<AuditStore::NodeAt>& at) {
  std::vector<AuditStore::NodeAt> stored;
  for (const auto& [level, index] : at) {
    const unsigned up = level % kNodeStride;
    for (std::uint64_t i = 0; i < (std::uint64_t{1} << up); ++i) {
      stored.emplace_back(level - up, (index << up) + i);
    }
  }
  auto hashes = store.nodes(stored);
  if (!hashes) return hashes.status();
  if (hashes->size() != stored.size()) {
    return Status::error(Code::kInternal, "audit tree node look-up returned the wrong count");
  }
  std::vector<Sha256Digest> out;
  out.reserve(at.size());
  std::size_t next = 0;
  for (const auto& position : at) {
    const std::size_t width = std::size_t{1} << (position.first % kNodeStride);
    std::vector<Sha256Digest> row(hashes->begin() + static_cast<std::ptrdiff_t>(next),
                                  hashes->begin() + static_cast<std::ptrdiff_t>(next + width));
    next += width;
    for (; row.size() > 1; row.resize(row.size() / 2)) {
      for (std::size_t i = 0; i + 1 < row.size(); i += 2) {
        row[i / 2] = crypto::merkle_node_hash(row[i], row[i + 1]);
      }
    }
    out.push_back(row.front());
  }
  return out;
}

// Perfect subtree hashes as stored (level 0 are the leaf hashes), and the levels between.
class StoredTree final : public crypto::MerkleHashSource {
 public:
  explicit StoredTree(AuditStore& store) : store_(store) {}
  Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const override {
    if (stored_level(level)) return store_.node(level, index);
    auto h = subtree_hashes_at(store_, {{level, index}});
    if (!h) return h.status();
    return h->front();
  }

 private:
  AuditStore& store_;
};

Checkpoint checkpoint_of(const adapters::CheckpointRow& r) {
  return {r.size, crypto::to_hex(r.root), r.time, r.key_id, crypto::to_hex(r.signature)};
}

// The root the gateway signed for a tree of `size` leaves, if it signed one. Auditors mostly
// ask about the newest checkpoint; only other sizes read the whole list.
Result<std::optional<Sha256Digest>> signed_root_of(AuditStore& store, std::uint64_t size) {
  auto latest = store.latest_checkpoint();
  if (!latest) return latest.status();
  if (*latest && (*latest)->size == size) return std::optional<Sha256Digest>((*latest)->root);
  if (!*latest || (*latest)->size < size) return std::optional<Sha256Digest>();
  auto all = store.checkpoints();
  if (!all) return all.status();
  for (const auto& c : *all) {
    if (c.size == size) return std::optional<Sha256Digest>(c.root);
  }
  return std::optional<Sha256Digest>();
}

}  // namespace

std::string checkpoint_bytes(const Checkpoint& c) {
  return "brug-checkpoint/v1\n" + std::to_string(c.size) + "\n" + c.root + "\n" + c.time + "\n" +
         c.key_id + "\n";
}

namespace {

// The leaf with index 0 and an all-zero prev, and where those two go.
LeafDraft draft_leaf(const AuditEvent& e) {
  // Written directly, members in sorted order: byte for byte what nlohmann's sorted compact
  // dump gives (tests/gateway/audit_log_test.cc), at a fraction of the cost.
  LeafDraft d;
  JsonWriter w(640);
  w.begin_object();
  w.key("action").value(e.action).key("actor").value(e.actor);
  w.key("actor_role").value(e.actor_role).key("basis").value(e.basis);
  w.key("consent_ids").value(e.consent_ids).key("decision").value(e.decision);
  w.key("fields").value(e.fields).key("index");
  d.index_at = w.text().size();
  w.value(std::int64_t{0});
  w.key("policy_ids").value(e.policy_ids).key("policy_set").value(e.policy_set);
  w.key("prev");
  d.prev_at = w.text().size() + 1;  // after the opening quote
  w.value(std::string(2 * std::tuple_size_v<Sha256Digest>, '0')).key("purpose").value(e.purpose);
  w.key("reason").value(e.reason).key("recipient").value(e.recipient);
  w.key("record_type").value(e.record_type).key("request_id").value(e.request_id);
  w.key("subject").value(e.subject).key("time").value(e.time);
  w.key("trace_id").value(e.trace_id);
  w.end_object();
  d.text = w.take();
  return d;
}

std::string finish_leaf(const LeafDraft& d, std::uint64_t index, const Sha256Digest& prev) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string leaf = d.text;
  for (std::size_t i = 0; i < prev.size(); ++i) {
    leaf[d.prev_at + 2 * i] = kHex[prev[i] >> 4];
    leaf[d.prev_at + 2 * i + 1] = kHex[prev[i] & 15];
  }
  leaf.replace(d.index_at, 1, std::to_string(index));  // after prev: this one moves what follows
  return leaf;
}

}  // namespace

std::string audit_leaf(const AuditEvent& e, std::uint64_t index, const Sha256Digest& prev) {
  return finish_leaf(draft_leaf(e), index, prev);
}

void prepare_leaf(AuditEvent& e, const std::string& now) {
  if (e.time.empty()) e.time = now;
  e.draft = draft_leaf(e);
}

AuditLog::AuditLog(adapters::Database& db, const crypto::SigningKey& key, AuditOptions options,
                   crypto::Env& env)
    : db_(db), key_(key), options_(options), env_(env) {}

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

Status AuditLog::write(std::deque<Batch*>& batches) {
  return commit(
      [&](Stores& stores) -> Result<Appended> {
        std::vector<AuditEvent*> all;
        for (Batch* b : batches) {
          for (AuditEvent& e : b->events) all.push_back(&e);
        }
        return append_in(stores.audit, all);
      },
      Changes::none());
}

Status AuditLog::record(const Work& fn, Changes changes) {
  return commit(
      [&](Stores& stores) -> Result<Appended> {
        std::vector<AuditEvent> events;
        BRUG_RETURN_IF_ERROR(fn(stores, events));
        std::vector<AuditEvent*> all;
        for (AuditEvent& e : events) all.push_back(&e);
        return append_in(stores.audit, all);
      },
      changes);
}

Status AuditLog::commit(const std::function<Result<Appended>(Stores&)>& body,
                        const Changes& changes) {
  // While this write's transaction may be committing, the log size it began at is in
  // settling_: unchanged_since, finding no commit remembered there, waits for remember()
  // instead of taking it for another process's. Cleared however this function ends.
  struct Settling {
    AuditLog& log;
    std::optional<std::uint64_t> from;
    void set(std::optional<std::uint64_t> f) {  // under frontier_mu_
      if (from) log.settling_.erase(log.settling_.find(*from));
      from = f;
      if (from) log.settling_.insert(*from);
      log.settled_.notify_all();
    }
    ~Settling() {
      std::lock_guard lock(log.frontier_mu_);
      set(std::nullopt);
    }
  } settling{*this, std::nullopt};
  std::optional<Appended> done;
  Status s = db_.write([&](Stores& stores) -> Status {
    done.reset();
    {
      std::lock_guard lock(frontier_mu_);
      settling.set(std::nullopt);  // a run again: the run before did not commit
    }
    auto a = body(stores);
    if (!a) return a.status();
    done = std::move(a).value();
    std::lock_guard lock(frontier_mu_);
    settling.set(done->from);
    return Status::ok();
  });
  std::lock_guard lock(frontier_mu_);
  remember(s.is_ok() ? done : std::nullopt, changes);
  settling.set(std::nullopt);
  return s;
}

Changes Changes::of(const std::vector<std::string>& names) {
  Changes c{false, {}};
  c.hashes.reserve(names.size());
  for (const std::string& n : names) c.hashes.push_back(std::hash<std::string>{}(n));
  std::sort(c.hashes.begin(), c.hashes.end());
  c.hashes.erase(std::unique(c.hashes.begin(), c.hashes.end()), c.hashes.end());
  return c;
}

Result<bool> AuditLog::unchanged_since(AuditStore& store, std::uint64_t seen,
                                       const Changes& names) {
  auto size = store.size();
  if (!size) return size.status();
  if (names.unknown || *size < seen) return false;
  std::unique_lock lock(frontier_mu_);
  const auto deadline = std::chrono::steady_clock::now() + kSettleWait;
  // Walk the commits from `seen` on: each must be remembered, say what it changed, and share no
  // name with `names` (both sorted).
  for (std::uint64_t at = seen; at < *size;) {
    const auto c = committed_.find(at);
    if (c == committed_.end()) {
      // A write of this process that began here may have committed just before this one took
      // the write lock and not be remembered yet: wait for it a little (one run again after a
      // failed commit holds this up until the deadline; then the caller reads again).
      if (settling_.count(at) == 0) return false;
      if (!settled_.wait_until(lock, deadline, [&] {
            return committed_.count(at) > 0 || settling_.count(at) == 0;
          })) {
        return false;
      }
      continue;
    }
    if (c->second.changes.unknown) return false;
    const std::vector<std::uint64_t>& theirs = c->second.changes.hashes;
    auto a = names.hashes.begin();
    auto b = theirs.begin();
    while (a != names.hashes.end() && b != theirs.end()) {
      if (*a == *b) return false;
      if (*a < *b) {
        ++a;
      } else {
        ++b;
      }
    }
    at = c->second.to;
  }
  return true;
}

Status AuditLog::stream(const Stream& fn) {
  return commit(
      [&](Stores& stores) -> Result<Appended> {
        auto a = begin_append(stores.audit);
        if (!a) return a.status();
        const std::uint64_t from = a->tree.size;
        std::vector<AuditEvent*> some;
        BRUG_RETURN_IF_ERROR(fn([&](std::vector<AuditEvent>& events) {
          some.clear();
          for (AuditEvent& e : events) some.push_back(&e);
          return add_events(stores.audit, *a, some);
        }));
        auto f = end_append(stores.audit, *a);
        if (!f) return f.status();
        return Appended{from, *f};
      },
      Changes::none());
}

void AuditLog::remember(const std::optional<Appended>& done, const Changes& changes) {
  if (done && done->tree.size > done->from) {
    committed_[done->from] = {done->tree.size, changes};
    while (committed_.size() > kRemembered) committed_.erase(committed_.begin());
  }
  // Only a committed append moves the kept edge, and only forwards; a failure makes the next
  // writer read it back.
  if (!done) {
    frontier_.reset();
  } else if (!frontier_ || frontier_->size < done->tree.size) {
    frontier_ = done->tree;
  }
}

Result<AuditLog::Frontier> AuditLog::load_frontier(AuditStore& store, std::uint64_t size) {
  Frontier f;
  f.size = size;
  if (size == 0) return f;
  // The last leaf and, for each set bit of size, the perfect subtree ending the log there: read
  // in one look-up.
  std::vector<AuditStore::NodeAt> at{{0, size - 1}};
  for (unsigned level = 0; level < 64; ++level) {
    if (((size >> level) & 1) != 0) at.emplace_back(level, (size >> level) - 1);
  }
  auto hashes = subtree_hashes_at(store, at);
  if (!hashes) return hashes.status();
  f.last = (*hashes)[0];
  for (std::size_t i = 1; i < at.size(); ++i) f.edge[at[i].first] = (*hashes)[i];
  return f;
}

Result<AuditLog::Appending> AuditLog::begin_append(AuditStore& store) {
  auto size = store.size();
  if (!size) return size.status();
  // The right edge of the tree is kept between writes; it is read back only when the stored log
  // is not where the last committed write left it (first write, another process, a failure).
  std::optional<Frontier> kept;
  {
    std::lock_guard lock(frontier_mu_);
    if (frontier_ && frontier_->size == *size) kept = frontier_;
  }
  Appending a;
  if (kept) {
    a.tree = *kept;
  } else {
    auto loaded = load_frontier(store, *size);
    if (!loaded) return loaded.status();
    a.tree = *loaded;
  }
  a.now = env_.now_rfc3339();
  return a;
}

Status AuditLog::add_events(AuditStore& store, Appending& a,
                            const std::vector<AuditEvent*>& events) {
  Frontier& f = a.tree;
  std::vector<adapters::AuditLeafRow> leaves;
  leaves.reserve(std::min(events.size(), kLeavesPerPart));
  std::vector<adapters::AuditNodeRow> nodes;  // the subtree hashes these leaves closed
  for (AuditEvent* e : events) {
    if (e->time.empty()) e->time = a.now;
    const std::uint64_t n = f.size;
    std::string leaf = e->draft ? finish_leaf(*e->draft, n, f.last) : audit_leaf(*e, n, f.last);
    const Sha256Digest hash = crypto::merkle_leaf_hash(
        std::span(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size()));
    leaves.push_back({n, std::move(leaf), hash, e->time, e->actor, e->action, e->purpose,
                      e->subject, e->recipient, e->decision});
    // Complete every perfect subtree this leaf closes: while the index is odd at a level, the
    // node and the edge's subtree to its left make their parent.
    Sha256Digest node = hash;
    unsigned level = 0;
    for (; ((n >> level) & 1) == 1; ++level) {
      node = crypto::merkle_node_hash(f.edge[level], node);
      if (stored_level(level + 1)) nodes.push_back({level + 1, n >> (level + 1), node});
    }
    f.edge[level] = node;
    f.last = hash;
    f.size = n + 1;
    // Handed over in parts, the nodes they completed with them: a backend that stores them
    // behind (PostgreSQL) works through one part while the next is made, and a long append
    // (a streamed feed page) leaves little for its end.
    if (leaves.size() == kLeavesPerPart) {
      BRUG_RETURN_IF_ERROR(store.add_leaves(std::exchange(leaves, {})));
      leaves.reserve(kLeavesPerPart);
      if (!nodes.empty()) BRUG_RETURN_IF_ERROR(store.add_nodes(std::exchange(nodes, {})));
    }
  }
  BRUG_RETURN_IF_ERROR(store.add_leaves(std::move(leaves)));
  return nodes.empty() ? Status::ok() : store.add_nodes(nodes);
}

Result<AuditLog::Frontier> AuditLog::end_append(AuditStore& store, Appending& a) {
  BRUG_RETURN_IF_ERROR(maybe_checkpoint(store, a.tree.size, false, &a.tree));
  return a.tree;
}

Result<AuditLog::Appended> AuditLog::append_in(AuditStore& store,
                                               std::vector<AuditEvent*>& events) {
  auto a = begin_append(store);
  if (!a) return a.status();
  const std::uint64_t from = a->tree.size;
  BRUG_RETURN_IF_ERROR(add_events(store, *a, events));
  auto f = end_append(store, *a);
  if (!f) return f.status();
  return Appended{from, *f};
}

Status AuditLog::maybe_checkpoint(AuditStore& store, std::uint64_t size, bool force,
                                  const Frontier* edge) {
  auto last = store.latest_checkpoint();
  if (!last) return last.status();
  const std::uint64_t last_size = *last ? (*last)->size : 0;
  if (size == 0 || size == last_size) return Status::ok();
  bool due = force || !*last || size - last_size >= options_.checkpoint_every_events;
  const std::string now = env_.now_rfc3339();
  if (!due) {
    // RFC 3339 UTC with milliseconds: compare the seconds since the epoch of both.
    auto seconds = [](const std::string& t) {
      std::tm tm{};
      strptime(t.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
      return static_cast<long long>(timegm(&tm));
    };
    due = seconds(now) - seconds((*last)->time) >= options_.checkpoint_every_s;
  }
  if (!due) return Status::ok();
  Result<Sha256Digest> root = Sha256Digest{};
  if (edge != nullptr && edge->size == size) {
    // RFC 6962's root from the perfect subtrees of the size's set bits, joined from the
    // smallest (rightmost) up: no stored node read.
    bool first = true;
    for (unsigned level = 0; level < 64; ++level) {
      if (((size >> level) & 1) == 0) continue;
      *root = first ? edge->edge[level] : crypto::merkle_node_hash(edge->edge[level], *root);
      first = false;
    }
  } else {
    const StoredTree tree(store);
    root = crypto::merkle_root(tree, size);
    if (!root) return root.status();
  }
  Checkpoint c{size, crypto::to_hex(*root), now, key_.key_id().text(), ""};
  const std::string bytes = checkpoint_bytes(c);
  const crypto::Signature sig =
      key_.sign(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return store.add_checkpoint(
      {size, *root, now, c.key_id, adapters::Blob(sig.bytes().begin(), sig.bytes().end())});
}

Result<std::uint64_t> AuditLog::size() {
  std::uint64_t n = 0;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto size = s.audit.size();
    if (!size) return size.status();
    n = *size;
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
    Status s = db_.write([&](Stores& st) {
      auto n = st.audit.size();
      if (!n) return n.status();
      return maybe_checkpoint(st.audit, *n, true);
    });
    lock.lock();
    writing_ = false;
    cv_.notify_all();
    BRUG_RETURN_IF_ERROR(s);
  }
  std::optional<Checkpoint> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto c = s.audit.latest_checkpoint();
    if (!c) return c.status();
    out.reset();
    if (*c) out = checkpoint_of(**c);
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Checkpoint>> AuditLog::checkpoints() {
  std::vector<Checkpoint> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto all = s.audit.checkpoints();
    if (!all) return all.status();
    out.clear();
    for (const auto& c : *all) out.push_back(checkpoint_of(c));
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Sha256Digest>> AuditLog::subtree_hashes(unsigned level, std::uint64_t first,
                                                           std::uint64_t count) {
  std::vector<Sha256Digest> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto n = s.audit.size();
    if (!n) return n.status();
    // (first + count) << level <= size, without overflow.
    if (level >= 64 || count == 0 || first > UINT64_MAX - count || first + count > (*n >> level)) {
      return Status::error(Code::kNotFound, "no such subtrees yet");
    }
    std::vector<AuditStore::NodeAt> at;
    at.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) at.emplace_back(level, first + i);
    auto hashes = subtree_hashes_at(s.audit, at);
    if (!hashes) return hashes.status();
    out = std::move(hashes).value();
    return Status::ok();
  }));
  return out;
}

Status AuditLog::add_cosignature(std::uint64_t size, const std::string& witness,
                                 const std::string& line) {
  return db_.write([&](Stores& s) { return s.audit.add_cosignature(size, witness, line); });
}

Result<std::vector<std::string>> AuditLog::cosignatures(std::uint64_t size) {
  std::vector<std::string> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto lines = s.audit.cosignatures(size);
    if (!lines) return lines.status();
    out = std::move(lines).value();
    return Status::ok();
  }));
  return out;
}

Result<std::vector<std::string>> AuditLog::entries(std::uint64_t start, std::uint64_t end) {
  std::vector<std::string> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto leaves = s.audit.leaves(start, end);
    if (!leaves) return leaves.status();
    out = std::move(leaves).value();
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Sha256Digest>> AuditLog::inclusion_proof(std::uint64_t index,
                                                            std::uint64_t size) {
  std::vector<Sha256Digest> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto n = s.audit.size();
    if (!n) return n.status();
    if (size > *n) return Status::error(Code::kInvalidArgument, "size is beyond the log");
    auto proof = crypto::inclusion_proof(StoredTree(s.audit), index, size);
    if (!proof) return proof.status();
    // Built from stored nodes, checked before it leaves: against the signed root of that size
    // and the leaf's own bytes, so a changed node is a failure here, not a proof that fails
    // at the auditor.
    auto signed_root = signed_root_of(s.audit, size);
    if (!signed_root) return signed_root.status();
    if (*signed_root) {
      auto leaf = s.audit.leaves(index, index + 1);
      if (!leaf) return leaf.status();
      if (leaf->size() != 1) return Status::error(Code::kCorrupt, "audit leaf missing");
      const std::string& bytes = leaf->front();
      const Sha256Digest leaf_hash = crypto::merkle_leaf_hash(
          std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      if (!crypto::verify_inclusion(leaf_hash, index, size, *proof, **signed_root).is_ok()) {
        return Status::error(
            Code::kCorrupt,
            "the stored tree does not give the signed root of size " + std::to_string(size));
      }
    }
    out = std::move(proof).value();
    return Status::ok();
  }));
  return out;
}

Result<std::vector<Sha256Digest>> AuditLog::consistency_proof(std::uint64_t from,
                                                              std::uint64_t to) {
  std::vector<Sha256Digest> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto n = s.audit.size();
    if (!n) return n.status();
    if (from > to || to > *n) {
      return Status::error(Code::kInvalidArgument, "need from <= to <= the log's size");
    }
    auto proof = crypto::consistency_proof(StoredTree(s.audit), from, to);
    if (!proof) return proof.status();
    // Not checked against the signed roots here: a consistency proof that fails at the auditor
    // is how a rewritten history shows (an old checkpoint the gateway's store no longer
    // matches); `brug audit verify --config` names a changed node.
    out = std::move(proof).value();
    return Status::ok();
  }));
  return out;
}

Result<Sha256Digest> AuditLog::root(std::uint64_t size) {
  Sha256Digest out{};
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto r = crypto::merkle_root(StoredTree(s.audit), size);
    if (!r) return r.status();
    out = *r;
    return Status::ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> AuditLog::search(const AuditFilter& f) {
  AuditFilter bounded = f;
  bounded.limit = std::min<std::uint64_t>(f.limit, 1000);
  std::vector<std::pair<std::uint64_t, std::string>> out;
  BRUG_RETURN_IF_ERROR(db_.read([&](Stores& s) {
    auto found = s.audit.search(bounded);
    if (!found) return found.status();
    out = std::move(found).value();
    return Status::ok();
  }));
  return out;
}

namespace {

// Checks one leaf (its text `line`) at `index` after the leaf hashed `prev`; returns its hash.
Result<Sha256Digest> check_leaf(const std::string& line, std::uint64_t i,
                                const Sha256Digest& prev) {
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
  return crypto::merkle_leaf_hash(
      std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()));
}

// Every checkpoint signed by `key`, its root that of `tree` at its size, each consistent with
// the one before; with `cover_all`, no leaf beyond the newest.
Status verify_checkpoints(const crypto::MemoryMerkleTree& tree, const std::vector<Checkpoint>& list,
                          const crypto::VerifyKey& key, bool cover_all) {
  if (list.empty() && (cover_all || tree.size() > 0)) {
    return Status::error(Code::kCorrupt, "there is no checkpoint");
  }
  std::uint64_t covered = 0;
  Sha256Digest covered_root{};
  for (const Checkpoint& c : list) {
    const std::string at = "checkpoint of size " + std::to_string(c.size);
    auto kid = crypto::KeyId::parse(c.key_id);
    if (!kid) return Status::error(Code::kCorrupt, at + ": bad key id");
    auto sig = crypto::Signature::from_hex(*kid, c.signature);
    const std::string bytes = checkpoint_bytes(c);
    if (!sig ||
        !key.verify(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                    *sig)
             .is_ok()) {
      return Status::error(Code::kCorrupt, at + ": the signature does not verify");
    }
    if (c.size > tree.size()) {
      return Status::error(Code::kCorrupt,
                           at + ": the log holds only " + std::to_string(tree.size()) + " entries");
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
  if (cover_all && tree.size() > covered) {
    return Status::error(Code::kCorrupt, "first bad index " + std::to_string(covered) +
                                             ": entries beyond the newest signed checkpoint");
  }
  return Status::ok();
}

}  // namespace

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
    auto hash = check_leaf(line, i, prev);
    if (!hash) return hash.status();
    prev = *hash;
    tree.append_leaf_hash(prev);
  }
  const auto list = nlohmann::json::parse(checkpoints_file, nullptr, false);
  if (!list.is_array() || list.empty()) {
    return Status::error(Code::kCorrupt, "checkpoints.json holds no checkpoints");
  }
  std::vector<Checkpoint> checkpoints;
  for (const auto& j : list) {
    checkpoints.push_back({j.value("size", std::uint64_t{0}), j.value("root", ""),
                           j.value("time", ""), j.value("key_id", ""), j.value("signature", "")});
  }
  return verify_checkpoints(tree, checkpoints, *key, true);
}

namespace {

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(Code::kNotFound, path + ": missing (fetch it first)");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The perfect subtree hashes that hash tiles hold (tree levels 0, 8, 16, ...); a level in
// between is the root of the 2^r tile hashes below it.
class TileHashSource : public crypto::MerkleHashSource {
 public:
  void add(unsigned tile_level, std::uint64_t index, const Sha256Digest& hash) {
    hashes_[{tile_level, index}] = hash;
  }
  Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const override {
    const unsigned tile_level = level / kTileHeight;
    const unsigned below = level % kTileHeight;
    crypto::MemoryMerkleTree subtree;
    for (std::uint64_t j = 0; j < (std::uint64_t{1} << below); ++j) {
      auto it = hashes_.find({tile_level, (index << below) + j});
      if (it == hashes_.end()) {
        return Status::error(Code::kNotFound, "no tile holds the hash at level " +
                                                  std::to_string(tile_level * kTileHeight) +
                                                  ", index " +
                                                  std::to_string((index << below) + j));
      }
      if (below == 0) return it->second;
      subtree.append_leaf_hash(it->second);
    }
    return subtree.root();
  }

 private:
  std::map<std::pair<unsigned, std::uint64_t>, Sha256Digest> hashes_;
};

}  // namespace

namespace {

// The log's key as given: 64 hex digits, or a note verifier key NAME+HASH+BASE64(0x01 || key)
// (the JSON checkpoint's note_verifier_key), whose hash must be its name's and key's.
Result<crypto::VerifyKey> log_key(const std::string& text, std::string& name) {
  name.clear();
  const auto first = text.find('+');
  if (first == std::string::npos) {
    auto key = crypto::VerifyKey::from_hex(text);
    if (!key) return Status::error(Code::kInvalidArgument, "--pubkey: " + key.message());
    return key;
  }
  const auto second = text.find('+', first + 1);
  const Status bad =
      Status::error(Code::kInvalidArgument,
                    "--pubkey: not 64 hex digits nor a note verifier key NAME+HASH+BASE64");
  if (second == std::string::npos) return bad;
  auto bytes = crypto::from_base64(std::string_view(text).substr(second + 1), "verifier key");
  if (!bytes || bytes->size() != 33 || (*bytes)[0] != kNoteEd25519) return bad;
  auto key = crypto::VerifyKey::from_bytes(std::span(*bytes).subspan(1));
  if (!key) return bad;
  name = text.substr(0, first);
  if (crypto::to_hex(note_key_hash(name, kNoteEd25519, *key)) !=
      text.substr(first + 1, second - first - 1)) {
    return Status::error(Code::kInvalidArgument,
                         "--pubkey: the verifier key's hash is not that of its name and key");
  }
  return key;
}

}  // namespace

Status verify_audit_tiles(const std::string& dir, const std::string& public_key) {
  std::string key_name;
  auto key = log_key(public_key, key_name);
  if (!key) return key.status();
  const std::string checkpoint_file = dir + "/checkpoint";
  auto text = read_whole(checkpoint_file);
  if (!text) return text.status();
  auto note = parse_note(*text);
  if (!note) return Status::error(Code::kCorrupt, checkpoint_file + ": " + note.message());
  auto body = parse_checkpoint_body(note->body);
  if (!body) return Status::error(Code::kCorrupt, checkpoint_file + ": " + body.message());
  if (!key_name.empty() && key_name != body->origin) {
    return Status::error(Code::kCorrupt,
                         checkpoint_file + ": its origin is not the verifier key's name");
  }
  if (Status s = verify_note(*note, body->origin, *key); !s.is_ok()) {
    return Status::error(Code::kCorrupt,
                         checkpoint_file + ": not signed by the log's key (" + s.message() + ")");
  }
  const std::uint64_t size = body->size;
  auto file_of = [&](const TileRef& t) { return dir + "/tile/" + tile_path(t); };

  // The entries: each bundle parsed, each leaf in place and chained, their root the signed one.
  crypto::MemoryMerkleTree tree;
  Sha256Digest prev{};
  std::uint64_t i = 0;
  std::string bundle_file = checkpoint_file;
  for (std::uint64_t k = 0; k < tile_count(size, 0); ++k) {
    const TileRef t = tile_at(size, true, 0, k);
    bundle_file = file_of(t);
    auto bundle = read_whole(bundle_file);
    if (!bundle) return bundle.status();
    auto leaves = parse_entry_bundle(*bundle);
    if (!leaves) return Status::error(Code::kCorrupt, bundle_file + ": " + leaves.message());
    if (leaves->size() != t.width) {
      return Status::error(Code::kCorrupt, bundle_file + ": holds " +
                                               std::to_string(leaves->size()) + " entries, not " +
                                               std::to_string(t.width));
    }
    for (const std::string& leaf : *leaves) {
      auto hash = check_leaf(leaf, i, prev);
      if (!hash) {
        // A broken chain at the first entry of a bundle may be the last one of the bundle before.
        return Status::error(Code::kCorrupt, bundle_file + ": " + hash.message());
      }
      prev = *hash;
      tree.append_leaf_hash(prev);
      ++i;
    }
  }
  if (tree.root() != body->root) {
    return Status::error(Code::kCorrupt,
                         bundle_file + ": the entries do not give the root of " + checkpoint_file);
  }

  // Every hash tile against the entries (level 0: each entry's leaf hash).
  TileHashSource tiles;
  for (unsigned level = 0; tile_count(size, level) > 0; ++level) {
    for (std::uint64_t k = 0; k < tile_count(size, level); ++k) {
      const TileRef t = tile_at(size, false, level, k);
      const std::string file = file_of(t);
      auto bytes = read_whole(file);
      if (!bytes) return bytes.status();
      if (bytes->size() != std::size_t{t.width} * 32) {
        return Status::error(Code::kCorrupt, file + ": " + std::to_string(bytes->size()) +
                                                 " bytes, not " + std::to_string(t.width) +
                                                 " hashes of 32");
      }
      for (unsigned j = 0; j < t.width; ++j) {
        Sha256Digest hash;
        std::memcpy(hash.data(), bytes->data() + std::size_t{j} * 32, 32);
        const std::uint64_t index = t.index * kTileWidth + j;
        auto expected = tree.perfect_subtree_hash(level * kTileHeight, index);
        if (!expected) return expected.status();
        if (hash != *expected) {
          return Status::error(
              Code::kCorrupt,
              file + ": hash " + std::to_string(j) +
                  (level == 0 ? " is not the leaf hash of entry " + std::to_string(index)
                              : " does not match the entries below it"));
        }
        tiles.add(level, index, hash);
      }
    }
  }
  // And the root from the tiles alone, as a verifier without the entries computes it.
  if (size > 0) {
    auto root = crypto::merkle_root(tiles, size);
    if (!root) return Status::error(Code::kCorrupt, dir + "/tile: " + root.message());
    if (*root != body->root) {
      return Status::error(Code::kCorrupt,
                           dir + "/tile: the tiles do not give the root of " + checkpoint_file);
    }
  }
  return Status::ok();
}

Status verify_audit_store(adapters::Database& db, const std::string& public_key_hex) {
  auto key = crypto::VerifyKey::from_hex(public_key_hex);
  if (!key) return Status::error(Code::kInvalidArgument, "public key: " + key.message());
  constexpr std::uint64_t kPage = 10000;
  crypto::MemoryMerkleTree tree;
  std::vector<Checkpoint> checkpoints;
  BRUG_RETURN_IF_ERROR(db.read([&](Stores& s) {
    tree = crypto::MemoryMerkleTree();
    checkpoints.clear();
    auto size = s.audit.size();
    if (!size) return size.status();
    Sha256Digest prev{};
    for (std::uint64_t start = 0; start < *size; start += kPage) {
      auto page = s.audit.leaves(start, std::min(*size, start + kPage));
      if (!page) return page.status();
      std::uint64_t i = start;
      for (const std::string& line : *page) {
        auto hash = check_leaf(line, i++, prev);
        if (!hash) return hash.status();
        prev = *hash;
        tree.append_leaf_hash(prev);
      }
    }
    // Every stored node, leaf hashes (level 0) included, against what the leaves give.
    for (unsigned level = 0; level < 64 && (*size >> level) > 0; level += kNodeStride) {
      for (std::uint64_t index = 0; index < (*size >> level); ++index) {
        auto stored = s.audit.node(level, index);
        auto expected = tree.perfect_subtree_hash(level, index);
        if (!expected) return expected.status();
        if (!stored || *stored != *expected) {
          return Status::error(Code::kCorrupt, "stored node (level " + std::to_string(level) +
                                                   ", index " + std::to_string(index) +
                                                   ") does not match leaves [" +
                                                   std::to_string(index << level) + ", " +
                                                   std::to_string((index + 1) << level) + ")");
        }
      }
    }
    auto rows = s.audit.checkpoints();
    if (!rows) return rows.status();
    for (const auto& r : *rows) checkpoints.push_back(checkpoint_of(r));
    return Status::ok();
  }));
  return verify_checkpoints(tree, checkpoints, *key, false);
}

}  // namespace brug::gateway
