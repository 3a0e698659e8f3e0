#include "consent/date.h"

#include <cstdio>

namespace brug::consent {
namespace {

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

bool digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

}  // namespace

Result<Date> Date::parse(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-' || !digits(t.substr(0, 4)) ||
      !digits(t.substr(5, 2)) || !digits(t.substr(8, 2))) {
    return Status::error(Code::kInvalidArgument, "must be a date YYYY-MM-DD");
  }
  const int y = number(t.substr(0, 4)), m = number(t.substr(5, 2)), d = number(t.substr(8, 2));
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    return Status::error(Code::kInvalidArgument, "is not a real date");
  }
  return Date(y, m, d);
}

Result<Date> Date::of_timestamp(std::string_view rfc3339) {
  if (rfc3339.size() < 11 || rfc3339[10] != 'T') {
    return Status::error(Code::kInvalidArgument, "must be an RFC 3339 timestamp");
  }
  return parse(rfc3339.substr(0, 10));
}

std::string Date::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year_, month_, day_);
  return buf;
}

}  // namespace brug::consent
