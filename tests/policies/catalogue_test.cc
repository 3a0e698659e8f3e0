#include "policies/catalogue.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing.h"

namespace brug {
namespace {

using nlohmann::json;
using testing::shipped_catalogue;

// The referral record of docs/API.md.
json api_referral() {
  return json::parse(R"({"voornaam": "Anna", "geboortedatum": "1971-03-02", "postcode": "7071AB",
    "doelgroep": "betaald-werk-termijn", "participatieladder": 3, "taalniveau": "A2",
    "uitkering": "bijstand", "gezondheid": "rugklachten"})");
}

std::string all(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

TEST(Catalogue, ShippedFileCoversTheDomain) {
  const Catalogue& c = shipped_catalogue();
  for (const char* f : {"bsn",
                        "voornaam",
                        "achternaam",
                        "geboortedatum",
                        "adres",
                        "postcode",
                        "woonplaats",
                        "telefoon",
                        "email",
                        "doelgroep",
                        "participatieladder",
                        "uitkering",
                        "uitkering_duur",
                        "taalniveau",
                        "statushouder",
                        "opleidingsniveau",
                        "werkervaring",
                        "interesses",
                        "competenties",
                        "beschikbaarheid",
                        "rijbewijs",
                        "gezondheid",
                        "schulden",
                        "notities"}) {
    EXPECT_TRUE(c.find(RecordType::kReferral, f)) << f;
  }
  for (const char* f :
       {"status", "date", "reden_gestopt", "contract", "participatieladder", "uren_per_week"}) {
    EXPECT_TRUE(c.find(RecordType::kOutcome, f)) << f;
  }
  EXPECT_EQ(c.find(RecordType::kReferral, "bsn")->category, Category::kIdentificatie);
  EXPECT_EQ(c.find(RecordType::kReferral, "gezondheid")->category, Category::kGezondheid);
  EXPECT_EQ(c.find(RecordType::kReferral, "schulden")->category, Category::kSchulden);
  EXPECT_EQ(c.find(RecordType::kReferral, "notities")->category, Category::kNotities);
  EXPECT_EQ(c.find(RecordType::kOutcome, "status")->values.size(), 12u);
  EXPECT_EQ(c.find(RecordType::kReferral, "doelgroep")->values,
            (std::vector<std::string>{"betaald-werk-nu", "betaald-werk-termijn", "participatie",
                                      "zorg"}));
  EXPECT_FALSE(c.find(RecordType::kOutcome, "bsn"));
}

TEST(Catalogue, AcceptsTheApiExampleRecords) {
  EXPECT_EQ(all(shipped_catalogue().validate(RecordType::kReferral, api_referral())), "");
  json outcome = {{"status", "stage"},
                  {"date", "2026-10-01"},
                  {"participatieladder", 4},
                  {"uren_per_week", 16}};
  EXPECT_EQ(all(shipped_catalogue().validate(RecordType::kOutcome, outcome)), "");
}

TEST(Catalogue, ErrorsNameTheFieldButNeverTheValue) {
  json r = api_referral();
  r["participatieladder"] = 7;
  r["taalniveau"] = "Z9-secret";
  r["geboortedatum"] = "02-03-1971";
  r["postcode"] = "geheim 123";
  r["voornaam"] = std::string(101, 'x');
  r["bsn"] = "123456789";  // fails the elfproef
  r["rijbewijs"] = "ja";
  r["interesses"] = {"groen", 5};
  const auto errors = shipped_catalogue().validate(RecordType::kReferral, r);
  const std::string text = all(errors);
  EXPECT_EQ(errors.size(), 8u) << text;
  for (const char* f : {"participatieladder:", "taalniveau:", "geboortedatum:", "postcode:",
                        "voornaam:", "bsn:", "rijbewijs:", "interesses:"}) {
    EXPECT_NE(text.find(f), std::string::npos) << f;
  }
  for (const char* v : {"Z9-secret", "02-03-1971", "geheim", "xxxx", "123456789", "\"ja\""}) {
    EXPECT_EQ(text.find(v), std::string::npos) << v << " leaked into: " << text;
  }
}

TEST(Catalogue, UnknownFieldsAreErrorsAndOddKeysAreNotEchoed) {
  json r = api_referral();
  r["favoriete_kleur"] = "blauw";
  r["123456782"] = true;  // a client that puts a BSN in a key
  const std::string text = all(shipped_catalogue().validate(RecordType::kReferral, r));
  EXPECT_NE(text.find("favoriete_kleur: is not a field of a referral"), std::string::npos);
  EXPECT_NE(text.find("(unprintable field name)"), std::string::npos);
  EXPECT_EQ(text.find("123456782"), std::string::npos);
}

TEST(Catalogue, ARecordMustBeAnObject) {
  const auto errors = shipped_catalogue().validate(RecordType::kOutcome, json::array());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "");
}

TEST(Catalogue, ReasonForStoppingIsRequiredExactlyWhenStopped) {
  const Catalogue& c = shipped_catalogue();
  json stopped = {{"status", "gestopt"}, {"date", "2026-10-01"}};
  EXPECT_EQ(all(c.validate(RecordType::kOutcome, stopped)),
            "reden_gestopt: is required when status is gestopt\n");
  stopped["reden_gestopt"] = "verhuisd";
  EXPECT_EQ(all(c.validate(RecordType::kOutcome, stopped)), "");
  json working = {{"status", "stage"}, {"date", "2026-10-01"}, {"reden_gestopt", "verhuisd"}};
  EXPECT_EQ(all(c.validate(RecordType::kOutcome, working)),
            "reden_gestopt: is allowed only when status is gestopt\n");
}

TEST(Catalogue, ContractTypeBelongsOnlyToPaidWork) {
  const Catalogue& c = shipped_catalogue();
  json paid = {{"status", "betaald-werk"}, {"date", "2026-10-01"}, {"contract", "parttime"}};
  EXPECT_EQ(all(c.validate(RecordType::kOutcome, paid)), "");
  paid["status"] = "stage";
  EXPECT_EQ(all(c.validate(RecordType::kOutcome, paid)),
            "contract: is allowed only when status is betaald-werk\n");
}

TEST(Catalogue, RequiredOutcomeFieldsMustBePresent) {
  const std::string text = all(shipped_catalogue().validate(RecordType::kOutcome, json::object()));
  EXPECT_NE(text.find("status: is required"), std::string::npos);
  EXPECT_NE(text.find("date: is required"), std::string::npos);
}

TEST(Catalogue, MaxLengthCountsCharactersNotBytes) {
  json r = {{"doelgroep", "zorg"}, {"tussenvoegsel", ""}};
  std::string name;
  for (int i = 0; i < 20; ++i) name += "\xc3\xa9";  // 20 x é: 40 bytes, 20 characters
  r["tussenvoegsel"] = name;
  EXPECT_EQ(all(shipped_catalogue().validate(RecordType::kReferral, r)), "");
}

TEST(IsValidBsn, AppliesTheElfproef) {
  EXPECT_TRUE(is_valid_bsn("123456782"));
  EXPECT_TRUE(is_valid_bsn("111222333"));
  EXPECT_FALSE(is_valid_bsn("123456789"));
  EXPECT_FALSE(is_valid_bsn("12345678"));
  EXPECT_FALSE(is_valid_bsn("12345678a"));
  EXPECT_FALSE(is_valid_bsn("000000000"));
}

// Catalogue files are checked like policy files: every problem with its line.
TEST(CatalogueFile, ProblemsAreReportedWithTheirLines) {
  const std::string text = R"({
  "version": 1,
  "records": {
    "referral": {
      "bsn": {"type": "bsn", "category": "identificatie"},
      "kleur": {"type": "colour", "category": "profiel"},
      "hobby": {"type": "text", "category": "vrije-tijd", "max_length": 10},
      "leeftijd": {"type": "integer", "min": 10, "max": 1, "category": "profiel"}
    },
    "outcome": {
      "status": {"type": "enum", "values": ["a"], "category": "uitkomsten"},
      "reden": {"type": "enum", "values": ["x"], "category": "uitkomsten",
                "only_if": {"status": ["b"]}},
      "extra": {"type": "boolean", "category": "uitkomsten", "max_length": 3}
    }
  }
})";
  std::vector<Diagnostic> d;
  EXPECT_FALSE(Catalogue::parse(text, "cat.json", d));
  const std::string out = to_string(d);
  EXPECT_NE(out.find("cat.json:6: unknown field type 'colour'"), std::string::npos) << out;
  EXPECT_NE(out.find("cat.json:7: unknown category 'vrije-tijd'"), std::string::npos) << out;
  EXPECT_NE(out.find("cat.json:8: 'max' is below 'min'"), std::string::npos) << out;
  EXPECT_NE(out.find("cat.json:13: 'only_if' of field 'reden': 'b' is not a value of 'status'"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("cat.json:14: 'max_length' does not apply to a field of type boolean"),
            std::string::npos)
      << out;
}

TEST(CatalogueFile, LoadReportsAMissingFile) {
  auto c = Catalogue::load("/nonexistent/catalogue.json");
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("/nonexistent/catalogue.json: cannot read the file"),
            std::string::npos);
}

}  // namespace
}  // namespace brug
