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

}  // namespace brug::adapters
