#include "crypto/secret.h"

#include <sodium.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "crypto/random.h"

namespace brug::crypto {
namespace {

// Small secrets (every key is 32 bytes) come from slabs of guarded, locked memory: one
// sodium_malloc per 64 KiB slab, 64-byte slots handed out from a free list and wiped when given
// back. A sodium_malloc per key costs an mmap, mprotect, mlock and munmap (about 40 us, most of
// a feed pull's time); a slot costs a mutex. The slab keeps the guard pages and the locking;
// what is lost is a guard page between two keys of the same slab.
class SecretArena {
 public:
  static constexpr std::size_t kSlot = 64;
  static constexpr std::size_t kSlotsPerSlab = 1024;

  static SecretArena& instance() {
    static SecretArena* arena = new SecretArena();  // never destroyed: keys outlive statics
    return *arena;
  }

  std::uint8_t* take() {
    std::lock_guard lock(mu_);
    if (free_.empty() && !grow()) return nullptr;
    std::uint8_t* p = free_.back();
    free_.pop_back();
    return p;
  }

  void give(std::uint8_t* p) {
    sodium_memzero(p, kSlot);
    std::lock_guard lock(mu_);
    free_.push_back(p);
  }

 private:
  bool grow() {
    auto* slab = static_cast<std::uint8_t*>(sodium_malloc(kSlot * kSlotsPerSlab));
    if (slab == nullptr) return false;
    sodium_memzero(slab, kSlot * kSlotsPerSlab);
    free_.reserve(free_.size() + kSlotsPerSlab);
    for (std::size_t i = kSlotsPerSlab; i-- > 0;) free_.push_back(slab + i * kSlot);
    return true;
  }

  std::mutex mu_;
  std::vector<std::uint8_t*> free_;
};

bool from_arena(std::size_t size) { return size <= SecretArena::kSlot; }

void release(std::uint8_t* p, std::size_t size) {
  if (p == nullptr) return;
  if (from_arena(size)) {
    SecretArena::instance().give(p);
  } else {
    sodium_free(p);  // wipes before releasing
  }
}

}  // namespace

Status init() {
  // Thread-safe static initialisation; -1 = failure. The random source is set before.
  static const int rc = (use_pooled_random(), sodium_init());
  if (rc < 0) return Status::error(Code::kInternal, "libsodium failed to initialise");
  return Status::ok();
}

Result<SecretBytes> SecretBytes::zeroed(std::size_t size) {
  BRUG_RETURN_IF_ERROR(init());
  auto* p = from_arena(size) ? SecretArena::instance().take()
                             : static_cast<std::uint8_t*>(sodium_malloc(size));
  if (p == nullptr) return Status::error(Code::kInternal, "out of secure memory");
  sodium_memzero(p, from_arena(size) ? SecretArena::kSlot : size);
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
    release(data_, size_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { release(data_, size_); }

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  if (a.size_ != b.size_) return false;
  if (a.size_ == 0) return true;
  return sodium_memcmp(a.data_, b.data_, a.size_) == 0;
}

}  // namespace brug::crypto
