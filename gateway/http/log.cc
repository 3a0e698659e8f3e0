#include "gateway/http/log.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "crypto/env.h"

namespace brug::gateway {

std::string utc_now_rfc3339() { return crypto::rfc3339(std::chrono::system_clock::now()); }

void Logger::write(std::string_view level, std::string_view event,
                   std::initializer_list<std::pair<std::string_view, LogValue>> fields) {
  nlohmann::ordered_json j;
  j["ts"] = utc_now_rfc3339();
  j["level"] = level;
  j["event"] = event;
  for (const auto& field : fields) {
    // A lambda may not capture a structured binding before C++20 as clang 14 implements it.
    std::visit([&](const auto& v) { j[std::string(field.first)] = v; }, field.second);
  }
  // Replace invalid UTF-8 rather than throw: a log line must never take a request down.
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mu_);
  out_ << line << '\n';
  out_.flush();
}

}  // namespace brug::gateway
