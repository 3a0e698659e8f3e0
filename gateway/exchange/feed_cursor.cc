#include "gateway/exchange/feed_cursor.h"

#include <sodium.h>

#include <array>
#include <span>
#include <string_view>

#include "crypto/encoding.h"

namespace brug::gateway {
namespace {

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kPosition = 8;
constexpr std::size_t kToken = kNonce + kPosition + kTag;

std::array<unsigned char, kPosition> big_endian(std::int64_t position) {
  std::array<unsigned char, kPosition> out{};
  auto v = static_cast<std::uint64_t>(position);
  for (std::size_t i = kPosition; i-- > 0; v >>= 8) out[i] = static_cast<unsigned char>(v & 0xff);
  return out;
}

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);

}  // namespace

// The cursor key, derived from the pseudonym key for this one use.
FeedCursors::FeedCursors(const crypto::KeyDir& keys, std::string recipient)
    : recipient_(std::move(recipient)), associated_data_("feed-cursor:" + recipient_) {
  constexpr std::string_view kContext = "brug feed cursor v1";
  const auto root = keys.pseudonym_key().expose();
  crypto_generichash(key_.data(), key_.size(),
                     reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(),
                     root.data(), root.size());
}

FeedCursors::~FeedCursors() { sodium_memzero(key_.data(), key_.size()); }

std::string encode_feed_cursor(const crypto::KeyDir& keys, const std::string& recipient,
                               std::int64_t position) {
  return FeedCursors(keys, recipient).encode(position);
}

std::optional<std::int64_t> decode_feed_cursor(const crypto::KeyDir& keys,
                                               const std::string& recipient,
                                               const std::string& token) {
  return FeedCursors(keys, recipient).decode(token);
}

std::string FeedCursors::encode(std::int64_t position) const {
  if (position == 0) return kFeedStart;
  const unsigned char* key = key_.data();
  const std::string& recipient = recipient_;
  const auto plain = big_endian(position);
  // A synthetic nonce (keyed hash of recipient and position): the same position gives the
  // same token, and two positions never share a nonce.
  std::array<unsigned char, kToken> token{};
  crypto_generichash_state h;
  crypto_generichash_init(&h, key, key_.size(), kNonce);
  crypto_generichash_update(&h, reinterpret_cast<const unsigned char*>(recipient.data()),
                            recipient.size());
  crypto_generichash_update(&h, plain.data(), plain.size());
  crypto_generichash_final(&h, token.data(), kNonce);
  const std::string& ad = associated_data_;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      token.data() + kNonce, nullptr, plain.data(), plain.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, token.data(), key);
  return crypto::to_base64url(token);
}

std::optional<std::int64_t> FeedCursors::decode(const std::string& token) const {
  if (token == kFeedStart) return 0;
  if (token.size() != (kToken * 4 + 2) / 3) return std::nullopt;
  auto bytes = crypto::from_base64url(token, "cursor");
  if (!bytes || bytes->size() != kToken) return std::nullopt;
  std::array<unsigned char, kPosition> plain{};
  const std::string& ad = associated_data_;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), nullptr, nullptr,
                                                 bytes->data() + kNonce, kPosition + kTag,
                                                 reinterpret_cast<const unsigned char*>(ad.data()),
                                                 ad.size(), bytes->data(), key_.data()) != 0) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (unsigned char b : plain) v = (v << 8) | b;
  if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

}  // namespace brug::gateway
