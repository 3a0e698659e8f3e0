#include "crypto/pseudonym.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <memory>

#include "crypto/encoding.h"

namespace brug::crypto {
namespace {

constexpr std::size_t kSivKeyBytes = 64;  // AES-256-SIV: a CMAC key and a CTR key
constexpr std::size_t kSivTagBytes = 16;
constexpr std::size_t kMaxOrgBytes = 255;
constexpr std::string_view kOrgKeyLabel = "brug/pseudonym/org/v1";

static_assert(kSivKeyBytes <= crypto_generichash_BYTES_MAX);

// Plain memory wiped on scope exit: sodium_malloc costs a few microseconds (mmap, guard
// pages), too much for a per-call key in the disclosure path.
template <std::size_t N>
struct WipedArray {
  std::array<std::uint8_t, N> bytes{};
  ~WipedArray() { sodium_memzero(bytes.data(), bytes.size()); }
};

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_CIPHER* aes_siv() {
  // Fetched once: EVP_CIPHER_fetch walks the provider tables. Never freed (process lifetime).
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-SIV", nullptr);
  return cipher;
}

Status check_org(std::string_view org) {
  if (org.empty() || org.size() > kMaxOrgBytes) {
    return Status::error(Code::kInvalidArgument, "organisation id must be 1 to 255 bytes");
  }
  return Status::ok();
}

// Per-organisation key: BLAKE2b-512 keyed with the pseudonym key over a label and the org id.
void org_key(const PseudonymKey& key, std::string_view org, WipedArray<kSivKeyBytes>& out) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.expose().data(), key.expose().size(), out.bytes.size());
  crypto_generichash_update(&st, bytes_of(kOrgKeyLabel).data(), kOrgKeyLabel.size());
  const std::uint8_t sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, bytes_of(org).data(), org.size());
  crypto_generichash_final(&st, out.bytes.data(), out.bytes.size());
  sodium_memzero(&st, sizeof st);
}

// AES-256-SIV over `in` (32 bytes) with the org id as associated data. encrypt: `siv` is the
// output tag; decrypt: `siv` is the tag to check. Returns false on any failure.
bool siv(bool encrypt, const WipedArray<kSivKeyBytes>& key, std::string_view org,
         const std::uint8_t* in, std::uint8_t* out, std::uint8_t* tag) {
  const EVP_CIPHER* cipher = aes_siv();
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || ctx == nullptr) return false;
  int len = 0;
  const int n = static_cast<int>(ParticipantIndex::kSize);
  if (encrypt) {
    return EVP_EncryptInit_ex2(ctx.get(), cipher, key.bytes.data(), nullptr, nullptr) == 1 &&
           EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(org).data(),
                             static_cast<int>(org.size())) == 1 &&
           EVP_EncryptUpdate(ctx.get(), out, &len, in, n) == 1 && len == n &&
           EVP_EncryptFinal_ex(ctx.get(), out + len, &len) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kSivTagBytes, tag) == 1;
  }
  return EVP_DecryptInit_ex2(ctx.get(), cipher, key.bytes.data(), nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kSivTagBytes, tag) == 1 &&
         EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(org).data(),
                           static_cast<int>(org.size())) == 1 &&
         EVP_DecryptUpdate(ctx.get(), out, &len, in, n) == 1 && len == n &&
         EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
}

Status not_for_org() {
  return Status::error(Code::kPermissionDenied,
                       "pseudonym was not issued to this organisation (or is damaged)");
}

}  // namespace

Result<Pseudonym> Pseudonym::parse(std::string_view text) {
  if (text.size() != kTextSize) {
    return Status::error(Code::kInvalidArgument, "pseudonym must be 64 base64url characters");
  }
  auto bytes = from_base64url(text, "pseudonym");
  if (!bytes.is_ok()) return bytes.status();
  return Pseudonym(std::string(text));
}

Result<Pseudonym> pseudonym(const PseudonymKey& key, std::string_view org,
                            const ParticipantIndex& participant) {
  BRUG_RETURN_IF_ERROR(check_org(org));
  WipedArray<kSivKeyBytes> k;
  org_key(key, org, k);
  std::array<std::uint8_t, Pseudonym::kBytes> out{};  // tag || ciphertext (RFC 5297 order)
  if (!siv(true, k, org, participant.bytes().data(), out.data() + kSivTagBytes, out.data())) {
    ERR_clear_error();
    return Status::error(Code::kInternal, "AES-256-SIV encryption failed");
  }
  return Pseudonym(to_base64url(out));
}

Result<ParticipantIndex> resolve(const PseudonymKey& key, std::string_view org,
                                 const Pseudonym& p) {
  BRUG_RETURN_IF_ERROR(check_org(org));
  auto bytes = from_base64url(p.text(), "pseudonym");
  if (!bytes.is_ok() || bytes->size() != Pseudonym::kBytes) return not_for_org();
  WipedArray<kSivKeyBytes> k;
  org_key(key, org, k);
  std::array<std::uint8_t, ParticipantIndex::kSize> index{};
  if (!siv(false, k, org, bytes->data() + kSivTagBytes, index.data(), bytes->data())) {
    ERR_clear_error();  // a failed tag check is an answer here, not an error for later callers
    return not_for_org();
  }
  return ParticipantIndex::from_bytes(index);
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

}  // namespace brug::crypto
