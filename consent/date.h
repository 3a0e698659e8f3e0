// A calendar date (YYYY-MM-DD, proleptic Gregorian), valid by construction.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "crypto/result.h"

namespace brug::consent {

class Date {
 public:
  // Accepts exactly "YYYY-MM-DD" with a real day of a year 1900..9999.
  Date() = default;  // 1970-01-01, a valid date; real ones come from parse()
  static Result<Date> parse(std::string_view text);
  // The UTC date of an RFC 3339 timestamp "YYYY-MM-DDT..." (its first ten characters).
  static Result<Date> of_timestamp(std::string_view rfc3339);

  std::string to_string() const;
  int year() const { return year_; }
  int month() const { return month_; }
  int day() const { return day_; }
  friend auto operator<=>(const Date&, const Date&) = default;

 private:
  Date(int y, int m, int d) : year_(y), month_(m), day_(d) {}
  int year_ = 1970, month_ = 1, day_ = 1;
};

}  // namespace brug::consent
