// What both backends share to read a feed page's rows: the kind's stored text and turning a row
// into a FeedEntry. A template over the backend's own Row type, as consent_rows.h.
#pragma once

#include <string>

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

}  // namespace brug::adapters::feed_rows
