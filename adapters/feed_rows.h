// What both backends share to read a feed page's rows: the kind's stored text and turning a row
// into a FeedEntry. A template over the backend's own Row type, as consent_rows.h.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "adapters/stores.h"
#include "crypto/result.h"

namespace brug::adapters::feed_rows {

inline Result<FeedKind> kind_of(const std::string& text) {
  if (text == "referral") return FeedKind::kReferral;
  if (text == "outcome") return FeedKind::kOutcome;
  if (text == "deletion") return FeedKind::kDeletion;
  return Status::error(Code::kCorrupt, "stored feed item kind");
}

// A row of the columns: seq, kind, participant, ref_id, purpose, the sealed record, its sender,
// the participant's wrapped key and sealed BSN (the last four NULL when there is none).
template <typename Row>
Result<FeedEntry> from_row(const Row& r) {
  auto kind = kind_of(r.text(1));
  if (!kind) return kind.status();
  FeedEntry e;
  e.cursor = r.integer(0);
  e.kind = *kind;
  e.participant = r.text(2);
  e.ref_id = r.optional_text(3).value_or("");
  e.purpose = r.text(4);
  e.sealed = r.optional_blob(5);
  e.from = r.optional_text(6).value_or("");
  e.holder = {e.participant, r.optional_blob(7), r.optional_blob(8)};
  return e;
}

// The items of [first, first + n) whose referrals a statement took (the ids it returned, one per
// row in column 0), in the order given and each id once: what a batch of first deliveries adds to
// the feed. An id given twice is taken by its first item, as a delivery item by item would.
template <typename Rows>
std::vector<const NewFeedItem*> taken_in_order(const std::vector<NewFeedItem>& items,
                                               std::size_t first, std::size_t n,
                                               const Rows& taken) {
  std::set<std::string> ids;
  for (const auto& r : taken) ids.insert(r.text(0));
  std::vector<const NewFeedItem*> out;
  for (std::size_t i = first; i < first + n; ++i) {
    if (ids.erase(items[i].ref_id) > 0) out.push_back(&items[i]);
  }
  return out;
}

}  // namespace brug::adapters::feed_rows
