#include <algorithm>

#include "adapters/audit_search.h"
#include "adapters/sqlite/sqlite_stores.h"

namespace brug::adapters {
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

Result<std::uint64_t> SqliteAuditStore::size() {
  auto rows = tx_.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_events");
  if (!rows) return rows.status();
  return static_cast<std::uint64_t>(rows->front().integer(0));
}

Status SqliteAuditStore::add_leaves(std::vector<AuditLeafRow> leaves) {
  std::vector<std::vector<SqlValue>> rows;
  rows.reserve(leaves.size());
  for (AuditLeafRow& l : leaves) {
    rows.push_back({i64(l.index), blob_of_text(l.leaf), blob_of(l.hash), std::move(l.time),
                    std::move(l.actor), std::move(l.action), std::move(l.purpose),
                    std::move(l.subject), std::move(l.recipient), std::move(l.decision)});
  }
  return insert_rows(tx_,
                     "INSERT INTO audit_events (idx, leaf, leaf_hash, time, actor, action, "
                     "purpose, subject, recipient, decision)",
                     10, std::move(rows))
      .status();
}

Status SqliteAuditStore::add_nodes(const std::vector<AuditNodeRow>& nodes) {
  std::vector<std::vector<SqlValue>> rows;
  rows.reserve(nodes.size());
  for (const AuditNodeRow& n : nodes) {
    rows.push_back({std::int64_t{n.level}, i64(n.index), blob_of(n.hash)});
  }
  return insert_rows(tx_, "INSERT INTO audit_nodes (level, idx, hash)", 3, std::move(rows))
      .status();
}

Result<Hash> SqliteAuditStore::node(unsigned level, std::uint64_t index) {
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

Result<std::vector<std::string>> SqliteAuditStore::leaves(std::uint64_t start, std::uint64_t end) {
  auto rows = tx_.query("SELECT leaf FROM audit_events WHERE idx >= ? AND idx < ? ORDER BY idx",
                        {i64(start), i64(end)});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(text_of(r.blob(0)));
  return out;
}

Status SqliteAuditStore::add_checkpoint(const CheckpointRow& c) {
  return tx_
      .exec(
          "INSERT INTO audit_checkpoints (size, root, time, key_id, signature) VALUES "
          "(?, ?, ?, ?, ?)",
          {i64(c.size), blob_of(c.root), c.time, c.key_id, c.signature})
      .status();
}

Result<std::optional<CheckpointRow>> SqliteAuditStore::latest_checkpoint() {
  auto rows = tx_.query(std::string("SELECT ") + kCheckpointColumns +
                        " FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<CheckpointRow>();
  auto c = checkpoint_of(rows->front());
  if (!c) return c.status();
  return std::optional<CheckpointRow>(std::move(c).value());
}

Status SqliteAuditStore::add_cosignature(std::uint64_t size, const std::string& witness,
                                         const std::string& line) {
  return tx_
      .exec("INSERT OR REPLACE INTO audit_cosignatures (size, witness, line) VALUES (?, ?, ?)",
            {i64(size), witness, line})
      .status();
}

Result<std::vector<std::string>> SqliteAuditStore::cosignatures(std::uint64_t size) {
  auto rows =
      tx_.query("SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY witness", {i64(size)});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Result<std::vector<CheckpointRow>> SqliteAuditStore::checkpoints() {
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

Result<std::vector<std::pair<std::uint64_t, std::string>>> SqliteAuditStore::search(
    const AuditQuery& f) {
  auto run = [&](const std::string& sql, std::vector<SqlValue> values, audit_search::Found& out) {
    auto rows = tx_.query(sql, std::move(values));
    if (!rows) return rows.status();
    for (const Row& r : *rows) {
      out.emplace_back(static_cast<std::uint64_t>(r.integer(0)), text_of(r.blob(1)));
    }
    return Status::ok();
  };
  return audit_search::search<SqlValue>(f, run, [&] { return size(); });
}

}  // namespace brug::adapters
