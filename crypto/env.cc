#include "crypto/env.h"

#include <sodium.h>

#include <cstdio>
#include <ctime>

namespace brug::crypto {
namespace {

class SystemEnv final : public Env {
 public:
  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now(); }
  void random_bytes(std::span<std::uint8_t> out) override {
    randombytes_buf(out.data(), out.size());
  }
};

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::string Env::now_rfc3339() { return rfc3339(now()); }

Env& Env::system() {
  static SystemEnv env;
  return env;
}

}  // namespace brug::crypto
