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
