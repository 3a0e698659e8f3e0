#include "crypto/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace brug::crypto {
namespace {

// OpenSSL's SHA-256 uses the CPU's SHA extensions where present (about 5x libsodium's portable
// code on this machine, docs/PERFORMANCE.md); the audit log hashes every event with it. The
// algorithm is fetched once and each thread keeps one context, so a hash costs no fetch and no
// allocation.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL has no SHA-256");
  return md;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Sha256Digest sha256_of_parts(std::initializer_list<std::span<const std::uint8_t>> parts) {
  thread_local DigestContext c;
  if (c.ctx == nullptr || EVP_DigestInit_ex(c.ctx, sha256_md(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 cannot start");
  }
  for (const auto& p : parts) {
    if (EVP_DigestUpdate(c.ctx, p.data(), p.size()) != 1) {
      throw std::runtime_error("SHA-256 update failed");
    }
  }
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(c.ctx, out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("SHA-256 final failed");
  }
  return out;
}

Sha256Digest sha256(std::span<const std::uint8_t> bytes) { return sha256_of_parts({bytes}); }

Sha256Digest sha256(std::string_view bytes) {
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              bytes.size()));
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

}  // namespace brug::crypto
