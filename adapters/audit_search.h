// AuditStore::search as both backends run it: the same SQL (both bind `?` in order), a template
// over the backend's own value type, as feed_rows.h and consent_rows.h.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "adapters/stores.h"
#include "crypto/result.h"

namespace brug::adapters::audit_search {

using Found = std::vector<std::pair<std::uint64_t, std::string>>;

// `run(sql, values, out)` runs one query of (idx, leaf) rows and appends them to `out`; `size()`
// is the log's size. Events are indexed by subject within blocks of 4096 (idx >> 12, subject,
// idx): appends touch only the newest block's index pages, and a search by subject seeks once
// per block.
template <typename Value, typename Run, typename Size>
Result<Found> search(const AuditQuery& f, const Run& run, const Size& size) {
  std::string where = "1 = 1";
  std::vector<Value> params;
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
  if (f.from_index > 0) {
    where += " AND idx >= ?";
    params.push_back(static_cast<std::int64_t>(f.from_index));
  }
  Found out;
  auto collect = [&](const std::string& sql, std::vector<Value> values) {
    values.push_back(static_cast<std::int64_t>(f.limit - out.size()));
    return run(sql, std::move(values), out);
  };
  if (f.subject.empty()) {
    BRUG_RETURN_IF_ERROR(collect(
        "SELECT idx, leaf FROM audit_events WHERE " + where + " ORDER BY idx LIMIT ?", params));
    return out;
  }
  auto n = size();
  if (!n) return n.status();
  const std::string sql = "SELECT idx, leaf FROM audit_events WHERE (idx >> 12) = ? AND " + where +
                          " AND subject = ? ORDER BY idx LIMIT ?";
  for (std::uint64_t block = f.from_index >> 12; (block << 12) < *n && out.size() < f.limit;
       ++block) {
    std::vector<Value> values{static_cast<std::int64_t>(block)};
    values.insert(values.end(), params.begin(), params.end());
    values.push_back(f.subject);
    BRUG_RETURN_IF_ERROR(collect(sql, std::move(values)));
  }
  return out;
}

}  // namespace brug::adapters::audit_search
