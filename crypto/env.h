// Env: what the gateway takes from its surroundings besides storage: the clock, and random bytes
// for identifiers. Everything that stamps a time or makes an id asks an Env, so a test can fix
// the clock or the random source (LevelDB's Env is the model). Keys never come from here: key
// material always comes from libsodium's generator.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

namespace brug::crypto {

class Env {
 public:
  virtual ~Env() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
  virtual void random_bytes(std::span<std::uint8_t> out) = 0;

  // RFC 3339 UTC with milliseconds, e.g. "2026-11-22T20:53:02.715Z".
  std::string now_rfc3339();
  // The real clock and libsodium's generator; lives for the whole process.
  static Env& system();
};

std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace brug::crypto
