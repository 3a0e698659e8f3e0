#include "policies/transform.h"

#include <gtest/gtest.h>

#include "testing.h"

namespace brug {
namespace {

using testing::date;

TEST(Transform, WireNamesRoundTrip) {
  for (auto t : {Transform::kNone, Transform::kAgeBand, Transform::kPostcode4,
                 Transform::kYearMonth, Transform::kDropFreeText}) {
    EXPECT_EQ(parse_transform(to_string(t)), t);
  }
  EXPECT_FALSE(parse_transform("hash"));
}

TEST(ParseDate, AcceptsOnlyRealCalendarDaysInStrictFormat) {
  EXPECT_TRUE(parse_date("2024-02-29"));
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_date("2026-13-01"));
  EXPECT_FALSE(parse_date("2026-1-01"));
  EXPECT_FALSE(parse_date("2026-01-01T00:00"));
  EXPECT_FALSE(parse_date("20260101"));
  EXPECT_FALSE(parse_date("0999-01-01"));
  EXPECT_FALSE(parse_date("2026-0a-01"));
  EXPECT_EQ(format_date(date("2026-10-01")), "2026-10-01");
}

TEST(AgeBand, CountsTheBirthdayItselfAsReached) {
  EXPECT_EQ(age_band(date("1996-05-01"), date("2026-05-01")), "30-34");
  EXPECT_EQ(age_band(date("1996-05-02"), date("2026-05-01")), "25-29");
}

TEST(AgeBand, BandsAreFiveYearsWide) {
  EXPECT_EQ(age_band(date("1971-03-02"), date("2026-05-01")), "55-59");
  EXPECT_EQ(age_band(date("1976-05-01"), date("2026-05-01")), "50-54");
  EXPECT_EQ(age_band(date("1976-05-02"), date("2026-05-01")), "45-49");
  EXPECT_EQ(age_band(date("2026-05-01"), date("2026-05-01")), "0-4");
}

TEST(AgeBand, LeapDayBirthdayIsReachedOnFirstMarchInCommonYears) {
  // Born 2001-02-29 does not exist; born 2004-02-29 turns 20 in the leap year 2024 on the day,
  // and 25 in the common year 2029 on 1 March.
  EXPECT_EQ(age_band(date("2004-02-29"), date("2024-02-28")), "15-19");
  EXPECT_EQ(age_band(date("2004-02-29"), date("2024-02-29")), "20-24");
  EXPECT_EQ(age_band(date("2004-02-29"), date("2029-02-28")), "20-24");
  EXPECT_EQ(age_band(date("2004-02-29"), date("2029-03-01")), "25-29");
}

TEST(AgeBand, RefusesABirthDateAfterToday) {
  EXPECT_FALSE(age_band(date("2026-05-02"), date("2026-05-01")));
}

TEST(Postcode4, KeepsTheDigitsOfEveryWrittenForm) {
  EXPECT_EQ(postcode4("7071AB"), "7071");
  EXPECT_EQ(postcode4("7071 AB"), "7071");
  EXPECT_EQ(postcode4("7071ab"), "7071");
  EXPECT_EQ(postcode4("7071 ab"), "7071");
}

TEST(Postcode4, RejectsWhatIsNotADutchPostcode) {
  EXPECT_FALSE(postcode4("0071AB"));  // no postcode starts with 0
  EXPECT_FALSE(postcode4("7071"));
  EXPECT_FALSE(postcode4("7071  AB"));
  EXPECT_FALSE(postcode4("7071A1"));
  EXPECT_FALSE(postcode4("70X1AB"));
  EXPECT_FALSE(postcode4("7071-AB"));
  EXPECT_FALSE(postcode4(""));
}

TEST(YearMonth, CutsAValidDateToItsMonth) {
  EXPECT_EQ(year_month("2026-10-01"), "2026-10");
  EXPECT_EQ(year_month("2024-02-29"), "2024-02");
  EXPECT_FALSE(year_month("2026-10"));
  EXPECT_FALSE(year_month("2026-02-30"));
}

}  // namespace
}  // namespace brug
