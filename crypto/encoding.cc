#include "crypto/encoding.h"

#include <sodium.h>

#include <array>
#include <cstdint>

#include "crypto/secret.h"

namespace brug::crypto {
namespace {

// The value of each lowercase hex digit, -1 for every other byte.
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) {
    t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  }
  return t;
}();

int hex_value(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

Status malformed(std::string_view what, std::string_view form) {
  return Status::error(Code::kInvalidArgument,
                       std::string(what) + " is not valid " + std::string(form));
}

}  // namespace

bool hex_into(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  int bad = 0;  // any digit that is not one: its -1 sets the sign bit
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    bad |= hi | lo;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return bad >= 0;
}

Result<std::vector<std::uint8_t>> from_hex(std::string_view hex, std::string_view what) {
  if (hex.size() % 2 != 0) return malformed(what, "lowercase hex");
  std::vector<std::uint8_t> out(hex.size() / 2);
  if (!hex_into(hex, out)) return malformed(what, "lowercase hex");
  return out;
}

namespace {

std::string encode(std::span<const std::uint8_t> bytes, int variant) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

Result<std::vector<std::uint8_t>> decode(std::string_view text, std::string_view what, int variant,
                                         std::string_view form) {
  BRUG_RETURN_IF_ERROR(init());
  std::vector<std::uint8_t> out(text.size() * 3 / 4 + 1);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        variant) != 0 ||
      end != text.data() + text.size()) {
    return malformed(what, form);
  }
  out.resize(len);
  // libsodium tolerates non-zero trailing bits; insist on the canonical encoding.
  if (encode(out, variant) != text) return malformed(what, form);
  return out;
}

}  // namespace

std::string to_base64url(std::span<const std::uint8_t> bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

Result<std::vector<std::uint8_t>> from_base64url(std::string_view text, std::string_view what) {
  return decode(text, what, sodium_base64_VARIANT_URLSAFE_NO_PADDING, "base64url");
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
  return encode(bytes, sodium_base64_VARIANT_ORIGINAL);
}

Result<std::vector<std::uint8_t>> from_base64(std::string_view text, std::string_view what) {
  return decode(text, what, sodium_base64_VARIANT_ORIGINAL, "base64");
}

}  // namespace brug::crypto
