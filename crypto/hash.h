// SHA-256 over bytes: content hashes (policy sets, files). Not for secrets: use keyed hashes.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace brug::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> bytes);
Sha256Digest sha256(std::string_view bytes);
// SHA-256 of the concatenation of `parts` (no copy into one buffer).
Sha256Digest sha256_of_parts(std::initializer_list<std::span<const std::uint8_t>> parts);
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace brug::crypto
