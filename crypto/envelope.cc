#include "crypto/envelope.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "crypto/hash.h"

namespace brug::crypto {
namespace {

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::uint8_t kLegacyRecordFormat = 1;  // bound id, participant, type only
constexpr std::uint8_t kRecordFormat = 2;
constexpr std::string_view kWrapLabel = "brug/data-key/v1";
constexpr std::string_view kRecordLabel = "brug/record/v1";

static_assert(WrappedDataKey::kSize == 4 + kNonce + DataKey::kSize + kTag);
static_assert(kSealOverhead == 1 + kNonce + kTag);
static_assert(BoxPublicKey::kSize == crypto_box_PUBLICKEYBYTES);
static_assert(BoxSecretKey::kSize == crypto_box_SECRETKEYBYTES);
static_assert(kBoxSealOverhead == crypto_box_SEALBYTES);

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_field(std::string& out, std::string_view field) {
  put_u32(out, static_cast<std::uint32_t>(field.size()));
  out.append(field);
}

std::string_view as_text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Associated data of a wrapped key: the label, the KEK version and the participant.
std::string wrap_ad(std::uint32_t version, const ParticipantIndex& participant) {
  std::string ad(kWrapLabel);
  put_u32(ad, version);
  ad.append(as_text(participant.bytes()));
  return ad;
}

// Associated data of a sealed record: unambiguous (length-prefixed) encoding of its identity
// and addressing. Format 1 stops after the type.
Result<std::string> record_ad(const RecordBinding& b, std::uint8_t format) {
  if (b.record_id.empty() || b.record_type.empty()) {
    return Status::error(Code::kInvalidArgument, "a sealed record needs a record id and type");
  }
  for (std::string_view f : {b.record_id, b.record_type, b.sender, b.recipient, b.purpose}) {
    if (f.size() > UINT32_MAX) return Status::error(Code::kInvalidArgument, "binding too long");
  }
  std::string ad(kRecordLabel);
  ad.push_back(static_cast<char>(format));
  put_field(ad, b.record_id);
  ad.append(as_text(b.participant.bytes()));
  put_field(ad, b.record_type);
  if (format == kLegacyRecordFormat) return ad;
  put_field(ad, b.sender);
  put_field(ad, b.recipient);
  put_field(ad, b.purpose);
  return ad;
}

const std::uint8_t* ad_bytes(const std::string& ad) {
  return reinterpret_cast<const std::uint8_t*>(ad.data());
}

}  // namespace

Result<WrappedDataKey> WrappedDataKey::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) {
    return Status::error(Code::kCorrupt, "wrapped data key must be " + std::to_string(kSize) +
                                             " bytes, got " + std::to_string(bytes.size()));
  }
  std::array<std::uint8_t, kSize> a{};
  std::copy(bytes.begin(), bytes.end(), a.begin());
  WrappedDataKey w(a);
  if (w.kek_version() == 0) return Status::error(Code::kCorrupt, "wrapped data key has version 0");
  return w;
}

std::uint32_t WrappedDataKey::kek_version() const {
  return std::uint32_t{bytes_[0]} << 24 | std::uint32_t{bytes_[1]} << 16 |
         std::uint32_t{bytes_[2]} << 8 | std::uint32_t{bytes_[3]};
}

Result<WrappedDataKey> wrap_data_key(const KekRing& keks, const ParticipantIndex& participant,
                                     const DataKey& key) {
  BRUG_RETURN_IF_ERROR(init());
  std::uint32_t version = keks.current_version();
  const Kek* kek = keks.find(version);
  if (kek == nullptr) {
    return Status::error(Code::kFailedPrecondition, "no key-encryption key to wrap with");
  }
  std::array<std::uint8_t, WrappedDataKey::kSize> out{};
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(version >> (24 - 8 * i));
  std::uint8_t* nonce = out.data() + 4;
  randombytes_buf(nonce, kNonce);
  const std::string ad = wrap_ad(version, participant);
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, nullptr, key.expose().data(),
                                             key.expose().size(), ad_bytes(ad), ad.size(), nullptr,
                                             nonce, kek->expose().data());
  return WrappedDataKey(out);
}

Result<DataKey> unwrap_data_key(const KekRing& keks, const ParticipantIndex& participant,
                                const WrappedDataKey& wrapped) {
  BRUG_RETURN_IF_ERROR(init());
  std::uint32_t version = wrapped.kek_version();
  const Kek* kek = keks.find(version);
  if (kek == nullptr) {
    return Status::error(Code::kNotFound, "data key is wrapped by KEK version " +
                                              std::to_string(version) +
                                              ", which the key dir does not have");
  }
  auto plain = SecretBytes::zeroed(DataKey::kSize);
  if (!plain.is_ok()) return plain.status();
  const std::uint8_t* nonce = wrapped.bytes().data() + 4;
  const std::string ad = wrap_ad(version, participant);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain->expose_mutable().data(), nullptr, nullptr, nonce + kNonce, DataKey::kSize + kTag,
          ad_bytes(ad), ad.size(), nonce, kek->expose().data()) != 0) {
    return Status::error(Code::kCorrupt,
                         "wrapped data key does not open (damaged or not this participant's)");
  }
  return DataKey::from_secret(std::move(plain).value());
}

Result<WrappedDataKey> rewrap_data_key(const KekRing& keks, const ParticipantIndex& participant,
                                       const WrappedDataKey& wrapped) {
  auto key = unwrap_data_key(keks, participant, wrapped);
  if (!key.is_ok()) return key.status();
  if (wrapped.kek_version() == keks.current_version()) return wrapped;
  return wrap_data_key(keks, participant, *key);
}

Result<std::vector<std::uint8_t>> seal_record(const DataKey& key, const RecordBinding& binding,
                                              std::span<const std::uint8_t> plaintext) {
  BRUG_RETURN_IF_ERROR(init());
  auto ad = record_ad(binding, kRecordFormat);
  if (!ad.is_ok()) return ad.status();
  std::vector<std::uint8_t> out(kSealOverhead + plaintext.size());
  out[0] = kRecordFormat;
  std::uint8_t* nonce = out.data() + 1;
  randombytes_buf(nonce, kNonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, nullptr, plaintext.data(),
                                             plaintext.size(), ad_bytes(*ad), ad->size(), nullptr,
                                             nonce, key.expose().data());
  return out;
}

Result<std::vector<std::uint8_t>> open_record(const DataKey& key, const RecordBinding& binding,
                                              std::span<const std::uint8_t> sealed) {
  BRUG_RETURN_IF_ERROR(init());
  if (sealed.size() < kSealOverhead) {
    return Status::error(Code::kCorrupt, "sealed record is truncated");
  }
  if (sealed[0] != kRecordFormat && sealed[0] != kLegacyRecordFormat) {
    return Status::error(Code::kCorrupt, "sealed record has an unknown format");
  }
  auto ad = record_ad(binding, sealed[0]);
  if (!ad.is_ok()) return ad.status();
  const std::uint8_t* nonce = sealed.data() + 1;
  std::vector<std::uint8_t> out(sealed.size() - kSealOverhead);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), nullptr, nullptr, nonce + kNonce,
                                                 sealed.size() - 1 - kNonce, ad_bytes(*ad),
                                                 ad->size(), nonce, key.expose().data()) != 0) {
    return Status::error(Code::kCorrupt,
                         "sealed record does not open (wrong key, wrong row or altered)");
  }
  return out;
}

Result<BoxPublicKey> BoxPublicKey::from_bytes(std::span<const std::uint8_t> bytes) {
  auto a = fixed_bytes<kSize>(bytes, "X25519 public key");
  if (!a.is_ok()) return a.status();
  return BoxPublicKey(*a);
}

Result<BoxPublicKey> BoxPublicKey::from_hex(std::string_view hex) {
  auto a = fixed_from_hex<kSize>(hex, "X25519 public key");
  if (!a.is_ok()) return a.status();
  return BoxPublicKey(*a);
}

std::string BoxPublicKey::to_hex() const { return crypto::to_hex(bytes_); }

Result<BoxKeyPair> BoxKeyPair::generate() {
  auto sk = BoxSecretKey::generate();
  if (!sk.is_ok()) return sk.status();
  return from_secret(std::move(sk).value());
}

Result<BoxKeyPair> BoxKeyPair::from_secret(BoxSecretKey secret) {
  std::array<std::uint8_t, BoxPublicKey::kSize> pk{};
  if (crypto_scalarmult_base(pk.data(), secret.expose().data()) != 0) {
    return Status::error(Code::kInvalidArgument, "X25519 secret key is not usable");
  }
  return BoxKeyPair(BoxPublicKey(pk), std::move(secret));
}

Result<std::vector<std::uint8_t>> seal_to(const BoxPublicKey& recipient,
                                          std::span<const std::uint8_t> message) {
  BRUG_RETURN_IF_ERROR(init());
  std::vector<std::uint8_t> out(message.size() + kBoxSealOverhead);
  if (crypto_box_seal(out.data(), message.data(), message.size(), recipient.bytes().data()) != 0) {
    return Status::error(Code::kInvalidArgument, "cannot seal to this X25519 public key");
  }
  return out;
}

Result<std::vector<std::uint8_t>> open_sealed(const BoxKeyPair& recipient,
                                              std::span<const std::uint8_t> sealed) {
  BRUG_RETURN_IF_ERROR(init());
  if (sealed.size() < kBoxSealOverhead) {
    return Status::error(Code::kCorrupt, "sealed delivery is truncated");
  }
  std::vector<std::uint8_t> out(sealed.size() - kBoxSealOverhead);
  if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(),
                           recipient.public_key().bytes().data(),
                           recipient.secret_key().expose().data()) != 0) {
    return Status::error(Code::kCorrupt, "sealed delivery does not open with this key");
  }
  return out;
}

}  // namespace brug::crypto
