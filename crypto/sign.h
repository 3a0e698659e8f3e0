// Ed25519 signatures with key ids. A key id is the first 8 bytes of SHA-256 of the public key
// in hex (16 characters), so a verifier can tell which key a signature claims before checking.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "crypto/encoding.h"
#include "crypto/keys.h"
#include "crypto/result.h"

namespace brug::crypto {

class KeyId {
 public:
  static constexpr std::size_t kHexSize = 16;
  static Result<KeyId> parse(std::string_view text);  // 16 lowercase hex digits
  const std::string& text() const { return text_; }
  friend bool operator==(const KeyId&, const KeyId&) = default;

 private:
  explicit KeyId(std::string text) : text_(std::move(text)) {}
  friend class VerifyKey;
  std::string text_;
};

class Signature {
 public:
  static constexpr std::size_t kSize = 64;
  static Result<Signature> from_bytes(const KeyId& key_id, std::span<const std::uint8_t> bytes);
  static Result<Signature> from_hex(const KeyId& key_id, std::string_view hex);
  const KeyId& key_id() const { return key_id_; }
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  std::string to_hex() const;
  friend bool operator==(const Signature&, const Signature&) = default;

 private:
  Signature(KeyId key_id, const std::array<std::uint8_t, kSize>& bytes)
      : key_id_(std::move(key_id)), bytes_(bytes) {}
  friend class SigningKey;
  KeyId key_id_;
  std::array<std::uint8_t, kSize> bytes_;
};

// An Ed25519 public key: public, so it has a hex form.
class VerifyKey {
 public:
  static constexpr std::size_t kSize = 32;
  static Result<VerifyKey> from_bytes(std::span<const std::uint8_t> bytes);
  static Result<VerifyKey> from_hex(std::string_view hex);
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  std::string to_hex() const;
  const KeyId& key_id() const { return key_id_; }
  // Ok only if `signature` names this key and is valid over exactly `message`.
  Status verify(std::span<const std::uint8_t> message, const Signature& signature) const;
  friend bool operator==(const VerifyKey& a, const VerifyKey& b) { return a.bytes_ == b.bytes_; }

 private:
  explicit VerifyKey(const std::array<std::uint8_t, kSize>& bytes);
  friend class SigningKey;
  std::array<std::uint8_t, kSize> bytes_;
  KeyId key_id_;
};

class SigningKey {
 public:
  static Result<SigningKey> generate();
  static Result<SigningKey> from_seed(const SigningSeed& seed);
  const VerifyKey& verify_key() const { return verify_key_; }
  const KeyId& key_id() const { return verify_key_.key_id(); }
  Signature sign(std::span<const std::uint8_t> message) const;

 private:
  using Secret = SecretKey<64, "Ed25519 secret key">;
  SigningKey(Secret secret, VerifyKey verify_key)
      : secret_(std::move(secret)), verify_key_(std::move(verify_key)) {}
  Secret secret_;
  VerifyKey verify_key_;
};

}  // namespace brug::crypto
