#include <algorithm>

#include "adapters/audit_search.h"
#include "adapters/postgres/pg_stores.h"

namespace brug::adapters::pg {
namespace {

using Hash = std::array<std::uint8_t, 32>;

Blob blob_of(const Hash& h) { return Blob(h.begin(), h.end()); }

Result<Hash> hash_of(const Blob& b) {
  if (b.size() != 32) return Status::error(Code::kCorrupt, "stored hash has the wrong size");
  Hash h{};
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

std::string text_of(const Blob& b) { return std::string(b.begin(), b.end()); }

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

Result<CheckpointRow> checkpoint_of(const Row& r) {
  auto root = hash_of(r.blob(1));
  if (!root) return root.status();
  return CheckpointRow{static_cast<std::uint64_t>(r.integer(0)), *root, r.text(2), r.text(3),
                       r.blob(4)};
}

constexpr const char* kCheckpointColumns = "size, root, time, key_id, signature";

}  // namespace

// The tree's size is the state row every write transaction holds (pg_storage.h), not
// MAX(idx) + 1: appenders in several processes take turns on it.
Result<std::uint64_t> PgAuditStore::size() {
  auto rows = tx_.query("SELECT size FROM audit_head WHERE id = 1");
  if (!rows) return rows.status();
  if (rows->empty()) return Status::error(Code::kCorrupt, "the audit head is missing");
  return static_cast<std::uint64_t>(rows->front().integer(0));
}

Status PgAuditStore::add_leaves(std::vector<AuditLeafRow> leaves) {
  if (leaves.empty()) return Status::ok();
  std::vector<std::vector<Value>> rows;
  rows.reserve(leaves.size());
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    AuditLeafRow& l = leaves[i];
    if (l.index != leaves.front().index + i) {
      return Status::error(Code::kInvalidArgument, "audit leaves must be consecutive");
    }
    rows.push_back({i64(l.index), blob_of_text(l.leaf), blob_of(l.hash), std::move(l.time),
                    std::move(l.actor), std::move(l.action), std::move(l.purpose),
                    std::move(l.subject), std::move(l.recipient), std::move(l.decision)});
  }
  // The leaves extend the tree exactly at its end, or nothing is stored.
  auto moved = tx_.exec("UPDATE audit_head SET size = ? WHERE id = 1 AND size = ?",
                        {i64(leaves.back().index + 1), i64(leaves.front().index)});
  if (!moved) return moved.status();
  if (*moved != 1) {
    return Status::error(
        Code::kFailedPrecondition,
        "audit leaf " + std::to_string(leaves.front().index) + " is not the end of the log");
  }
  // Sent behind: PostgreSQL stores these while the caller makes the next leaves.
  using C = Tx::Column;
  return tx_.copy_in_behind(
      "audit_events (idx, leaf, leaf_hash, time, actor, action, purpose, subject, recipient, "
      "decision)",
      {C::kInt8, C::kBytea, C::kBytea, C::kText, C::kText, C::kText, C::kText, C::kText, C::kText,
       C::kText},
      rows);
}

Status PgAuditStore::add_nodes(const std::vector<AuditNodeRow>& nodes) {
  std::vector<std::vector<Value>> rows;
  rows.reserve(nodes.size());
  for (const AuditNodeRow& n : nodes) {
    rows.push_back({std::int64_t{n.level}, i64(n.index), blob_of(n.hash)});
  }
  using C = Tx::Column;
  return tx_.copy_in_behind("audit_nodes (level, idx, hash)", {C::kInt4, C::kInt8, C::kBytea},
                            rows);
}

Result<Hash> PgAuditStore::node(unsigned level, std::uint64_t index) {
  auto rows = level == 0
                  ? tx_.query("SELECT leaf_hash FROM audit_events WHERE idx = ?", {i64(index)})
                  : tx_.query("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?",
                              {std::int64_t{level}, i64(index)});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::error(Code::kCorrupt, "audit tree node " + std::to_string(level) + "/" +
                                             std::to_string(index) + " is missing");
  }
  return hash_of(rows->front().blob(0));
}

// One statement for all positions: after another process appended, the right edge of the tree
// is read back with one round trip instead of one per set bit of the size.
Result<std::vector<Hash>> PgAuditStore::nodes(const std::vector<NodeAt>& at) {
  std::vector<Hash> out;
  if (at.empty()) return out;
  std::string levels;
  std::string indexes;
  for (const auto& [level, index] : at) {
    if (!levels.empty()) {
      levels += ',';
      indexes += ',';
    }
    levels += std::to_string(level);
    indexes += std::to_string(index);
  }
  auto rows = tx_.query(
      "SELECT COALESCE(n.hash, e.leaf_hash) FROM unnest(string_to_array(?, ',')::integer[], "
      "string_to_array(?, ',')::bigint[]) WITH ORDINALITY AS k(level, idx, ord) "
      "LEFT JOIN audit_nodes n ON k.level > 0 AND n.level = k.level AND n.idx = k.idx "
      "LEFT JOIN audit_events e ON k.level = 0 AND e.idx = k.idx ORDER BY k.ord",
      {levels, indexes});
  if (!rows) return rows.status();
  if (rows->size() != at.size()) {
    return Status::error(Code::kInternal, "audit tree node look-up returned the wrong row count");
  }
  out.reserve(at.size());
  for (std::size_t i = 0; i < at.size(); ++i) {
    if ((*rows)[i].is_null(0)) {
      return Status::error(Code::kCorrupt, "audit tree node " + std::to_string(at[i].first) + "/" +
                                               std::to_string(at[i].second) + " is missing");
    }
    auto h = hash_of((*rows)[i].blob(0));
    if (!h) return h.status();
    out.push_back(*h);
  }
  return out;
}

Result<std::vector<std::string>> PgAuditStore::leaves(std::uint64_t start, std::uint64_t end) {
  auto rows = tx_.query("SELECT leaf FROM audit_events WHERE idx >= ? AND idx < ? ORDER BY idx",
                        {i64(start), i64(end)});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(text_of(r.blob(0)));
  return out;
}

Status PgAuditStore::add_checkpoint(const CheckpointRow& c) {
  return tx_
      .exec(
          "INSERT INTO audit_checkpoints (size, root, time, key_id, signature) VALUES "
          "(?, ?, ?, ?, ?)",
          {i64(c.size), blob_of(c.root), c.time, c.key_id, c.signature})
      .status();
}

Result<std::optional<CheckpointRow>> PgAuditStore::latest_checkpoint() {
  auto rows = tx_.query(std::string("SELECT ") + kCheckpointColumns +
                        " FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<CheckpointRow>();
  auto c = checkpoint_of(rows->front());
  if (!c) return c.status();
  return std::optional<CheckpointRow>(std::move(c).value());
}

Result<std::vector<CheckpointRow>> PgAuditStore::checkpoints() {
  auto rows = tx_.query(std::string("SELECT ") + kCheckpointColumns +
                        " FROM audit_checkpoints ORDER BY size");
  if (!rows) return rows.status();
  std::vector<CheckpointRow> out;
  for (const Row& r : *rows) {
    auto c = checkpoint_of(r);
    if (!c) return c.status();
    out.push_back(std::move(c).value());
  }
  return out;
}

Status PgAuditStore::add_cosignature(std::uint64_t size, const std::string& witness,
                                     const std::string& line) {
  return tx_
      .exec(
          "INSERT INTO audit_cosignatures (size, witness, line) VALUES (?, ?, ?) "
          "ON CONFLICT (size, witness) DO UPDATE SET line = EXCLUDED.line",
          {i64(size), witness, line})
      .status();
}

Result<std::vector<std::string>> PgAuditStore::cosignatures(std::uint64_t size) {
  auto rows =
      tx_.query("SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY witness COLLATE \"C\"",
                {i64(size)});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> PgAuditStore::search(
    const AuditQuery& f) {
  auto run = [&](const std::string& sql, std::vector<Value> values, audit_search::Found& out) {
    auto rows = tx_.query(sql, std::move(values));
    if (!rows) return rows.status();
    for (const Row& r : *rows) {
      out.emplace_back(static_cast<std::uint64_t>(r.integer(0)), text_of(r.blob(1)));
    }
    return Status::ok();
  };
  return audit_search::search<Value>(f, run, [&] { return size(); });
}

}  // namespace brug::adapters::pg
