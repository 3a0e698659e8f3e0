// Feed cursors as a recipient sees them: opaque tokens that only the gateway can make, each
// bound to the recipient it was issued to, around the store's int64 feed position
// (FeedEntry::cursor). A token that was not issued, or was issued to another organisation,
// does not decode, so no client can move its cursor past what exists or learn how far the
// positions have run.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "crypto/keydir.h"

namespace brug::gateway {

// The start of every feed: a position before any item.
inline constexpr const char* kFeedStart = "0";

// The cursors of one recipient: the cursor key is derived once (a page encodes one per item)
// and wiped when this goes.
class FeedCursors {
 public:
  FeedCursors(const crypto::KeyDir& keys, std::string recipient);
  ~FeedCursors();
  FeedCursors(const FeedCursors&) = delete;
  FeedCursors& operator=(const FeedCursors&) = delete;
  std::string encode(std::int64_t position) const;
  std::optional<std::int64_t> decode(const std::string& token) const;

 private:
  std::array<unsigned char, 32> key_{};
  std::string recipient_, associated_data_;
};

std::string encode_feed_cursor(const crypto::KeyDir& keys, const std::string& recipient,
                               std::int64_t position);
// The position of a token issued to `recipient`; none for anything else. kFeedStart is 0.
std::optional<std::int64_t> decode_feed_cursor(const crypto::KeyDir& keys,
                                               const std::string& recipient,
                                               const std::string& token);

}  // namespace brug::gateway
