#include "gateway/log.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace brug::gateway {

std::string utc_now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

void Logger::write(std::string_view level, std::string_view event,
                   std::initializer_list<std::pair<std::string_view, LogValue>> fields) {
  nlohmann::ordered_json j;
  j["ts"] = utc_now_rfc3339();
  j["level"] = level;
  j["event"] = event;
  for (const auto& [key, value] : fields) {
    std::visit([&](const auto& v) { j[std::string(key)] = v; }, value);
  }
  // Replace invalid UTF-8 rather than throw: a log line must never take a request down.
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mu_);
  out_ << line << '\n';
  out_.flush();
}

}  // namespace brug::gateway
