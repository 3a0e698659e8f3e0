#include "gateway/cli/report_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace brug::gateway {
namespace {

nlohmann::json answer() {
  return nlohmann::json::parse(R"({
    "period": {"from": "2025-10-01", "to": "2025-10-31"}, "by": ["status"],
    "unit": "participants", "min_cell": 10, "rows": ["intake", "stage"],
    "columns": ["deelnemers"], "cells": [[null], [14]], "row_totals": [null, 14],
    "column_totals": [29], "total": 29,
    "perturbation": {"method": "cell-key", "max_noise": 12, "variance": 3.99,
                     "published": "2025-12-01"}})");
}

TEST(ReportCommand, TheTableMarksWithheldValuesAndSaysEveryNumberIsPerturbed) {
  std::ostringstream out;
  print_report(answer(), false, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("intake           x       x\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x  geheim"), std::string::npos) << text;
  EXPECT_NE(text.find("every number is perturbed (cell key: noise at most 12"), std::string::npos)
      << text;
}

TEST(ReportCommand, AnAnswerWithoutPerturbationSaysNothingAboutIt) {
  auto r = answer();
  r.erase("perturbation");
  std::ostringstream out;
  print_report(r, false, out);
  EXPECT_EQ(out.str().find("perturbed"), std::string::npos) << out.str();
}

TEST(ReportCommand, CsvShowsWithheldValuesAsX) {
  std::ostringstream out;
  print_report(answer(), true, out);
  EXPECT_EQ(out.str(), ";deelnemers;totaal\nintake;x;x\nstage;14;14\ntotaal;29;29\n");
}

}  // namespace
}  // namespace brug::gateway
