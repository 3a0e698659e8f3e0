// Envelope encryption and crypto-shredding.
//
// Each participant has a random DataKey. It is stored only wrapped by the current KEK
// (XChaCha20-Poly1305, bound to the participant and the KEK version); rotation re-wraps data
// keys without touching records. Records are sealed with XChaCha20-Poly1305 under the data key
// with everything that decides who may read them (record id, participant, record type, sender,
// recipient, purpose) as associated data, so a ciphertext moved to another row, or a row
// re-addressed to another recipient, does not open. Deleting a participant's wrapped data key
// makes every record of theirs unreadable: that is erasure (crypto-shredding).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bsn.h"
#include "crypto/encoding.h"
#include "crypto/keydir.h"
#include "crypto/keys.h"
#include "crypto/result.h"

namespace brug::crypto {

// A data key wrapped by one KEK version: version (4 bytes, big-endian) || nonce (24) ||
// ciphertext (32) || tag (16). Store bytes() as is.
class WrappedDataKey {
 public:
  static constexpr std::size_t kSize = 4 + 24 + 32 + 16;
  static Result<WrappedDataKey> from_bytes(std::span<const std::uint8_t> bytes);
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  std::uint32_t kek_version() const;
  friend bool operator==(const WrappedDataKey&, const WrappedDataKey&) = default;

 private:
  explicit WrappedDataKey(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  friend Result<WrappedDataKey> wrap_data_key(const KekRing&, const ParticipantIndex&,
                                              const DataKey&);
  std::array<std::uint8_t, kSize> bytes_;
};

// Wraps under the ring's current KEK version.
Result<WrappedDataKey> wrap_data_key(const KekRing& keks, const ParticipantIndex& participant,
                                     const DataKey& key);
// kNotFound if the KEK version is unknown; kCorrupt if the wrapped key does not authenticate
// (damaged, or wrapped for another participant).
Result<DataKey> unwrap_data_key(const KekRing& keks, const ParticipantIndex& participant,
                                const WrappedDataKey& wrapped);
// Unwraps and wraps again under the current KEK version (a copy if it is already current).
Result<WrappedDataKey> rewrap_data_key(const KekRing& keks, const ParticipantIndex& participant,
                                       const WrappedDataKey& wrapped);

// What a sealed record is bound to: opening succeeds only with exactly the same binding.
// Holds views: the strings must outlive the call it is passed to. The gateway fills sender,
// recipient and purpose from what it knows of the request (the caller, never only a column it
// reads back), so a row whose addressing was changed in the database does not open.
struct RecordBinding {
  std::string_view record_id;
  const ParticipantIndex& participant;
  std::string_view record_type;
  std::string_view sender = {};     // the organisation that sent it
  std::string_view recipient = {};  // the organisation it is for (empty: decided elsewhere)
  std::string_view purpose = {};
};

// Sealed form: format byte (1) || nonce (24) || ciphertext || tag (16). Format 2 binds the
// whole RecordBinding; format 1 (records sealed by builds before it) bound only id,
// participant and type, and still opens for the same three (docs/CRYPTO.md).
inline constexpr std::size_t kSealOverhead = 1 + 24 + 16;

Result<std::vector<std::uint8_t>> seal_record(const DataKey& key, const RecordBinding& binding,
                                              std::span<const std::uint8_t> plaintext);
// kCorrupt if the record does not open: wrong key, wrong binding, or altered bytes.
Result<std::vector<std::uint8_t>> open_record(const DataKey& key, const RecordBinding& binding,
                                              std::span<const std::uint8_t> sealed);

// Anonymous sealing to a recipient's X25519 public key (crypto_box_seal), for deliveries that
// only the recipient can open.
class BoxPublicKey {
 public:
  static constexpr std::size_t kSize = 32;
  static Result<BoxPublicKey> from_bytes(std::span<const std::uint8_t> bytes);
  static Result<BoxPublicKey> from_hex(std::string_view hex);
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  std::string to_hex() const;
  friend bool operator==(const BoxPublicKey&, const BoxPublicKey&) = default;

 private:
  explicit BoxPublicKey(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  friend class BoxKeyPair;
  std::array<std::uint8_t, kSize> bytes_;
};

using BoxSecretKey = SecretKey<32, "X25519 secret key">;

class BoxKeyPair {
 public:
  static Result<BoxKeyPair> generate();
  // Rebuilds the pair from a stored secret key.
  static Result<BoxKeyPair> from_secret(BoxSecretKey secret);
  const BoxPublicKey& public_key() const { return public_key_; }
  const BoxSecretKey& secret_key() const { return secret_key_; }

 private:
  BoxKeyPair(BoxPublicKey pk, BoxSecretKey sk)
      : public_key_(std::move(pk)), secret_key_(std::move(sk)) {}
  BoxPublicKey public_key_;
  BoxSecretKey secret_key_;
};

inline constexpr std::size_t kBoxSealOverhead = 32 + 16;

Result<std::vector<std::uint8_t>> seal_to(const BoxPublicKey& recipient,
                                          std::span<const std::uint8_t> message);
// kCorrupt if it was not sealed to this key pair or was altered.
Result<std::vector<std::uint8_t>> open_sealed(const BoxKeyPair& recipient,
                                              std::span<const std::uint8_t> sealed);

}  // namespace brug::crypto
