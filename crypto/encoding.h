// Text forms of public byte strings: lowercase hex and base64url without padding. Strict: a
// decoder accepts only the canonical form, so one value has exactly one text.
#pragma once

#include <array>
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
// Decodes exactly out.size() bytes of lowercase hex into `out`; false (and `out` undefined) for
// any other length or a byte that is not a lowercase hex digit. Allocates nothing.
bool hex_into(std::string_view hex, std::span<std::uint8_t> out);

// Exactly N bytes, or an error saying "<what> must be N bytes".
template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_bytes(std::span<const std::uint8_t> bytes,
                                                std::string_view what) {
  if (bytes.size() != N) {
    return Status::error(Code::kInvalidArgument,
                         std::string(what) + " must be " + std::to_string(N) + " bytes");
  }
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = bytes[i];
  return out;
}

// Exactly N bytes written as 2N lowercase hex digits.
template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_from_hex(std::string_view hex, std::string_view what) {
  std::array<std::uint8_t, N> out{};
  if (hex_into(hex, out)) return out;
  auto bytes = from_hex(hex, what);  // for the error that says what is wrong
  if (!bytes.is_ok()) return bytes.status();
  return fixed_bytes<N>(*bytes, what);
}

std::string to_base64url(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> from_base64url(std::string_view text, std::string_view what);
// Standard base64 with padding (RFC 4648 section 4), as C2SP signed notes use it.
std::string to_base64(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> from_base64(std::string_view text, std::string_view what);

}  // namespace brug::crypto
