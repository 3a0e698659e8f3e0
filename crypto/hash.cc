#include "crypto/hash.h"

#include <sodium.h>

namespace brug::crypto {

Sha256Digest sha256(std::span<const std::uint8_t> bytes) {
  Sha256Digest out{};
  crypto_hash_sha256(out.data(), bytes.data(), bytes.size());
  return out;
}

Sha256Digest sha256(std::string_view bytes) {
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              bytes.size()));
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

}  // namespace brug::crypto
