// Secret bytes and fixed-size key types: memory from sodium_malloc (guard pages, wiped on
// release), compared in constant time, never printable. A key can only be made through a
// factory that checks its size, so an invalid key cannot exist.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/result.h"

namespace brug::crypto {

// Initialises libsodium. Idempotent and thread-safe; every factory in crypto/ calls it, so
// callers need it only to fail early at start-up.
Status init();

// Owns secret bytes in sodium_malloc memory. Move-only; copy with clone().
class SecretBytes {
 public:
  static Result<SecretBytes> zeroed(std::size_t size);
  static Result<SecretBytes> random(std::size_t size);
  static Result<SecretBytes> copy_of(std::span<const std::uint8_t> bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  Result<SecretBytes> clone() const { return copy_of(expose()); }
  std::size_t size() const { return size_; }
  // The bytes themselves, for the crypto call that needs them; never for output.
  std::span<const std::uint8_t> expose() const { return {data_, size_}; }
  std::span<std::uint8_t> expose_mutable() { return {data_, size_}; }

  // Constant time in the content (sizes are not secret).
  friend bool operator==(const SecretBytes& a, const SecretBytes& b);
  friend std::ostream& operator<<(std::ostream&, const SecretBytes&) = delete;

 private:
  SecretBytes(std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// A key's purpose as a template argument: SecretKey<32, "pseudonym key">. Keys with different
// names are different types, and the name is what error messages say.
template <std::size_t L>
struct KeyName {
  constexpr KeyName(const char (&s)[L]) {  // NOLINT: implicit, to write the literal directly
    for (std::size_t i = 0; i < L; ++i) text[i] = s[i];
  }
  char text[L];
};

// A secret key of exactly N bytes.
template <std::size_t N, KeyName Name>
class SecretKey {
 public:
  static constexpr std::size_t kSize = N;

  static Result<SecretKey> from_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != N) {
      return Status::error(Code::kInvalidArgument, std::string(Name.text) + " must be " +
                                                       std::to_string(N) + " bytes, got " +
                                                       std::to_string(bytes.size()));
    }
    return wrap(SecretBytes::copy_of(bytes));
  }
  // Takes ownership of bytes already in secret memory (e.g. read from a key file).
  static Result<SecretKey> from_secret(SecretBytes bytes) {
    if (bytes.size() != N) {
      return Status::error(Code::kInvalidArgument,
                           std::string(Name.text) + " must be " + std::to_string(N) + " bytes");
    }
    return SecretKey(std::move(bytes));
  }
  static Result<SecretKey> generate() { return wrap(SecretBytes::random(N)); }

  Result<SecretKey> clone() const { return wrap(bytes_.clone()); }
  std::span<const std::uint8_t, N> expose() const {
    assert(bytes_.size() == N && "use of a moved-from key");
    return std::span<const std::uint8_t, N>(bytes_.expose().data(), N);
  }
  friend bool operator==(const SecretKey& a, const SecretKey& b) { return a.bytes_ == b.bytes_; }
  friend std::ostream& operator<<(std::ostream&, const SecretKey&) = delete;

 private:
  explicit SecretKey(SecretBytes bytes) : bytes_(std::move(bytes)) {}
  static Result<SecretKey> wrap(Result<SecretBytes> bytes) {
    if (!bytes.is_ok()) return bytes.status();
    return SecretKey(std::move(bytes).value());
  }
  SecretBytes bytes_;
};

}  // namespace brug::crypto
