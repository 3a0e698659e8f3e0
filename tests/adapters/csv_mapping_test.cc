#include "adapters/formats/csv_mapping.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace brug::adapters {
namespace {

const Catalogue& catalogue() {
  static const Catalogue c = *Catalogue::load(BRUG_SOURCE_DIR "/policies/catalogue.json");
  return c;
}

const std::string kExampleMapping =
    BRUG_SOURCE_DIR "/adapters/formats/mappings/participatiebedrijf-export.json";
const std::string kExampleCsv =
    BRUG_SOURCE_DIR "/tests/adapters/data/participatiebedrijf-export.csv";

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CsvMapping mapping(std::string_view text) {
  auto m = CsvMapping::parse(text, "map.json", catalogue());
  EXPECT_TRUE(m) << m.message();
  return m ? std::move(m).value() : CsvMapping{};
}

std::string mapping_error(std::string_view text) {
  auto m = CsvMapping::parse(text, "map.json", catalogue());
  EXPECT_FALSE(m);
  return m.message();
}

constexpr const char* kSmallMapping = R"({
  "source_ref": {"column": "Nr", "prefix": "pb-"},
  "bsn": {"column": "BSN"},
  "columns": {
    "Doelgroep": {"field": "doelgroep", "values": {"Zorg": "zorg"}},
    "Geboren": {"field": "geboortedatum", "date_format": "DD-MM-YYYY"},
    "Ladder": "participatieladder",
    "Rijbewijs": "rijbewijs",
    "Interesses": {"field": "interesses", "separator": "|"}
  }
})";

constexpr const char* kTinyMapping = R"({
  "source_ref": {"column": "Nr", "prefix": "pb-"},
  "bsn": {"column": "BSN"},
  "columns": {"Doelgroep": "doelgroep"}
})";

MappedFile map_text(std::string_view csv, std::string_view mapping_text = kSmallMapping) {
  auto rows = parse_csv(csv, "in.csv");
  EXPECT_TRUE(rows) << rows.message();
  auto mapped = map_rows(*rows, mapping(mapping_text), catalogue(), "in.csv");
  EXPECT_TRUE(mapped) << mapped.message();
  return mapped ? std::move(mapped).value() : MappedFile{};
}

std::string problems(const MappedFile& f) {
  std::string out;
  for (const RowProblem& p : f.problems) out += p.to_string("in.csv") + "\n";
  return out;
}

TEST(CsvMappingTest, TheShippedMappingLoads) {
  auto m = CsvMapping::load(kExampleMapping, catalogue());
  ASSERT_TRUE(m) << m.message();
  EXPECT_EQ(m->source_ref_column, "Klantnummer");
  EXPECT_EQ(m->bsn_column, "BSN");
  EXPECT_EQ(m->columns.size(), 19u);
}

TEST(CsvMappingTest, MapsAGoodRow) {
  auto f = map_text(
      "Nr;BSN;Doelgroep;Geboren;Ladder;Rijbewijs;Interesses\r\n"
      "7;999990007; zorg ;2-3-1971;3;Ja;groen| Techniek |eigen tekst\r\n");
  EXPECT_EQ(problems(f), "");
  ASSERT_EQ(f.rows.size(), 1u);
  EXPECT_EQ(f.total, 1u);
  EXPECT_EQ(f.rows[0].line, 2);
  EXPECT_EQ(f.rows[0].source_ref, "pb-7");
  EXPECT_EQ(f.rows[0].bsn.digits(), "999990007");
  EXPECT_EQ(f.rows[0].record, nlohmann::json::parse(R"({
    "doelgroep": "zorg", "geboortedatum": "1971-03-02", "participatieladder": 3,
    "rijbewijs": true, "interesses": ["groen", "techniek", "eigen tekst"]})"));
}

TEST(CsvMappingTest, HeadersMatchIgnoringCaseAndSpacesAndUnmappedColumnsAreDropped) {
  auto f = map_text(" nr ;bsn;DOELGROEP;Notitie consulent;;\r\n7;12345672;Zorg;geheim;;\r\n",
                    kTinyMapping);
  EXPECT_EQ(problems(f), "");
  ASSERT_EQ(f.rows.size(), 1u);
  EXPECT_EQ(f.rows[0].bsn.digits(), "012345672");  // the leading zero Excel dropped
  EXPECT_EQ(f.rows[0].record, nlohmann::json::parse(R"({"doelgroep": "zorg"})"));
}

TEST(CsvMappingTest, EachProblemNamesLineAndFieldButNotTheValue) {
  auto f = map_text(
      "Nr;BSN;Doelgroep;Geboren;Ladder;Rijbewijs;Interesses\r\n"
      "1;123456789;zorg;;;\r\n"                      // 2: invalid BSN
      "2;999990007;Vrijwilliger;;;\r\n"              // 3: unknown enum value
      "3;999990019;;;;\r\n"                          // 4: empty required column
      "4;999990020;zorg;31-02-1971;;\r\n"            // 5: no such day
      "5;999990032;zorg;1971/03/02;9;misschien\r\n"  // 6: three problems
      ";;zorg;;;\r\n"                                // 7: no source_ref, no BSN
      "1;999990044;zorg;;;\r\n"                      // 8: source_ref of line 2 again
      "9;999990056;zorg;;;;;extra\r\n");             // 9: more values than header columns
  EXPECT_EQ(problems(f),
            "in.csv:2: bsn: is not a valid BSN (9 digits passing the elfproef)\n"
            "in.csv:3: doelgroep: must be one of: betaald-werk-nu, betaald-werk-termijn, "
            "participatie, zorg\n"
            "in.csv:4: doelgroep: is required\n"
            "in.csv:5: geboortedatum: must be a date YYYY-MM-DD\n"
            "in.csv:6: geboortedatum: is not a date DD-MM-YYYY\n"
            "in.csv:6: rijbewijs: is not ja or nee\n"
            "in.csv:6: participatieladder: must be an integer from 1 to 6\n"
            "in.csv:7: source_ref: column 'Nr' is empty\n"
            "in.csv:7: bsn: column 'BSN' is empty\n"
            "in.csv:8: source_ref: is the same as on line 2\n"
            "in.csv:9: row: has a value beyond the 7 columns of the header (an unquoted ';' in "
            "a field?)\n");
  EXPECT_EQ(f.rejected, 8u);
  EXPECT_EQ(f.total, 8u);
  EXPECT_TRUE(f.rows.empty());
  for (const char* secret : {"123456789", "Vrijwilliger", "31-02", "misschien", "extra"}) {
    EXPECT_EQ(problems(f).find(secret), std::string::npos) << secret;
  }
}

TEST(CsvMappingTest, BlankRowsAreNeitherCountedNorRejected) {
  auto f = map_text("Nr;BSN;Doelgroep\r\n;;\r\n  ; ;\r\n1;999990007;zorg\r\n", kTinyMapping);
  EXPECT_EQ(f.total, 1u);
  EXPECT_EQ(f.rows.size(), 1u);
  EXPECT_EQ(f.rows[0].line, 4);
}

TEST(CsvMappingTest, AHeaderThatDoesNotFitFailsTheFile) {
  auto rows = parse_csv("Nr;Doelgroep\r\n1;zorg\r\n", "in.csv");
  auto f = map_rows(*rows, mapping(kSmallMapping), catalogue(), "in.csv");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.message(), "in.csv:1: the header lacks column 'BSN' of mapping map.json");
  rows = parse_csv("Nr;BSN;bsn\r\n", "in.csv");
  f = map_rows(*rows, mapping(kSmallMapping), catalogue(), "in.csv");
  EXPECT_EQ(f.message(), "in.csv:1: the header has column 'BSN' twice");
  f = map_rows({}, mapping(kSmallMapping), catalogue(), "in.csv");
  EXPECT_EQ(f.message(), "in.csv: the file is empty");
}

TEST(CsvMappingTest, MappingProblemsNameFileAndLine) {
  EXPECT_EQ(
      mapping_error("{\n  \"source_ref\": {\"column\": \"Nr\"},\n"
                    "  \"bsn\": {\"column\": \"BSN\"},\n"
                    "  \"columns\": {\n"
                    "    \"Naam\": \"naam\",\n"
                    "    \"Soort\": {\"field\": \"uitkering\", \"values\": {\"PW\": \"pw\"}},\n"
                    "    \"Tel\": {\"field\": \"telefoon\", \"date_format\": \"DD-MM\"},\n"
                    "    \"Nummer\": \"bsn\",\n"
                    "    \"Voornaam\": \"voornaam\",\n"
                    "    \"Roepnaam\": \"voornaam\"\n"
                    "  },\n"
                    "  \"extra\": 1\n}"),
      "map.json:5: column 'Naam': 'naam' is not a field of a referral\n"
      "map.json:6: column 'Soort': the value for 'PW' is not a value of field 'uitkering'\n"
      "map.json:7: column 'Tel': date_format applies to date fields only\n"
      "map.json:8: column 'Nummer': the BSN column goes in \"bsn\", not here\n"
      "map.json:9: field 'voornaam' is filled by column 'Roepnaam' already\n"
      "map.json:12: unknown key 'extra' in the mapping");
}

TEST(CsvMappingTest, MappingSyntaxAndShapeErrors) {
  EXPECT_EQ(mapping_error("{\n  \"bsn\": \n}").substr(0, 11), "map.json:3:");
  const std::string missing = mapping_error("{\"columns\": {}}");
  EXPECT_NE(missing.find("lacks \"source_ref\""), std::string::npos) << missing;
  EXPECT_NE(missing.find("lacks \"bsn\""), std::string::npos) << missing;
  EXPECT_NE(mapping_error(R"({"source_ref": {"column": "Nr"}, "bsn": {"column": "BSN"},
                              "columns": {"BSN": "voornaam"}})")
                .find("already the BSN or source_ref column"),
            std::string::npos);
  EXPECT_NE(mapping_error(R"({"source_ref": {"column": "Nr"}, "bsn": {"column": "BSN"},
                              "columns": {"L": {"field": "participatieladder",
                                                "values": {"Trede 3": "3"}}}})")
                .find("must be an integer"),
            std::string::npos);
}

TEST(CsvMappingTest, TheMessyExampleFile) {
  auto rows = parse_csv(read(kExampleCsv), "export.csv");
  ASSERT_TRUE(rows) << rows.message();
  auto m = CsvMapping::load(kExampleMapping, catalogue());
  ASSERT_TRUE(m) << m.message();
  auto f = map_rows(*rows, *m, catalogue(), "export.csv");
  ASSERT_TRUE(f) << f.message();
  std::string out;
  for (const RowProblem& p : f->problems) out += p.to_string("export.csv") + "\n";
  EXPECT_EQ(out,
            "export.csv:3: bsn: is not a valid BSN (9 digits passing the elfproef)\n"
            "export.csv:5: doelgroep: must be one of: betaald-werk-nu, betaald-werk-termijn, "
            "participatie, zorg\n"
            "export.csv:7: doelgroep: is required\n");
  EXPECT_EQ(f->total, 6u);
  EXPECT_EQ(f->rejected, 3u);
  ASSERT_EQ(f->rows.size(), 3u);
  EXPECT_EQ(f->rows[0].line, 2);
  EXPECT_EQ(f->rows[0].source_ref, "laborijn-100123");
  EXPECT_EQ(f->rows[0].record["adres"], "Kerkstraat 1; achterom");
  EXPECT_EQ(f->rows[0].record["geboortedatum"], "1971-03-02");
  EXPECT_EQ(f->rows[0].record["uitkering"], "bijstand");
  EXPECT_EQ(f->rows[0].record["participatieladder"], 3);
  EXPECT_EQ(f->rows[0].record["interesses"], nlohmann::json::parse(R"(["groen", "techniek"])"));
  EXPECT_EQ(f->rows[1].line, 4);
  EXPECT_EQ(f->rows[1].record["geboortedatum"], "1965-07-01");
  EXPECT_EQ(f->rows[2].line, 8);
  EXPECT_EQ(f->rows[2].source_ref, "laborijn-100128");
  EXPECT_EQ(f->rows[2].bsn.digits(), "012345672");
  EXPECT_EQ(f->rows[2].record["voornaam"], "Ahmed");
  EXPECT_EQ(f->rows[2].record["doelgroep"], "betaald-werk-nu");
  EXPECT_FALSE(f->rows[2].record.contains("uitkering_duur"));
}

}  // namespace
}  // namespace brug::adapters
