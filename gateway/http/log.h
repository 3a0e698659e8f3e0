// One JSON object per line. Callers pass identifiers and numbers only: no request or response
// bodies, no BSN, no field values, no key material ever reaches a log line.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace brug::gateway {

using LogValue = std::variant<std::string, std::int64_t, double, bool>;

class Logger {
 public:
  explicit Logger(std::ostream& out) : out_(out) {}
  void write(std::string_view level, std::string_view event,
             std::initializer_list<std::pair<std::string_view, LogValue>> fields);
  void info(std::string_view event,
            std::initializer_list<std::pair<std::string_view, LogValue>> fields = {}) {
    write("info", event, fields);
  }
  void error(std::string_view event,
             std::initializer_list<std::pair<std::string_view, LogValue>> fields = {}) {
    write("error", event, fields);
  }

 private:
  std::mutex mu_;
  std::ostream& out_;
};

// Now, as RFC 3339 UTC with milliseconds.
std::string utc_now_rfc3339();

}  // namespace brug::gateway
