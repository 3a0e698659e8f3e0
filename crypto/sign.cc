#include "crypto/sign.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace brug::crypto {

static_assert(Signature::kSize == crypto_sign_BYTES);
static_assert(VerifyKey::kSize == crypto_sign_PUBLICKEYBYTES);
static_assert(SigningSeed::kSize == crypto_sign_SEEDBYTES);
static_assert(64 == crypto_sign_SECRETKEYBYTES);

Result<KeyId> KeyId::parse(std::string_view text) {
  if (text.size() != kHexSize || !from_hex(text, "key id").is_ok()) {
    return Status::error(Code::kInvalidArgument, "key id must be 16 lowercase hex digits");
  }
  return KeyId(std::string(text));
}

Result<Signature> Signature::from_bytes(const KeyId& key_id, std::span<const std::uint8_t> bytes) {
  auto a = fixed_bytes<kSize>(bytes, "signature");
  if (!a.is_ok()) return a.status();
  return Signature(key_id, *a);
}

Result<Signature> Signature::from_hex(const KeyId& key_id, std::string_view hex) {
  auto a = fixed_from_hex<kSize>(hex, "signature");
  if (!a.is_ok()) return a.status();
  return Signature(key_id, *a);
}

std::string Signature::to_hex() const { return crypto::to_hex(bytes_); }

VerifyKey::VerifyKey(const std::array<std::uint8_t, kSize>& bytes)
    : bytes_(bytes), key_id_(crypto::to_hex(sha256(bytes)).substr(0, KeyId::kHexSize)) {}

Result<VerifyKey> VerifyKey::from_bytes(std::span<const std::uint8_t> bytes) {
  auto a = fixed_bytes<kSize>(bytes, "Ed25519 public key");
  if (!a.is_ok()) return a.status();
  return VerifyKey(*a);
}

Result<VerifyKey> VerifyKey::from_hex(std::string_view hex) {
  auto a = fixed_from_hex<kSize>(hex, "Ed25519 public key");
  if (!a.is_ok()) return a.status();
  return VerifyKey(*a);
}

std::string VerifyKey::to_hex() const { return crypto::to_hex(bytes_); }

Status VerifyKey::verify(std::span<const std::uint8_t> message, const Signature& signature) const {
  BRUG_RETURN_IF_ERROR(init());
  if (signature.key_id() != key_id_) {
    return Status::error(
        Code::kPermissionDenied,
        "signature is by key " + signature.key_id().text() + ", not by key " + key_id_.text());
  }
  if (crypto_sign_verify_detached(signature.bytes().data(), message.data(), message.size(),
                                  bytes_.data()) != 0) {
    return Status::error(Code::kPermissionDenied,
                         "signature by key " + key_id_.text() + " does not verify");
  }
  return Status::ok();
}

Result<SigningKey> SigningKey::generate() {
  auto seed = SigningSeed::generate();
  if (!seed.is_ok()) return seed.status();
  return from_seed(*seed);
}

Result<SigningKey> SigningKey::from_seed(const SigningSeed& seed) {
  auto secret = SecretBytes::zeroed(crypto_sign_SECRETKEYBYTES);
  if (!secret.is_ok()) return secret.status();
  std::array<std::uint8_t, VerifyKey::kSize> pk{};
  if (crypto_sign_seed_keypair(pk.data(), secret->expose_mutable().data(), seed.expose().data()) !=
      0) {
    return Status::error(Code::kInternal, "Ed25519 key generation failed");
  }
  auto key = Secret::from_secret(std::move(secret).value());
  if (!key.is_ok()) return key.status();
  return SigningKey(std::move(key).value(), VerifyKey(pk));
}

Signature SigningKey::sign(std::span<const std::uint8_t> message) const {
  std::array<std::uint8_t, Signature::kSize> sig{};
  // Cannot fail for a well-formed secret key, which the type guarantees.
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       secret_.expose().data());
  return Signature(verify_key_.key_id(), sig);
}

}  // namespace brug::crypto
