#include "crypto/bsn.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace brug::crypto {

static_assert(ParticipantIndex::kSize == crypto_generichash_BYTES);

Result<Bsn> Bsn::parse(std::string_view text) {
  // Messages describe the problem, never the digits: they end up in logs.
  if (text.size() != kDigits && text.size() != kDigits - 1) {
    return Status::error(Code::kInvalidArgument, "BSN must have 8 or 9 digits");
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::error(Code::kInvalidArgument, "BSN may contain only digits");
  }
  std::array<char, kDigits> d{};
  d.fill('0');
  std::copy(text.begin(), text.end(), d.begin() + (kDigits - text.size()));
  int sum = 0;
  for (std::size_t i = 0; i + 1 < kDigits; ++i) sum += static_cast<int>(kDigits - i) * (d[i] - '0');
  sum -= d[kDigits - 1] - '0';
  bool all_zero = std::all_of(d.begin(), d.end(), [](char c) { return c == '0'; });
  Bsn out(d);
  sodium_memzero(d.data(), d.size());
  if (all_zero) return Status::error(Code::kInvalidArgument, "BSN may not be all zeros");
  if (sum % 11 != 0) return Status::error(Code::kInvalidArgument, "BSN fails the elfproef");
  return out;
}

Bsn::~Bsn() { sodium_memzero(digits_.data(), digits_.size()); }

Result<ParticipantIndex> ParticipantIndex::from_bytes(std::span<const std::uint8_t> bytes) {
  auto a = fixed_bytes<kSize>(bytes, "participant index");
  if (!a.is_ok()) return a.status();
  return ParticipantIndex(*a);
}

Result<ParticipantIndex> ParticipantIndex::from_hex(std::string_view hex) {
  auto a = fixed_from_hex<kSize>(hex, "participant index");
  if (!a.is_ok()) return a.status();
  return ParticipantIndex(*a);
}

std::string ParticipantIndex::to_hex() const { return crypto::to_hex(bytes_); }

ParticipantIndex participant_index(const ParticipantIndexKey& key, const Bsn& bsn) {
  std::array<std::uint8_t, ParticipantIndex::kSize> out{};
  std::string_view digits = bsn.digits();
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const std::uint8_t*>(digits.data()),
                     digits.size(), key.expose().data(), key.expose().size());
  return ParticipantIndex(out);
}

}  // namespace brug::crypto
