// The Burgerservicenummer and the participant index derived from it. The BSN is personal
// data: it has no stream operator, its errors never quote it, and the gateway looks
// participants up by their keyed participant index instead.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/result.h"

namespace brug::crypto {

class Bsn {
 public:
  static constexpr std::size_t kDigits = 9;
  // Nine digits, or eight with the leading zero left off; must pass the elfproef
  // (9d1+8d2+...+2d8-d9 divisible by 11) and not be all zeros. No spaces or separators.
  static Result<Bsn> parse(std::string_view text);

  Bsn(const Bsn&) = default;
  Bsn& operator=(const Bsn&) = default;
  ~Bsn();  // wipes the digits

  // The nine digits, for the places that must pass the BSN on (e.g. a gemeente adapter).
  std::string_view digits() const { return {digits_.data(), digits_.size()}; }
  friend bool operator==(const Bsn&, const Bsn&) = default;
  friend std::ostream& operator<<(std::ostream&, const Bsn&) = delete;

 private:
  explicit Bsn(const std::array<char, kDigits>& digits) : digits_(digits) {}
  std::array<char, kDigits> digits_;
};

// The keyed hash of a BSN (BLAKE2b-256 under the participant index key): the lookup key for a
// participant. Without the key it cannot be recomputed from a BSN, so a leaked table of
// indexes does not reveal who is in it.
class ParticipantIndex {
 public:
  static constexpr std::size_t kSize = 32;
  static constexpr std::size_t kHexSize = 2 * kSize;
  static Result<ParticipantIndex> from_bytes(std::span<const std::uint8_t> bytes);
  static Result<ParticipantIndex> from_hex(std::string_view hex);

  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  // The storage form: 64 lowercase hex digits.
  std::string to_hex() const;
  friend auto operator<=>(const ParticipantIndex&, const ParticipantIndex&) = default;

 private:
  explicit ParticipantIndex(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  friend ParticipantIndex participant_index(const ParticipantIndexKey&, const Bsn&);
  std::array<std::uint8_t, kSize> bytes_;
};

ParticipantIndex participant_index(const ParticipantIndexKey& key, const Bsn& bsn);

}  // namespace brug::crypto
