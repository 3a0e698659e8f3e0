#include <algorithm>

#include "adapters/feed_rows.h"
#include "adapters/key_lists.h"
#include "adapters/postgres/pg_stores.h"

namespace brug::adapters::pg {
namespace {

Value blob_or_null(const std::optional<Blob>& b) {
  if (!b) return std::monostate{};
  return *b;
}

}  // namespace

Result<std::optional<ParticipantRow>> PgExchangeStore::participant(const std::string& p) {
  auto rows =
      tx_.query("SELECT wrapped_key, sealed_bsn FROM participants WHERE participant = ?", {p});
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<ParticipantRow>();
  const Row& r = rows->front();
  return std::optional<ParticipantRow>(ParticipantRow{p, r.optional_blob(0), r.optional_blob(1)});
}

Status PgExchangeStore::put_participant(const ParticipantRow& row, const std::string& now) {
  return tx_
      .exec(
          "INSERT INTO participants (participant, wrapped_key, sealed_bsn, created_at) "
          "VALUES (?, ?, ?, ?) ON CONFLICT (participant) DO UPDATE SET "
          "wrapped_key = excluded.wrapped_key, sealed_bsn = excluded.sealed_bsn, erased_at = NULL",
          {row.participant, blob_or_null(row.wrapped_key), blob_or_null(row.sealed_bsn), now})
      .status();
}

Result<bool> PgExchangeStore::erase_participant(const std::string& p, const std::string& now) {
  auto changed = tx_.exec(
      "UPDATE participants SET wrapped_key = NULL, sealed_bsn = NULL, erased_at = ? "
      "WHERE participant = ?",
      {now, p});
  if (!changed) return changed.status();
  if (*changed == 0) return false;
  // A source_ref is the sender's own reference (often a case number); the referral id keeps
  // (source_org, source_ref) unique without it.
  BRUG_RETURN_IF_ERROR(tx_.exec("UPDATE referrals SET source_ref = 'erased:' || id, "
                                "content_hash = NULL WHERE participant = ?",
                                {p})
                           .status());
  BRUG_RETURN_IF_ERROR(
      tx_.exec("UPDATE consents SET evidence_reference = '' WHERE participant = ? AND "
               "evidence_reference <> ''",
               {p})
          .status());
  return true;
}

Result<std::optional<StoredReferral>> PgExchangeStore::referral_by_source(
    const std::string& source_org, const std::string& source_ref) {
  auto rows = tx_.query(
      "SELECT id, recipient, purpose, participant, content_hash FROM referrals "
      "WHERE source_org = ? AND source_ref = ?",
      {source_org, source_ref});
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<StoredReferral>();
  const Row& r = rows->front();
  return std::optional<StoredReferral>(
      StoredReferral{r.text(0), r.text(1), r.text(2), r.text(3), r.optional_text(4).value_or("")});
}

Status PgExchangeStore::add_referral(const NewReferral& n) {
  BRUG_RETURN_IF_ERROR(
      tx_.exec("INSERT INTO referrals (id, source_org, source_ref, participant, recipient, "
               "purpose, sealed, content_hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {n.id, n.source_org, n.source_ref, n.participant, n.recipient, n.purpose, n.sealed,
                n.content_hash, n.received_at})
          .status());
  BRUG_RETURN_IF_ERROR(
      tx_.exec("INSERT INTO referrals_unfed (id, recipient, participant, purpose, source_org) "
               "VALUES (?, ?, ?, ?, ?)",
               {n.id, n.recipient, n.participant, n.purpose, n.source_org})
          .status());
  return route_outcomes_to({n.id});
}

Result<std::vector<PendingReferral>> PgExchangeStore::pending_referrals(
    const std::string& recipient, std::int64_t after, std::int64_t limit) {
  auto rows = tx_.query(
      "SELECT seq, id, participant, purpose, source_org FROM referrals_unfed "
      "WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?",
      {recipient, after, limit});
  if (!rows) return rows.status();
  std::vector<PendingReferral> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) {
    out.push_back({r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4)});
  }
  return out;
}

Result<bool> PgExchangeStore::mark_fed(const std::string& id) {
  auto changed = tx_.exec("DELETE FROM referrals_unfed WHERE id = ?", {id});
  if (!changed) return changed.status();
  return *changed > 0;
}

Result<std::vector<std::string>> PgExchangeStore::referrers(const std::string& participant,
                                                            const std::string& recipient) {
  auto rows = tx_.query(
      "SELECT DISTINCT source_org FROM referrals WHERE participant = ? AND recipient = ? "
      "ORDER BY source_org",
      {participant, recipient});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Result<std::vector<std::string>> PgExchangeStore::recipients_of(const std::string& p) {
  auto rows = tx_.query(
      "SELECT DISTINCT recipient FROM referrals WHERE participant = ? ORDER BY recipient", {p});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Result<std::int64_t> PgExchangeStore::purge_referrals(const std::string& participant,
                                                      const std::string& recipient,
                                                      const std::optional<std::string>& purpose) {
  std::string where = "participant = ? AND recipient = ?";
  std::vector<Value> params = {participant, recipient};
  if (purpose) {
    where += " AND purpose = ?";
    params.push_back(*purpose);
  }
  auto had = tx_.query("SELECT COUNT(*) FROM referrals WHERE " + where, params);
  if (!had) return had.status();
  const std::int64_t count = had->front().integer(0);
  if (count > 0) {
    // Out of the recipient's feed go these referrals only (another purpose's stay).
    std::vector<Value> feed_params = {recipient};
    feed_params.insert(feed_params.end(), params.begin(), params.end());
    BRUG_RETURN_IF_ERROR(
        tx_.exec("DELETE FROM feed_items WHERE recipient = ? AND kind = 'referral' AND ref_id IN "
                 "(SELECT id FROM referrals WHERE " +
                     where + ")",
                 feed_params)
            .status());
    BRUG_RETURN_IF_ERROR(tx_.exec("DELETE FROM referrals_unfed WHERE id IN (SELECT id FROM "
                                  "referrals WHERE " +
                                      where + ")",
                                  params)
                             .status());
    BRUG_RETURN_IF_ERROR(
        tx_.exec("UPDATE referrals SET sealed = NULL WHERE " + where, params).status());
  }
  return count;
}

Status PgExchangeStore::add_outcome(const NewOutcome& n) {
  BRUG_RETURN_IF_ERROR(tx_.exec("INSERT INTO outcomes (id, project, participant, sealed, "
                                "received_at) VALUES (?, ?, ?, ?, ?)",
                                {n.id, n.project, n.participant, n.sealed, n.received_at})
                           .status());
  // It waits for every organisation that referred the participant to the project.
  return tx_
      .exec(
          "INSERT INTO outcome_routes (sender, outcome_seq) "
          "SELECT DISTINCT r.source_org, o.seq FROM outcomes o JOIN referrals r "
          "ON r.participant = o.participant AND r.recipient = o.project WHERE o.id = ? "
          "ON CONFLICT DO NOTHING",
          {n.id})
      .status();
}

Status PgExchangeStore::purge_outcomes(const std::string& participant) {
  BRUG_RETURN_IF_ERROR(tx_.exec("DELETE FROM outcome_routes WHERE outcome_seq IN "
                                "(SELECT seq FROM outcomes WHERE participant = ?)",
                                {participant})
                           .status());
  return tx_.exec("UPDATE outcomes SET sealed = NULL WHERE participant = ?", {participant})
      .status();
}

Result<std::vector<OutcomeForSender>> PgExchangeStore::outcomes_for_sender(
    const std::string& sender, bool undelivered) {
  // Those still to deliver are found through outcome_routes, not among every outcome stored.
  const std::string from = undelivered
                               ? "FROM outcome_routes w JOIN outcomes o ON o.seq = w.outcome_seq "
                               : "FROM outcomes o ";
  std::string sql =
      "SELECT o.seq, o.id, o.participant, o.project, o.sealed, p.wrapped_key, r.id, r.sealed, "
      "r.purpose " +
      from +
      "JOIN participants p ON p.participant = o.participant "
      "JOIN referrals r ON r.id = (SELECT id FROM referrals WHERE participant = o.participant "
      "AND recipient = o.project AND source_org = ? ORDER BY seq LIMIT 1) "
      "WHERE o.sealed IS NOT NULL";
  std::vector<Value> params = {sender};
  if (undelivered) {
    sql +=
        " AND w.sender = ? AND NOT EXISTS "
        "(SELECT 1 FROM feed_items f WHERE f.recipient = ? AND f.ref_id = o.id)";
    params.push_back(sender);
    params.push_back(sender);
  }
  sql += " ORDER BY o.seq";
  auto rows = tx_.query(sql, params);
  if (!rows) return rows.status();
  std::vector<OutcomeForSender> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) {
    out.push_back({r.integer(0), r.text(1), r.text(2), r.text(3), r.blob(4), r.optional_blob(5),
                   r.text(6), r.optional_blob(7), r.text(8)});
  }
  return out;
}

Result<bool> PgExchangeStore::add_feed_item(const NewFeedItem& item) {
  Value ref = item.ref_id.empty() ? Value(std::monostate{}) : Value(item.ref_id);
  auto changed = tx_.exec(
      "INSERT INTO feed_items (recipient, kind, participant, ref_id, purpose, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      {item.recipient, std::string(to_string(item.kind)), item.participant, ref, item.purpose,
       item.created_at});
  if (!changed) return changed.status();
  if (item.kind == FeedKind::kOutcome && *changed > 0) {
    // Delivered to this sender: it waits for it no more.
    BRUG_RETURN_IF_ERROR(tx_.exec("DELETE FROM outcome_routes WHERE sender = ? AND outcome_seq = "
                                  "(SELECT seq FROM outcomes WHERE id = ?)",
                                  {item.recipient, item.ref_id})
                             .status());
  }
  return *changed > 0;
}

Result<std::int64_t> PgExchangeStore::feed_count_after(const std::string& recipient,
                                                       std::int64_t after, std::int64_t limit) {
  auto rows = tx_.query(
      "SELECT COUNT(*) FROM (SELECT 1 FROM feed_items WHERE recipient = ? AND seq > ? LIMIT ?) AS "
      "t",
      {recipient, after, limit});
  if (!rows) return rows.status();
  return rows->front().integer(0);
}

namespace {

// A page of the feed, then one index look-up per item: each look-up is a LATERAL subquery with
// LIMIT 1, which the planner cannot turn into a join over a whole table. As plain joins, a plan
// made with statistics taken while the feed was filling chose hash joins over a scan of all
// participants and referrals: 200-340 ms a page of 1000 at 10^5 instead of 6-12 ms.
constexpr std::string_view kFeedPage =
    "SELECT f.seq, f.kind, f.participant, f.ref_id, f.purpose, "
    "COALESCE(r.sealed, o.sealed), COALESCE(r.source_org, o.project), p.wrapped_key, "
    "p.sealed_bsn FROM (SELECT seq, kind, participant, ref_id, purpose FROM feed_items "
    "WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?) f "
    "LEFT JOIN LATERAL (SELECT sealed, source_org FROM referrals "
    "WHERE f.kind = 'referral' AND id = f.ref_id LIMIT 1) r ON true "
    "LEFT JOIN LATERAL (SELECT sealed, project FROM outcomes "
    "WHERE f.kind = 'outcome' AND id = f.ref_id LIMIT 1) o ON true "
    "LEFT JOIN LATERAL (SELECT wrapped_key, sealed_bsn FROM participants "
    "WHERE participant = f.participant LIMIT 1) p ON true "
    "ORDER BY f.seq";

Status feed_entries(const std::vector<Row>& rows, std::vector<FeedEntry>& out) {
  out.reserve(out.size() + rows.size());
  for (const Row& r : rows) {
    auto e = feed_rows::from_row(r);
    if (!e) return e.status();
    out.push_back(std::move(e).value());
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<FeedEntry>> PgExchangeStore::feed_page(const std::string& recipient,
                                                          std::int64_t after, std::int64_t limit) {
  auto rows = tx_.query(kFeedPage, {recipient, after, limit});
  if (!rows) return rows.status();
  std::vector<FeedEntry> out;
  BRUG_RETURN_IF_ERROR(feed_entries(*rows, out));
  return out;
}

// The page through a cursor, `part` rows per FETCH: PostgreSQL makes the next part only when
// asked, so the caller works on one part (and may run other statements in this transaction)
// while the page is still being read, instead of waiting for all of it first.
Status PgExchangeStore::feed_page_parts(const std::string& recipient, std::int64_t after,
                                        std::int64_t limit, std::size_t part,
                                        const std::function<Status(std::vector<FeedEntry>)>& each) {
  if (part == 0) return Status::error(Code::kInvalidArgument, "feed page part of 0 entries");
  if (static_cast<std::int64_t>(part) >= limit) {
    return ExchangeStore::feed_page_parts(recipient, after, limit, part, each);
  }
  // A cursor writes nothing: through query(), which a read transaction may run.
  BRUG_RETURN_IF_ERROR(
      tx_.query("DECLARE brug_feed_page NO SCROLL CURSOR FOR " + std::string(kFeedPage),
                {recipient, after, limit})
          .status());
  const std::string fetch = "FETCH " + std::to_string(part) + " FROM brug_feed_page";
  Status read = Status::ok();
  for (;;) {
    auto rows = tx_.query(fetch);
    if (!rows) {
      read = rows.status();
      break;
    }
    if (rows->empty()) break;
    std::vector<FeedEntry> some;
    read = feed_entries(*rows, some);
    if (read.is_ok()) read = each(std::move(some));
    if (!read.is_ok() || rows->size() < part) break;
  }
  // Closed whatever the parts came to, so the transaction could read another page (after a
  // statement that failed, PostgreSQL has dropped it with the transaction; the error stays).
  const Status closed = tx_.query("CLOSE brug_feed_page").status();
  return read.is_ok() ? closed : read;
}

Status PgExchangeStore::remove_feed_items(const std::string& recipient,
                                          const std::string& participant, FeedKind kind) {
  if (recipient.empty()) {
    return tx_
        .exec("DELETE FROM feed_items WHERE participant = ? AND kind = ?",
              {participant, std::string(to_string(kind))})
        .status();
  }
  return tx_
      .exec("DELETE FROM feed_items WHERE recipient = ? AND participant = ? AND kind = ?",
            {recipient, participant, std::string(to_string(kind))})
      .status();
}

Result<bool> PgExchangeStore::deletion_is_newest(const std::string& recipient,
                                                 const std::string& participant) {
  auto rows = tx_.query(
      "SELECT kind FROM feed_items WHERE recipient = ? AND participant = ? "
      "ORDER BY seq DESC LIMIT 1",
      {recipient, participant});
  if (!rows) return rows.status();
  return !rows->empty() && rows->front().text(0) == "deletion";
}

Result<std::map<std::uint32_t, std::int64_t>> PgExchangeStore::wrapped_key_versions() {
  auto rows = tx_.query(
      "SELECT substring(wrapped_key from 1 for 4), count(*) FROM participants WHERE wrapped_key IS "
      "NOT NULL "
      "GROUP BY 1");
  if (!rows) return rows.status();
  std::map<std::uint32_t, std::int64_t> out;
  for (const Row& r : *rows) {
    auto version = kek_version_of_prefix(r.blob(0));
    if (!version) return version.status();
    out[*version] += r.integer(1);
  }
  return out;
}

Result<std::vector<WrappedKeyRow>> PgExchangeStore::keys_not_under(std::uint32_t version,
                                                                   const std::string& after,
                                                                   std::int64_t limit) {
  auto rows = tx_.query(
      "SELECT participant, wrapped_key FROM participants WHERE participant > ? AND "
      "wrapped_key IS NOT NULL AND substring(wrapped_key from 1 for 4) <> ? ORDER BY participant "
      "LIMIT ?",
      {after, kek_version_prefix(version), limit});
  if (!rows) return rows.status();
  std::vector<WrappedKeyRow> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back({r.text(0), r.blob(1)});
  return out;
}

Result<bool> PgExchangeStore::replace_wrapped_key(const std::string& participant, const Blob& old,
                                                  const Blob& fresh) {
  auto changed =
      tx_.exec("UPDATE participants SET wrapped_key = ? WHERE participant = ? AND wrapped_key = ?",
               {fresh, participant, old});
  if (!changed) return changed.status();
  return *changed == 1;
}

}  // namespace brug::adapters::pg

namespace brug::adapters::pg {

std::size_t chunk_size(std::size_t left) {
  std::size_t n = 1;
  while (n * 2 <= left && n * 2 <= kMaxChunk) n *= 2;
  return n;
}

Result<std::string> key_list(const std::vector<std::string>& keys) {
  BRUG_RETURN_IF_ERROR(refuse_control_characters(keys));
  std::string out;
  for (const std::string& k : keys) {
    if (!out.empty()) out += '\x1f';
    out += k;
  }
  return out;
}

std::string placeholders(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

Result<std::int64_t> insert_rows(Tx& tx, const std::string& head, std::size_t columns,
                                 const std::vector<std::vector<Value>>& rows,
                                 const std::string& tail) {
  const std::string one = "(" + placeholders(columns) + ")";
  std::int64_t inserted = 0;
  for (std::size_t start = 0, n = 0; start < rows.size(); start += n) {
    n = chunk_size(rows.size() - start);
    std::string sql = head;
    std::vector<Value> params;
    params.reserve(n * columns);
    for (std::size_t i = 0; i < n; ++i) {
      sql += i == 0 ? " VALUES " : ", ";
      sql += one;
      for (const Value& v : rows[start + i]) params.push_back(v);
    }
    if (!tail.empty()) sql += " " + tail;
    auto changed = tx.exec(sql, std::move(params));
    if (!changed) return changed.status();
    inserted += *changed;
  }
  return inserted;
}

namespace {

// Runs `fn(first, n)` over `size` keys in chunks (chunk_size).
template <typename Fn>
Status in_chunks(std::size_t size, Fn fn) {
  for (std::size_t start = 0, n = 0; start < size; start += n) {
    n = chunk_size(size - start);
    BRUG_RETURN_IF_ERROR(fn(start, n));
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<ParticipantRow>> PgExchangeStore::participants(
    const std::vector<std::string>& ps) {
  std::vector<ParticipantRow> out;
  if (ps.empty()) return out;
  auto list = key_list(ps);
  if (!list) return list.status();
  auto rows =
      tx_.query(std::string("SELECT participant, wrapped_key, sealed_bsn FROM participants WHERE "
                            "participant = ") +
                    kAnyKey,
                {*list});
  if (!rows) return rows.status();
  for (const Row& r : *rows) out.push_back({r.text(0), r.optional_blob(1), r.optional_blob(2)});
  return out;
}

Status PgExchangeStore::put_participants(const std::vector<ParticipantRow>& rows,
                                         const std::string& now) {
  // One statement cannot update a row twice: a batch naming a participant twice goes row by row.
  std::vector<std::string> names;
  for (const ParticipantRow& r : rows) names.push_back(r.participant);
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return ExchangeStore::put_participants(rows, now);
  }
  std::vector<std::vector<Value>> values;
  values.reserve(rows.size());
  for (const ParticipantRow& r : rows) {
    values.push_back({r.participant, blob_or_null(r.wrapped_key), blob_or_null(r.sealed_bsn), now});
  }
  return insert_rows(tx_,
                     "INSERT INTO participants (participant, wrapped_key, sealed_bsn, created_at)",
                     4, values,
                     "ON CONFLICT (participant) DO UPDATE SET wrapped_key = excluded.wrapped_key, "
                     "sealed_bsn = excluded.sealed_bsn, erased_at = NULL")
      .status();
}

Result<std::vector<std::pair<std::string, StoredReferral>>> PgExchangeStore::referrals_by_source(
    const std::string& source_org, const std::vector<std::string>& refs) {
  std::vector<std::pair<std::string, StoredReferral>> out;
  if (refs.empty()) return out;
  auto list = key_list(refs);
  if (!list) return list.status();
  auto rows = tx_.query(
      std::string("SELECT source_ref, id, recipient, purpose, participant, content_hash FROM "
                  "referrals WHERE source_org = ? AND source_ref = ") +
          kAnyKey,
      {source_org, *list});
  if (!rows) return rows.status();
  for (const Row& r : *rows) {
    out.emplace_back(r.text(0), StoredReferral{r.text(1), r.text(2), r.text(3), r.text(4),
                                               r.optional_text(5).value_or("")});
  }
  return out;
}

Status PgExchangeStore::add_referrals(const std::vector<NewReferral>& referrals) {
  std::vector<std::vector<Value>> values;
  values.reserve(referrals.size());
  for (const NewReferral& n : referrals) {
    values.push_back({n.id, n.source_org, n.source_ref, n.participant, n.recipient, n.purpose,
                      n.sealed, n.content_hash, n.received_at});
  }
  using C = Tx::Column;
  // Sent behind: PostgreSQL stores these while the waiting list below is made.
  BRUG_RETURN_IF_ERROR(tx_.copy_in_behind(
      "referrals (id, source_org, source_ref, participant, recipient, purpose, sealed, "
      "content_hash, received_at)",
      {C::kText, C::kText, C::kText, C::kText, C::kText, C::kText, C::kBytea, C::kText, C::kText},
      values));
  // Waiting for the feed, in the same order.
  std::vector<std::vector<Value>> unfed;
  unfed.reserve(referrals.size());
  for (const NewReferral& n : referrals) {
    unfed.push_back({n.id, n.recipient, n.participant, n.purpose, n.source_org});
  }
  BRUG_RETURN_IF_ERROR(tx_.copy_in("referrals_unfed (id, recipient, participant, purpose, "
                                   "source_org)",
                                   {C::kText, C::kText, C::kText, C::kText, C::kText}, unfed)
                           .status());
  std::vector<std::string> ids;
  ids.reserve(referrals.size());
  for (const NewReferral& n : referrals) ids.push_back(n.id);
  return route_outcomes_to(ids);
}

// An outcome the project already reported about a participant now also waits for the sender of
// these new referrals.
Status PgExchangeStore::route_outcomes_to(const std::vector<std::string>& referral_ids) {
  return in_chunks(referral_ids.size(), [&](std::size_t first, std::size_t n) -> Status {
    const std::vector<std::string> ids(
        referral_ids.begin() + static_cast<std::ptrdiff_t>(first),
        referral_ids.begin() + static_cast<std::ptrdiff_t>(first + n));
    auto list = key_list(ids);
    if (!list) return list.status();
    return tx_
        .exec(std::string("INSERT INTO outcome_routes (sender, outcome_seq) "
                          "SELECT r.source_org, o.seq FROM referrals r JOIN outcomes o "
                          "ON o.participant = r.participant AND o.project = r.recipient "
                          "WHERE r.id = ") +
                  kAnyKey +
                  // source_org is COLLATE "C", feed_items.recipient is not: compared in
                  // the index's collation, feed_once finds the item by both its columns.
                  " AND o.sealed IS NOT NULL AND NOT EXISTS (SELECT 1 FROM feed_items f "
                  "WHERE f.recipient = r.source_org COLLATE \"default\" AND f.ref_id = o.id) "
                  "ON CONFLICT DO NOTHING",
              {*list})
        .status();
  });
}

Result<std::int64_t> PgExchangeStore::feed_referrals(const std::vector<NewFeedItem>& items) {
  std::int64_t added = 0;
  Status s = in_chunks(items.size(), [&](std::size_t first, std::size_t n) -> Status {
    std::vector<std::string> ids;
    for (std::size_t i = first; i < first + n; ++i) ids.push_back(items[i].ref_id);
    auto list = key_list(ids);
    if (!list) return list.status();
    auto taken = tx_.query(
        std::string("DELETE FROM referrals_unfed WHERE id = ") + kAnyKey + " RETURNING id",
        {*list});
    if (!taken) return taken.status();
    // Into the feed in the order given (the feed's order), only those just taken.
    std::vector<std::vector<Value>> rows;
    for (const NewFeedItem* item : feed_rows::taken_in_order(items, first, n, *taken)) {
      rows.push_back({item->recipient, std::string(to_string(item->kind)), item->participant,
                      item->ref_id, item->purpose, item->created_at});
    }
    auto in = insert_rows(
        tx_, "INSERT INTO feed_items (recipient, kind, participant, ref_id, purpose, created_at)",
        6, rows, "ON CONFLICT DO NOTHING");
    if (!in) return in.status();
    added += *in;
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  return added;
}

}  // namespace brug::adapters::pg
