#include "consent/date.h"

#include <gtest/gtest.h>

namespace brug::consent {
namespace {

TEST(Date, ParsesARealDayAndPrintsItBack) {
  auto d = Date::parse("2026-02-28");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->to_string(), "2026-02-28");
  EXPECT_EQ(d->month(), 2);
}

TEST(Date, KnowsLeapYears) {
  EXPECT_TRUE(Date::parse("2024-02-29"));
  EXPECT_FALSE(Date::parse("2026-02-29"));
  EXPECT_FALSE(Date::parse("1900-02-29"));
  EXPECT_TRUE(Date::parse("2000-02-29"));
}

TEST(Date, RejectsEverythingElse) {
  for (const char* bad :
       {"", "2026-1-01", "2026-13-01", "2026-00-10", "2026-04-31", "26-01-01", "2026/01/01",
        "2026-01-01T00:00:00Z", "1899-12-31", "abcd-ef-gh", "2026-01-0１"}) {
    EXPECT_FALSE(Date::parse(bad)) << bad;
  }
}

TEST(Date, OrdersChronologically) {
  EXPECT_LT(*Date::parse("2026-01-31"), *Date::parse("2026-02-01"));
  EXPECT_LT(*Date::parse("2025-12-31"), *Date::parse("2026-01-01"));
  EXPECT_EQ(*Date::parse("2026-05-05"), *Date::parse("2026-05-05"));
}

TEST(Date, TakesTheDayOfATimestamp) {
  auto d = Date::of_timestamp("2026-11-22T23:59:59.999Z");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->to_string(), "2026-11-22");
  EXPECT_FALSE(Date::of_timestamp("2026-11-22"));
}

}  // namespace
}  // namespace brug::consent
