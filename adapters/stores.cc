#include "adapters/stores.h"

namespace brug::adapters {

std::string_view to_string(FeedKind kind) {
  switch (kind) {
    case FeedKind::kReferral:
      return "referral";
    case FeedKind::kOutcome:
      return "outcome";
    case FeedKind::kDeletion:
      return "deletion";
  }
  return "referral";
}

Result<std::vector<ParticipantRow>> ExchangeStore::participants(
    const std::vector<std::string>& participants) {
  std::vector<ParticipantRow> out;
  for (const std::string& p : participants) {
    auto row = participant(p);
    if (!row) return row.status();
    if (*row) out.push_back(std::move(**row));
  }
  return out;
}

Status ExchangeStore::put_participants(const std::vector<ParticipantRow>& rows,
                                       const std::string& now) {
  for (const ParticipantRow& r : rows) BRUG_RETURN_IF_ERROR(put_participant(r, now));
  return Status::ok();
}

Result<std::vector<std::pair<std::string, StoredReferral>>> ExchangeStore::referrals_by_source(
    const std::string& source_org, const std::vector<std::string>& source_refs) {
  std::vector<std::pair<std::string, StoredReferral>> out;
  for (const std::string& ref : source_refs) {
    auto found = referral_by_source(source_org, ref);
    if (!found) return found.status();
    if (*found) out.emplace_back(ref, std::move(**found));
  }
  return out;
}

Status ExchangeStore::add_referrals(const std::vector<NewReferral>& referrals) {
  for (const NewReferral& r : referrals) BRUG_RETURN_IF_ERROR(add_referral(r));
  return Status::ok();
}

Result<std::int64_t> ExchangeStore::feed_referrals(const std::vector<NewFeedItem>& items) {
  std::int64_t added = 0;
  for (const NewFeedItem& item : items) {
    auto taken = mark_fed(item.ref_id);
    if (!taken) return taken.status();
    if (!*taken) continue;
    auto in = add_feed_item(item);
    if (!in) return in.status();
    if (*in) ++added;
  }
  return added;
}

}  // namespace brug::adapters
