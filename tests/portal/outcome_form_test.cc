#include "gateway/portal/outcome_form.h"

#include <gtest/gtest.h>

#include "gateway/portal/labels.h"
#include "policies/catalogue.h"

namespace brug::portal {
namespace {

const Catalogue& catalogue() {
  static const Catalogue c = *Catalogue::load(BRUG_SOURCE_DIR "/policies/catalogue.json");
  return c;
}

TEST(OutcomeForm, TakesDutchLabelsInAnyCaseAndDayMonthYearDates) {
  auto r = outcome_record(catalogue(), {{"status", " betaald WERK "},
                                        {"date", "1-9-2026"},
                                        {"uren_per_week", "24"},
                                        {"contract", "Parttime"},
                                        {"reden_gestopt", ""}});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(*r, nlohmann::json({{"status", "betaald-werk"},
                                {"date", "2026-09-01"},
                                {"uren_per_week", 24},
                                {"contract", "parttime"}}));
}

TEST(OutcomeForm, NamesEveryWrongFieldWithoutItsValue) {
  auto r = outcome_record(catalogue(),
                          {{"status", "Bijna klaar"}, {"date", "30/02"}, {"uren_per_week", "-3"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("status: is not one of the choices"), std::string::npos)
      << r.message();
  EXPECT_NE(r.message().find("date: must be a date"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("uren_per_week: must be a whole number"), std::string::npos);
  EXPECT_EQ(r.message().find("Bijna"), std::string::npos);
}

TEST(OutcomeForm, AppliesTheCatalogueRulesAfterConverting) {
  auto stopped = outcome_record(catalogue(), {{"status", "gestopt"}, {"date", "2026-10-01"}});
  ASSERT_FALSE(stopped);
  EXPECT_NE(stopped.message().find("reden_gestopt"), std::string::npos);
  auto too_many = outcome_record(
      catalogue(), {{"status", "stage"}, {"date", "2026-10-01"}, {"uren_per_week", "61"}});
  EXPECT_FALSE(too_many);
  // Free notes are not taken from a form or CSV: they would be case notes.
  EXPECT_FALSE(outcome_record(catalogue(),
                              {{"status", "stage"}, {"date", "2026-10-01"}, {"toelichting", "x"}}));
}

TEST(OutcomeForm, ProblemsReadInDutchWithTheFieldsLabelsForTheWebApp) {
  auto r = outcome_record(catalogue(), {{"status", "gestopt"}, {"date", "gisteren"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(dutch_problems(r.message()), "Datum: geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)");
  auto stopped = outcome_record(catalogue(), {{"status", "gestopt"}, {"date", "2026-10-01"}});
  ASSERT_FALSE(stopped);
  EXPECT_EQ(dutch_problems(stopped.message()), "Reden gestopt: vul dit in bij deze status");
}

}  // namespace
}  // namespace brug::portal
