// SHA-256 over bytes: content hashes (policy sets, files). Not for secrets: use keyed hashes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace brug::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> bytes);
Sha256Digest sha256(std::string_view bytes);
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace brug::crypto
