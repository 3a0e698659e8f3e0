#include "crypto/secret.h"

#include <sodium.h>

#include <cstring>

namespace brug::crypto {

Status init() {
  static const int rc = sodium_init();  // thread-safe static initialisation; -1 = failure
  if (rc < 0) return Status::error(Code::kInternal, "libsodium failed to initialise");
  return Status::ok();
}

Result<SecretBytes> SecretBytes::zeroed(std::size_t size) {
  BRUG_RETURN_IF_ERROR(init());
  // sodium_malloc(0) may return a valid pointer or NULL; always ask for at least one byte.
  auto* p = static_cast<std::uint8_t*>(sodium_malloc(size == 0 ? 1 : size));
  if (p == nullptr) return Status::error(Code::kInternal, "out of secure memory");
  sodium_memzero(p, size == 0 ? 1 : size);
  return SecretBytes(p, size);
}

Result<SecretBytes> SecretBytes::random(std::size_t size) {
  auto out = zeroed(size);
  if (out.is_ok()) randombytes_buf(out->data_, size);
  return out;
}

Result<SecretBytes> SecretBytes::copy_of(std::span<const std::uint8_t> bytes) {
  auto out = zeroed(bytes.size());
  if (out.is_ok() && !bytes.empty()) std::memcpy(out->data_, bytes.data(), bytes.size());
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    sodium_free(data_);  // sodium_free wipes before releasing; accepts nullptr
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { sodium_free(data_); }

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  if (a.size_ != b.size_) return false;
  if (a.size_ == 0) return true;
  return sodium_memcmp(a.data_, b.data_, a.size_) == 0;
}

}  // namespace brug::crypto
