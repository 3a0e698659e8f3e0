// Random bytes for libsodium (keys, nonces, ids) from the kernel's getrandom(), fetched 4 KiB at
// a time per thread instead of one system call per request: in the VM this runs on a system
// call costs several microseconds, and a pushed referral needs about two (its data key and
// nonces). The bytes are the kernel's own; a byte handed out is wiped from the pool at once, so
// the pool only ever holds bytes not yet used. A forked child drops what it inherited.
#include "crypto/random.h"

#include <pthread.h>
#include <sodium.h>
#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace brug::crypto {
namespace {

constexpr std::size_t kPool = 4096;

// The kernel's bytes, or the end of the process: there is no safe way on without them.
void from_kernel(std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::abort();
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

struct Pool {
  std::uint8_t bytes[kPool];
  std::size_t left = 0;  // the unused bytes are the last `left` of `bytes`
  ~Pool() { drop(); }
  void drop() {
    sodium_memzero(bytes, sizeof bytes);
    left = 0;
  }
};

thread_local Pool pool;

void pool_buf(void* const out, const std::size_t size) {
  auto* o = static_cast<std::uint8_t*>(out);
  std::size_t n = size;
  if (n >= kPool / 4) {
    from_kernel(o, n);
    return;
  }
  while (n > 0) {
    if (pool.left == 0) {
      from_kernel(pool.bytes, kPool);
      pool.left = kPool;
    }
    const std::size_t take = n < pool.left ? n : pool.left;
    std::uint8_t* src = pool.bytes + (kPool - pool.left);
    std::memcpy(o, src, take);
    sodium_memzero(src, take);
    pool.left -= take;
    o += take;
    n -= take;
  }
}

std::uint32_t pool_random() {
  std::uint32_t v;
  pool_buf(&v, sizeof v);
  return v;
}

const char* pool_name() { return "brug-getrandom-pool"; }
void pool_stir() {}
int pool_close() {
  pool.drop();
  return 0;
}

void drop_in_child() { pool.drop(); }

randombytes_implementation kPooled = {pool_name, pool_random, pool_stir,
                                      nullptr,   pool_buf,    pool_close};

}  // namespace

void use_pooled_random() {
  static const bool done = [] {
    pthread_atfork(nullptr, nullptr, drop_in_child);
    randombytes_set_implementation(&kPooled);
    return true;
  }();
  (void)done;
}

}  // namespace brug::crypto
