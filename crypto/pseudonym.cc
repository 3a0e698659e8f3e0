#include "crypto/pseudonym.h"

#include <sodium.h>

#include "crypto/encoding.h"

namespace brug::crypto {
namespace {

constexpr std::size_t kPseudonymNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kPseudonymTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kOrgKeys = 64;  // nonce key (32) || encryption key (32)
constexpr std::size_t kMaxOrgBytes = 255;
constexpr std::string_view kOrgKeyLabel = "brug/pseudonym/org/v1";

static_assert(Pseudonym::kBytes == kPseudonymNonce + ParticipantIndex::kSize + kPseudonymTag);
static_assert(kOrgKeys <= crypto_generichash_BYTES_MAX);

// Plain memory wiped on scope exit: sodium_malloc maps pages per allocation and would cost
// more than the whole pseudonym in the one-off functions.
template <std::size_t N>
struct WipedArray {
  std::array<std::uint8_t, N> bytes{};
  ~WipedArray() { sodium_memzero(bytes.data(), bytes.size()); }
};

Status check_org(std::string_view org) {
  if (org.empty() || org.size() > kMaxOrgBytes) {
    return Status::error(Code::kInvalidArgument, "organisation id must be 1 to 255 bytes");
  }
  return Status::ok();
}

// The organisation's keys: BLAKE2b-512 keyed with the pseudonym key over a label and the org id.
void derive_org_keys(const PseudonymKey& key, std::string_view org,
                     std::span<std::uint8_t, kOrgKeys> out) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.expose().data(), key.expose().size(), out.size());
  crypto_generichash_update(&st, bytes_of(kOrgKeyLabel).data(), kOrgKeyLabel.size());
  const std::uint8_t sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, bytes_of(org).data(), org.size());
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
}

// The synthetic nonce: a keyed hash of the participant index, so equal inputs give equal
// pseudonyms and different inputs (almost surely) different nonces.
void synthetic_nonce(std::span<const std::uint8_t, kOrgKeys> keys, const ParticipantIndex& p,
                     std::uint8_t* nonce) {
  crypto_generichash(nonce, kPseudonymNonce, p.bytes().data(), p.bytes().size(), keys.data(), 32);
}

// Runs `f` with the organisation's keys in a wiped stack buffer (the one-off functions).
template <class T, class F>
Result<T> with_org_keys(const PseudonymKey& key, std::string_view org, F&& f) {
  BRUG_RETURN_IF_ERROR(check_org(org));
  WipedArray<kOrgKeys> keys;
  derive_org_keys(key, org, keys.bytes);
  return f(std::span<const std::uint8_t, kOrgKeys>(keys.bytes));
}

Status not_for_org() {
  return Status::error(Code::kPermissionDenied,
                       "pseudonym was not issued to this organisation (or is damaged)");
}

}  // namespace

Result<Pseudonym> Pseudonym::parse(std::string_view text) {
  if (text.size() != kTextSize) {
    return Status::error(Code::kInvalidArgument, "pseudonym must be 96 base64url characters");
  }
  auto bytes = from_base64url(text, "pseudonym");
  if (!bytes.is_ok()) return bytes.status();
  return Pseudonym(std::string(text));
}

Pseudonym PseudonymDomain::encrypt(std::span<const std::uint8_t, 64> keys, std::string_view org,
                                   const ParticipantIndex& participant) {
  std::array<std::uint8_t, Pseudonym::kBytes> out{};  // nonce || ciphertext || tag
  synthetic_nonce(keys, participant, out.data());
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kPseudonymNonce, nullptr, participant.bytes().data(), participant.bytes().size(),
      bytes_of(org).data(), org.size(), nullptr, out.data(), keys.data() + 32);
  return Pseudonym(to_base64url(out));
}

Result<ParticipantIndex> PseudonymDomain::decrypt(std::span<const std::uint8_t, 64> keys,
                                                  std::string_view org, const Pseudonym& p) {
  auto bytes = from_base64url(p.text(), "pseudonym");
  if (!bytes.is_ok() || bytes->size() != Pseudonym::kBytes) return not_for_org();
  std::array<std::uint8_t, ParticipantIndex::kSize> index{};
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          index.data(), nullptr, nullptr, bytes->data() + kPseudonymNonce,
          bytes->size() - kPseudonymNonce, bytes_of(org).data(), org.size(), bytes->data(),
          keys.data() + 32) != 0) {
    return not_for_org();
  }
  auto participant = ParticipantIndex::from_bytes(index);
  // Only the gateway's own (synthetic) nonce is accepted, so each participant has exactly one
  // pseudonym per organisation.
  std::array<std::uint8_t, kPseudonymNonce> expected{};
  synthetic_nonce(keys, *participant, expected.data());
  if (sodium_memcmp(expected.data(), bytes->data(), kPseudonymNonce) != 0) return not_for_org();
  return participant;
}

Result<PseudonymDomain> PseudonymDomain::open(const PseudonymKey& key, std::string_view org) {
  BRUG_RETURN_IF_ERROR(check_org(org));
  auto bytes = SecretBytes::zeroed(kOrgKeys);
  if (!bytes.is_ok()) return bytes.status();
  derive_org_keys(key, org, bytes->expose_mutable().first<kOrgKeys>());
  auto keys = Keys::from_secret(std::move(bytes).value());
  if (!keys.is_ok()) return keys.status();
  return PseudonymDomain(std::move(keys).value(), std::string(org));
}

Result<Pseudonym> PseudonymDomain::pseudonym(const ParticipantIndex& participant) const {
  return encrypt(keys_.expose(), org_, participant);
}

Result<ParticipantIndex> PseudonymDomain::resolve(const Pseudonym& p) const {
  return decrypt(keys_.expose(), org_, p);
}

Result<Pseudonym> pseudonym(const PseudonymKey& key, std::string_view org,
                            const ParticipantIndex& participant) {
  return with_org_keys<Pseudonym>(key, org, [&](std::span<const std::uint8_t, kOrgKeys> keys) {
    return PseudonymDomain::encrypt(keys, org, participant);
  });
}

Result<ParticipantIndex> resolve(const PseudonymKey& key, std::string_view org,
                                 const Pseudonym& p) {
  return with_org_keys<ParticipantIndex>(key, org,
                                         [&](std::span<const std::uint8_t, kOrgKeys> keys) {
                                           return PseudonymDomain::decrypt(keys, org, p);
                                         });
}

Result<AuditPseudonym> AuditPseudonym::parse(std::string_view text) {
  if (text.size() != kTextSize || !from_base64url(text, "audit pseudonym").is_ok()) {
    return Status::error(Code::kInvalidArgument, "audit pseudonym must be 43 base64url characters");
  }
  return AuditPseudonym(std::string(text));
}

AuditPseudonym audit_pseudonym(const AuditPseudonymKey& key, const ParticipantIndex& participant) {
  std::array<std::uint8_t, 32> out{};
  crypto_generichash(out.data(), out.size(), participant.bytes().data(), participant.bytes().size(),
                     key.expose().data(), key.expose().size());
  return AuditPseudonym(to_base64url(out));
}

std::uint64_t report_record_key(const ReportNoiseKey& key, const ParticipantIndex& participant,
                                std::string_view project) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.expose().data(), key.expose().size(),
                          crypto_generichash_BYTES_MIN);
  crypto_generichash_update(&st, participant.bytes().data(), participant.bytes().size());
  crypto_generichash_update(&st, reinterpret_cast<const std::uint8_t*>(project.data()),
                            project.size());
  std::array<std::uint8_t, crypto_generichash_BYTES_MIN> out{};
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | out[i];
  return v;
}

}  // namespace brug::crypto
