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

Result<std::vector<std::array<std::uint8_t, 32>>> AuditStore::nodes(const std::vector<NodeAt>& at) {
  std::vector<std::array<std::uint8_t, 32>> out;
  out.reserve(at.size());
  for (const auto& [level, index] : at) {
    auto h = node(level, index);
    if (!h) return h.status();
    out.push_back(*h);
  }
  return out;
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

Status ExchangeStore::feed_page_parts(const std::string& recipient, std::int64_t after,
                                      std::int64_t limit, std::size_t part,
                                      const std::function<Status(std::vector<FeedEntry>)>& each) {
  if (part == 0) return Status::error(Code::kInvalidArgument, "feed page part of 0 entries");
  auto page = feed_page(recipient, after, limit);
  if (!page) return page.status();
  for (std::size_t begin = 0; begin < page->size(); begin += part) {
    const std::size_t end = std::min(page->size(), begin + part);
    BRUG_RETURN_IF_ERROR(
        each(std::vector<FeedEntry>(std::make_move_iterator(page->begin() + begin),
                                    std::make_move_iterator(page->begin() + end))));
  }
  return Status::ok();
}

Blob kek_version_prefix(std::uint32_t version) {
  return {static_cast<std::uint8_t>(version >> 24), static_cast<std::uint8_t>(version >> 16),
          static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version)};
}

Result<std::uint32_t> kek_version_of_prefix(const Blob& prefix) {
  if (prefix.size() != 4) return Status::error(Code::kCorrupt, "stored wrapped key too short");
  return (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
         (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
}

}  // namespace brug::adapters
