// Text forms of public byte strings: lowercase hex and base64url without padding. Strict: a
// decoder accepts only the canonical form, so one value has exactly one text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace brug::crypto {

// Views text as bytes (for plaintexts and messages held in strings).
inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Decodes lowercase hex; `what` names the value in the error (never the input itself).
Result<std::vector<std::uint8_t>> from_hex(std::string_view hex, std::string_view what);

std::string to_base64url(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> from_base64url(std::string_view text, std::string_view what);

}  // namespace brug::crypto
