#include <utility>

#include "adapters/feed_rows.h"
#include "adapters/sqlite/sqlite_stores.h"

namespace brug::adapters {
namespace {

SqlValue blob_or_null(const std::optional<Blob>& b) {
  if (!b) return std::monostate{};
  return *b;
}

}  // namespace

Result<std::optional<ParticipantRow>> SqliteExchangeStore::participant(const std::string& p) {
  auto rows =
      tx_.query("SELECT wrapped_key, sealed_bsn FROM participants WHERE participant = ?", {p});
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<ParticipantRow>();
  const Row& r = rows->front();
  return std::optional<ParticipantRow>(ParticipantRow{p, r.optional_blob(0), r.optional_blob(1)});
}

namespace {

// The number the next new participant gets (see migration 9); the write lock keeps it unique.
Result<std::int64_t> next_participant_no(Tx& tx) {
  auto rows = tx.query("SELECT coalesce(max(no), 0) + 1 FROM participants");
  if (!rows) return rows.status();
  return rows->front().integer(0);
}

// The referrals or feed items of one participant, through its number (referrals_by_holder,
// feed_by_holder).
constexpr const char* kHolderIs = "holder = (SELECT no FROM participants WHERE participant = ?)";

}  // namespace

Status SqliteExchangeStore::put_participant(const ParticipantRow& row, const std::string& now) {
  return put_participants({row}, now);
}

Status SqliteExchangeStore::put_participants(const std::vector<ParticipantRow>& rows,
                                             const std::string& now) {
  if (rows.empty()) return Status::ok();
  auto no = next_participant_no(tx_);
  if (!no) return no.status();
  std::vector<std::vector<SqlValue>> values;
  values.reserve(rows.size());
  for (const ParticipantRow& r : rows) {
    // One already there keeps its number; the one given here is then left unused.
    values.push_back(
        {r.participant, blob_or_null(r.wrapped_key), blob_or_null(r.sealed_bsn), now, (*no)++});
  }
  return insert_rows(
             tx_, "INSERT INTO participants (participant, wrapped_key, sealed_bsn, created_at, no)",
             5, std::move(values),
             "ON CONFLICT (participant) DO UPDATE SET wrapped_key = excluded.wrapped_key, "
             "sealed_bsn = excluded.sealed_bsn, erased_at = NULL")
      .status();
}

Result<bool> SqliteExchangeStore::erase_participant(const std::string& p, const std::string& now) {
  auto changed = tx_.exec(
      "UPDATE participants SET wrapped_key = NULL, sealed_bsn = NULL, erased_at = ? "
      "WHERE participant = ?",
      {now, p});
  if (!changed) return changed.status();
  if (*changed == 0) return false;
  // A source_ref is the sender's own reference (often a case number); the referral id keeps
  // (source_org, source_ref) unique without it.
  BRUG_RETURN_IF_ERROR(tx_.exec(std::string("UPDATE referrals SET source_ref = 'erased:' || id, "
                                            "content_hash = NULL WHERE ") +
                                    kHolderIs,
                                {p})
                           .status());
  BRUG_RETURN_IF_ERROR(
      tx_.exec("UPDATE consents SET evidence_reference = '' WHERE participant = ? AND "
               "evidence_reference <> ''",
               {p})
          .status());
  return true;
}

Result<std::optional<StoredReferral>> SqliteExchangeStore::referral_by_source(
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

Status SqliteExchangeStore::add_referral(const NewReferral& n) { return add_referrals({n}); }

Status SqliteExchangeStore::add_referrals(const std::vector<NewReferral>& referrals) {
  if (referrals.empty()) return Status::ok();
  auto last = tx_.query("SELECT coalesce(max(seq), 0) FROM referrals");
  if (!last) return last.status();
  std::vector<std::vector<SqlValue>> values;
  values.reserve(referrals.size());
  for (const NewReferral& n : referrals) {
    values.push_back({n.id, n.source_org, n.source_ref, n.participant, n.recipient, n.purpose,
                      n.sealed, n.content_hash, n.received_at, n.participant});
  }
  BRUG_RETURN_IF_ERROR(
      insert_rows(tx_,
                  "INSERT INTO referrals (id, source_org, source_ref, participant, recipient, "
                  "purpose, sealed, content_hash, received_at, holder)",
                  10, std::move(values), "",
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, "
                  "(SELECT no FROM participants WHERE participant = ?))")
          .status());
  // An outcome the project already reported about the participant now has this sender too.
  return tx_
      .exec(
          "INSERT OR IGNORE INTO outcome_routes (sender, outcome_seq) "
          "SELECT r.source_org, o.seq FROM referrals r JOIN outcomes o "
          "ON o.participant = r.participant AND o.project = r.recipient "
          "WHERE r.seq > ? AND o.sealed IS NOT NULL AND NOT EXISTS "
          "(SELECT 1 FROM feed_items f WHERE f.recipient = r.source_org AND f.ref_id = o.id)",
          {last->front().integer(0)})
      .status();
}

Result<std::vector<PendingReferral>> SqliteExchangeStore::pending_referrals(
    const std::string& recipient, std::int64_t after, std::int64_t limit) {
  auto rows = tx_.query(
      "SELECT seq, id, participant, purpose, source_org FROM referrals "
      "WHERE recipient = ? AND fed = 0 AND sealed IS NOT NULL AND seq > ? ORDER BY seq LIMIT ?",
      {recipient, after, limit});
  if (!rows) return rows.status();
  std::vector<PendingReferral> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) {
    out.push_back({r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4)});
  }
  return out;
}

Result<bool> SqliteExchangeStore::mark_fed(const std::string& id) {
  auto changed = tx_.exec(
      "UPDATE referrals SET fed = 1 WHERE id = ? AND fed = 0 AND sealed IS NOT NULL", {id});
  if (!changed) return changed.status();
  return *changed > 0;
}

Result<std::int64_t> SqliteExchangeStore::feed_referrals(const std::vector<NewFeedItem>& items) {
  std::int64_t added = 0;
  for (std::size_t first = 0, n = 0; first < items.size(); first += n) {
    n = rows_per_statement(items.size() - first);
    std::string take =
        "UPDATE referrals SET fed = 1 WHERE fed = 0 AND sealed IS NOT NULL AND id IN (?";
    std::vector<SqlValue> ids{items[first].ref_id};
    for (std::size_t i = first + 1; i < first + n; ++i) {
      take += ", ?";
      ids.emplace_back(items[i].ref_id);
    }
    take += ") RETURNING id";
    auto taken = tx_.query(take, std::move(ids));
    if (!taken) return taken.status();
    // In the order given; the holder is the referral's own (no look-up by keyed hash).
    std::vector<std::vector<SqlValue>> rows;
    for (const NewFeedItem* item : feed_rows::taken_in_order(items, first, n, *taken)) {
      rows.push_back({item->recipient, std::string(to_string(item->kind)), item->participant,
                      item->ref_id, item->purpose, item->created_at, item->ref_id});
    }
    auto in = insert_rows(tx_,
                          "INSERT OR IGNORE INTO feed_items (recipient, kind, participant, ref_id, "
                          "purpose, created_at, holder)",
                          7, std::move(rows), "",
                          "(?, ?, ?, ?, ?, ?, (SELECT holder FROM referrals WHERE id = ?))");
    if (!in) return in.status();
    added += *in;
  }
  return added;
}

Result<std::vector<std::string>> SqliteExchangeStore::referrers(const std::string& participant,
                                                                const std::string& recipient) {
  auto rows = tx_.query(std::string("SELECT DISTINCT source_org FROM referrals WHERE ") +
                            kHolderIs + " AND recipient = ? ORDER BY source_org",
                        {participant, recipient});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Result<std::vector<std::string>> SqliteExchangeStore::recipients_of(const std::string& p) {
  auto rows = tx_.query(std::string("SELECT DISTINCT recipient FROM referrals WHERE ") + kHolderIs +
                            " ORDER BY recipient",
                        {p});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Result<std::int64_t> SqliteExchangeStore::purge_referrals(
    const std::string& participant, const std::string& recipient,
    const std::optional<std::string>& purpose) {
  std::string where = std::string(kHolderIs) + " AND recipient = ?";
  std::vector<SqlValue> params = {participant, recipient};
  if (purpose) {
    where += " AND purpose = ?";
    params.push_back(*purpose);
  }
  auto had = tx_.query("SELECT COUNT(*) FROM referrals WHERE " + where, params);
  if (!had) return had.status();
  const std::int64_t count = had->front().integer(0);
  if (count > 0) {
    // Out of the recipient's feed go these referrals only (another purpose's stay).
    std::vector<SqlValue> feed_params = {recipient};
    feed_params.insert(feed_params.end(), params.begin(), params.end());
    BRUG_RETURN_IF_ERROR(
        tx_.exec("DELETE FROM feed_items WHERE recipient = ? AND kind = 'referral' AND ref_id IN "
                 "(SELECT id FROM referrals WHERE " +
                     where + ")",
                 feed_params)
            .status());
    BRUG_RETURN_IF_ERROR(
        tx_.exec("UPDATE referrals SET sealed = NULL WHERE " + where, params).status());
  }
  return count;
}

Status SqliteExchangeStore::add_outcome(const NewOutcome& n) {
  BRUG_RETURN_IF_ERROR(tx_.exec("INSERT INTO outcomes (id, project, participant, sealed, "
                                "received_at) VALUES (?, ?, ?, ?, ?)",
                                {n.id, n.project, n.participant, n.sealed, n.received_at})
                           .status());
  // It waits for every organisation that referred the participant to the project.
  return tx_
      .exec(std::string("INSERT OR IGNORE INTO outcome_routes (sender, outcome_seq) "
                        "SELECT DISTINCT source_org, (SELECT seq FROM outcomes WHERE id = ?) "
                        "FROM referrals WHERE ") +
                kHolderIs + " AND recipient = ?",
            {n.id, n.participant, n.project})
      .status();
}

Status SqliteExchangeStore::purge_outcomes(const std::string& participant) {
  BRUG_RETURN_IF_ERROR(tx_.exec("DELETE FROM outcome_routes WHERE outcome_seq IN "
                                "(SELECT seq FROM outcomes WHERE participant = ?)",
                                {participant})
                           .status());
  return tx_.exec("UPDATE outcomes SET sealed = NULL WHERE participant = ?", {participant})
      .status();
}

Result<std::vector<OutcomeForSender>> SqliteExchangeStore::outcomes_for_sender(
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
      "JOIN referrals r ON r.id = (SELECT id FROM referrals WHERE holder = p.no "
      "AND recipient = o.project AND source_org = ? ORDER BY seq LIMIT 1) "
      "WHERE o.sealed IS NOT NULL";
  std::vector<SqlValue> params = {sender};
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

Result<bool> SqliteExchangeStore::add_feed_item(const NewFeedItem& item) {
  SqlValue ref = item.ref_id.empty() ? SqlValue(std::monostate{}) : SqlValue(item.ref_id);
  auto changed = tx_.exec(
      "INSERT OR IGNORE INTO feed_items (recipient, kind, participant, ref_id, purpose, "
      "created_at, holder) VALUES (?, ?, ?, ?, ?, ?, "
      "(SELECT no FROM participants WHERE participant = ?))",
      {item.recipient, std::string(to_string(item.kind)), item.participant, ref, item.purpose,
       item.created_at, item.participant});
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

Result<std::int64_t> SqliteExchangeStore::feed_count_after(const std::string& recipient,
                                                           std::int64_t after, std::int64_t limit) {
  auto rows = tx_.query(
      "SELECT COUNT(*) FROM (SELECT 1 FROM feed_items WHERE recipient = ? AND seq > ? LIMIT ?)",
      {recipient, after, limit});
  if (!rows) return rows.status();
  return rows->front().integer(0);
}

namespace {

// A feed page: the items, each with its record and the key row of its participant (found by
// participant number, feed_by_holder's order, rather than by the keyed hash: a page's look-ups
// then walk participants_by_no nearly in order instead of all over the primary key).
constexpr const char* kFeedPage =
    "SELECT f.seq, f.kind, f.participant, f.ref_id, f.purpose, "
    "COALESCE(r.sealed, o.sealed), COALESCE(r.source_org, o.project), p.wrapped_key, "
    "p.sealed_bsn FROM feed_items f "
    "LEFT JOIN referrals r ON f.kind = 'referral' AND r.id = f.ref_id "
    "LEFT JOIN outcomes o ON f.kind = 'outcome' AND o.id = f.ref_id "
    "LEFT JOIN participants p ON p.no = f.holder "
    "WHERE f.recipient = ? AND f.seq > ? ORDER BY f.seq LIMIT ?";

}  // namespace

Result<std::vector<FeedEntry>> SqliteExchangeStore::feed_page(const std::string& recipient,
                                                              std::int64_t after,
                                                              std::int64_t limit) {
  std::vector<FeedEntry> out;
  BRUG_RETURN_IF_ERROR(feed_page_parts(recipient, after, limit,
                                       static_cast<std::size_t>(std::max<std::int64_t>(limit, 1)),
                                       [&](std::vector<FeedEntry> part) {
                                         for (FeedEntry& e : part) out.push_back(std::move(e));
                                         return Status::ok();
                                       }));
  return out;
}

Status SqliteExchangeStore::feed_page_parts(
    const std::string& recipient, std::int64_t after, std::int64_t limit, std::size_t part,
    const std::function<Status(std::vector<FeedEntry>)>& each) {
  if (part == 0) return Status::error(Code::kInvalidArgument, "feed page part of 0 entries");
  std::vector<FeedEntry> some;
  BRUG_RETURN_IF_ERROR(tx_.query_each(kFeedPage, {recipient, after, limit}, [&](Row r) {
    auto e = feed_rows::from_row(r);
    if (!e) return e.status();
    some.push_back(std::move(e).value());
    if (some.size() < part) return Status::ok();
    return each(std::exchange(some, {}));
  }));
  if (some.empty()) return Status::ok();
  return each(std::move(some));
}

Status SqliteExchangeStore::remove_feed_items(const std::string& recipient,
                                              const std::string& participant, FeedKind kind) {
  if (recipient.empty()) {
    return tx_
        .exec(std::string("DELETE FROM feed_items WHERE ") + kHolderIs + " AND kind = ?",
              {participant, std::string(to_string(kind))})
        .status();
  }
  return tx_
      .exec(std::string("DELETE FROM feed_items WHERE ") + kHolderIs +
                " AND recipient = ? AND kind = ?",
            {participant, recipient, std::string(to_string(kind))})
      .status();
}

Result<bool> SqliteExchangeStore::deletion_is_newest(const std::string& recipient,
                                                     const std::string& participant) {
  auto rows = tx_.query(std::string("SELECT kind FROM feed_items WHERE ") + kHolderIs +
                            " AND recipient = ? ORDER BY seq DESC LIMIT 1",
                        {participant, recipient});
  if (!rows) return rows.status();
  return !rows->empty() && rows->front().text(0) == "deletion";
}

Result<std::map<std::uint32_t, std::int64_t>> SqliteExchangeStore::wrapped_key_versions() {
  auto rows = tx_.query(
      "SELECT substr(wrapped_key, 1, 4), count(*) FROM participants WHERE wrapped_key IS NOT NULL "
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

Result<std::vector<WrappedKeyRow>> SqliteExchangeStore::keys_not_under(std::uint32_t version,
                                                                       const std::string& after,
                                                                       std::int64_t limit) {
  auto rows = tx_.query(
      "SELECT participant, wrapped_key FROM participants WHERE participant > ? AND "
      "wrapped_key IS NOT NULL AND substr(wrapped_key, 1, 4) <> ? ORDER BY participant LIMIT ?",
      {after, kek_version_prefix(version), limit});
  if (!rows) return rows.status();
  std::vector<WrappedKeyRow> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back({r.text(0), r.blob(1)});
  return out;
}

Result<bool> SqliteExchangeStore::replace_wrapped_key(const std::string& participant,
                                                      const Blob& old, const Blob& fresh) {
  auto changed =
      tx_.exec("UPDATE participants SET wrapped_key = ? WHERE participant = ? AND wrapped_key = ?",
               {fresh, participant, old});
  if (!changed) return changed.status();
  return *changed == 1;
}

}  // namespace brug::adapters
