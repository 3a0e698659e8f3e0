// Where libsodium's random bytes come from (crypto/random.cc).
#pragma once

namespace brug::crypto {

// Makes libsodium take its random bytes from a per-thread pool filled by getrandom(). Called
// once by init(), before sodium_init(); idempotent.
void use_pooled_random();

}  // namespace brug::crypto
