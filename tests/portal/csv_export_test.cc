#include "gateway/portal/csv_export.h"

#include <gtest/gtest.h>

#include "adapters/formats/csv.h"

namespace brug::portal {
namespace {

Person person(const std::string& ref, nlohmann::json record) {
  return {.ref = ref, .record = std::move(record), .from = "g", .received_at = "t"};
}

TEST(CsvExport, ColumnsAreTheDeliveredFieldsInPlainDutchAndDeletedPeopleAreLeftOut) {
  const std::vector<Person> people = {
      person("D0001", {{"voornaam", "Anna"}, {"doelgroep", "participatie"}, {"rijbewijs", true}}),
      person("D0002", {{"voornaam", "Bo"}, {"interesses", {"zorg-en-welzijn", "ict"}}}),
      {.ref = "D0003", .deleted_at = "2026-11-30"}};
  const PeopleTable t = people_table(people);
  EXPECT_EQ(t.columns,
            (std::vector<std::string>{"Referentie", "Voornaam", "Doelgroep", "Rijbewijs B",
                                      "Interesses", "Laatste uitkomst", "Datum uitkomst"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"D0001", "Anna", "Meedoen (vrijwilligerswerk)",
                                                 "ja", "", "", ""}));
  EXPECT_EQ(t.rows[1][4], "Zorg en welzijn, ICT");
}

TEST(CsvExport, WritesABomSemicolonsCrlfAndQuotesThatParseBackToTheSameCells) {
  const std::vector<Person> people = {
      person("D0001", {{"voornaam", "Anna; \"An\"\nde Vries"}, {"werkervaring", " spaties "}}),
      person("D0002", {{"voornaam", "=HYPERLINK(\"x\")"}, {"werkervaring", "@SUM(A1)"}})};
  const PeopleTable t = people_table(people);
  const std::string csv = to_csv(t);
  EXPECT_EQ(csv.rfind("\xEF\xBB\xBFReferentie;Voornaam;Werkervaring;", 0), 0u) << csv;
  EXPECT_NE(csv.find("\r\n"), std::string::npos);
  auto rows = adapters::parse_csv(csv, "export");
  ASSERT_TRUE(rows) << rows.message();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].fields, t.rows[0]);
  // A cell a spreadsheet would run as a formula starts with a quote character instead.
  EXPECT_EQ((*rows)[2].fields[1], "'=HYPERLINK(\"x\")");
  EXPECT_EQ((*rows)[2].fields[2], "'@SUM(A1)");
}

}  // namespace
}  // namespace brug::portal
