// The transforms a policy may apply to a field before it leaves: each makes a value coarser.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace brug {

enum class Transform {
  kNone,          // the value as stored
  kAgeBand,       // a birth date becomes a 5-year age band, "50-54"
  kPostcode4,     // "7071 ab" becomes "7071" (the digits of a Dutch postcode)
  kYearMonth,     // "2026-10-01" becomes "2026-10"
  kDropFreeText,  // list items outside the catalogue's vocabulary are dropped; free text is
                  // withheld
};

std::string_view to_string(Transform transform);
// The wire names: "none", "age_band", "postcode4", "year_month", "drop_free_text".
std::optional<Transform> parse_transform(std::string_view text);

// A strict calendar date "YYYY-MM-DD" (years 1000..9999); nullopt if malformed or not a real day.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
std::string format_date(std::chrono::year_month_day date);

// The 5-year band of the age in completed years on `today`, e.g. "50-54". Someone born on
// 29 February becomes a year older on 1 March in a non-leap year. nullopt if born after today.
std::optional<std::string> age_band(std::chrono::year_month_day birth,
                                    std::chrono::year_month_day today);
// The four digits of a Dutch postcode ("7071AB", "7071 ab"); nullopt if it is not one.
std::optional<std::string> postcode4(std::string_view postcode);
// "YYYY-MM" of a valid date "YYYY-MM-DD"; nullopt otherwise.
std::optional<std::string> year_month(std::string_view date);

}  // namespace brug
