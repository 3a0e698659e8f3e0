#include "policies/transform.h"

#include <cstdio>

#include "crypto/name_table.h"

namespace brug {
namespace {

constexpr brug::NameTable<Transform, 5> kTransforms{{
    {Transform::kNone, "none"},
    {Transform::kAgeBand, "age_band"},
    {Transform::kPostcode4, "postcode4"},
    {Transform::kYearMonth, "year_month"},
    {Transform::kDropFreeText, "drop_free_text"},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The number in text[from, from+len) if it is all digits.
std::optional<int> digits(std::string_view text, std::size_t from, std::size_t len) {
  int value = 0;
  for (std::size_t i = from; i < from + len; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::string_view to_string(Transform transform) { return brug::name_of(kTransforms, transform); }

std::optional<Transform> parse_transform(std::string_view text) {
  return brug::value_of(kTransforms, text);
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto y = digits(text, 0, 4);
  auto m = digits(text, 5, 2);
  auto d = digits(text, 8, 2);
  if (!y || !m || !d || *y < 1000) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year{*y},
                                   std::chrono::month{static_cast<unsigned>(*m)},
                                   std::chrono::day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::string format_date(std::chrono::year_month_day date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buf;
}

std::optional<std::string> age_band(std::chrono::year_month_day birth,
                                    std::chrono::year_month_day today) {
  int age = static_cast<int>(today.year()) - static_cast<int>(birth.year());
  const auto md = [](std::chrono::year_month_day d) {
    return static_cast<unsigned>(d.month()) * 100 + static_cast<unsigned>(d.day());
  };
  if (md(today) < md(birth)) --age;  // birthday not reached yet this year
  if (age < 0) return std::nullopt;
  const int low = age / 5 * 5;
  return std::to_string(low) + "-" + std::to_string(low + 4);
}

std::optional<std::string> postcode4(std::string_view postcode) {
  if (postcode.size() == 7 && postcode[4] == ' ') {
    // "7071 AB": fall through with the space removed.
  } else if (postcode.size() != 6) {
    return std::nullopt;
  }
  const std::size_t letters = postcode.size() - 2;
  if (postcode[0] == '0' || !digits(postcode, 0, 4) || !is_letter(postcode[letters]) ||
      !is_letter(postcode[letters + 1])) {
    return std::nullopt;
  }
  return std::string(postcode.substr(0, 4));
}

std::optional<std::string> year_month(std::string_view date) {
  if (!parse_date(date)) return std::nullopt;
  return std::string(date.substr(0, 7));
}

}  // namespace brug
