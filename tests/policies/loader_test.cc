// The policy loader and `brug policy check` / `explain` on real files in temp directories.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "policies/check.h"
#include "policies/policy_set.h"
#include "testing.h"

namespace brug {
namespace {

using testing::TempDir;

const std::filesystem::path kCatalogue = testing::policies_source_dir() / "catalogue.json";

// Runs the checker on `dir` with the shipped catalogue; returns exit code and output.
std::pair<int, std::string> check(const std::filesystem::path& dir) {
  std::ostringstream out;
  const int rc = check_policy_dir(dir, kCatalogue, out);
  return {rc, out.str()};
}

// A well-formed permit policy, one key per line, so line numbers are predictable:
// line 1 "{", line 2 id, ... line 10 "fields", line 11 the first field.
std::string policy(std::string_view id, std::string_view fields,
                   std::string_view to = "\"project\"") {
  return "{\n"
         "  \"id\": \"" +
         std::string(id) +
         "\",\n"
         "  \"version\": 1,\n"
         "  \"from\": \"gemeente\",\n"
         "  \"to\": " +
         std::string(to) +
         ",\n"
         "  \"record\": \"referral\",\n"
         "  \"purpose\": \"begeleiding-naar-werk\",\n"
         "  \"basis\": \"consent\",\n"
         "  \"description\": \"test\",\n"
         "  \"fields\": {\n" +
         std::string(fields) + "\n  }\n}\n";
}

// Checks a directory holding just `text` as p.json; expects failure and returns the output.
std::string problems_of(const std::string& text) {
  TempDir dir;
  dir.write("p.json", text);
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1) << out;
  return out;
}

TEST(Loader, ShippedDirectoryChecksClean) {
  std::ostringstream out;
  EXPECT_EQ(check_policy_dir((testing::policies_source_dir() / "default").string(), out), 0)
      << out.str();
  EXPECT_EQ(out.str().rfind("ok: 8 policies", 0), 0u) << out.str();
  EXPECT_NE(out.str().find(testing::shipped_policies().content_hash()), std::string::npos);
}

TEST(Loader, BrokenJsonIsReportedWithItsLine) {
  TempDir dir;
  dir.write("broken.json", "{\n  \"id\": \"x\",\n  \"version\": 1\n  \"from\": \"gemeente\"\n}\n");
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find((dir.path() / "broken.json").string() + ":4: invalid JSON: syntax error"),
            std::string::npos)
      << out;
}

TEST(Loader, UnknownTransformIsReportedAtItsLine) {
  const std::string out =
      problems_of(policy("p",
                         "    \"voornaam\": {},\n    \"postcode\": {\"transform\": "
                         "\"postcode3\"}"));
  EXPECT_NE(out.find("p.json:12: unknown transform 'postcode3'"), std::string::npos) << out;
}

TEST(Loader, TransformMustFitTheFieldType) {
  const std::string out =
      problems_of(policy("p", "    \"voornaam\": {\"transform\": \"age_band\"}"));
  EXPECT_NE(out.find("p.json:11: transform 'age_band' does not apply to field 'voornaam' of "
                     "type text"),
            std::string::npos)
      << out;
}

TEST(Loader, SpecialCategoryWithoutTheFlagIsRefused) {
  const std::string out =
      problems_of(policy("p", "    \"doelgroep\": {},\n    \"gezondheid\": {}"));
  EXPECT_NE(out.find("p.json:12: field 'gezondheid' is in special category 'gezondheid': "
                     "permitting it needs \"special_category\": true and a \"legal_basis_note\""),
            std::string::npos)
      << out;
}

TEST(Loader, SpecialCategoryFlagNeedsALegalBasisNote) {
  TempDir dir;
  std::string text = policy("p", "    \"schulden\": {}");
  text.replace(text.find("  \"description\""), 0, "  \"special_category\": true,\n");
  dir.write("p.json", text);
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("p.json:9: \"special_category\": true needs a non-empty "
                     "\"legal_basis_note\""),
            std::string::npos)
      << out;
}

TEST(Loader, SpecialCategoryWithFlagAndNoteIsAccepted) {
  TempDir dir;
  std::string text = policy("p", "    \"schulden\": {}");
  text.replace(text.find("  \"description\""), 0,
               "  \"special_category\": true,\n  \"legal_basis_note\": \"art. 9(2)(a) AVG\",\n");
  dir.write("p.json", text);
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 0) << out;
}

TEST(Loader, BsnNeverGoesToAProjectNotEvenThroughAWildcard) {
  TempDir dir;
  dir.write("a.json", policy("a", "    \"bsn\": {}"));
  dir.write("b.json", policy("b", "    \"bsn\": {}", "\"*\""));
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("a.json:11: field 'bsn' (identificatie) may never go to a project"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("b.json:11: field 'bsn' (identificatie) may never go to a project"),
            std::string::npos)
      << out;
}

TEST(Loader, DuplicateIdsAreRefused) {
  TempDir dir;
  dir.write("a.json", policy("same", "    \"voornaam\": {}"));
  dir.write("b.json", policy("same", "    \"doelgroep\": {}"));
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("b.json:2: duplicate policy id 'same' (also in " +
                     (dir.path() / "a.json").string() + ":2)"),
            std::string::npos)
      << out;
}

TEST(Loader, SameFlowAndFieldWithDifferentTransformsConflict) {
  TempDir dir;
  dir.write("a.json", policy("a", "    \"postcode\": {\"transform\": \"postcode4\"}"));
  dir.write("b.json", policy("b", "    \"doelgroep\": {},\n    \"postcode\": {}"));
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("b.json:12: field 'postcode' conflicts with policy 'a'"), std::string::npos)
      << out;
}

TEST(Loader, TwoFieldsOntoOneOutputNameConflict) {
  TempDir dir;
  dir.write("a.json", policy("a",
                             "    \"voornaam\": {\"as\": \"naam\"},\n    \"achternaam\": "
                             "{\"as\": \"naam\"}"));
  auto [rc, out] = check(dir.path());
  EXPECT_NE(out.find("a.json:11: fields 'achternaam' and 'voornaam' both appear as 'naam'"),
            std::string::npos)
      << out;
}

TEST(Loader, UnknownNamesAreReportedAtTheirLines) {
  TempDir dir;
  std::string text = policy("p", "    \"schoenmaat\": {},\n    \"voornaam\": {\"hoe\": 1}");
  text.replace(text.find("\"referral\""), 10, "\"dossier\"");
  dir.write("record.json", text);
  text = policy("q", "    \"schoenmaat\": {},\n    \"voornaam\": {\"hoe\": 1}", "\"buurman\"");
  text.replace(text.find("begeleiding-naar-werk"), 21, "plezier");
  text.replace(text.find("  \"description\""), 0, "  \"prioriteit\": 3,\n");
  dir.write("names.json", text);
  dir.write("fields.json", policy("r", "    \"schoenmaat\": {},\n    \"voornaam\": {\"hoe\": 1}"));
  auto [rc, out] = check(dir.path());
  EXPECT_EQ(rc, 1);
  for (const char* expected :
       {"record.json:6: unknown record type 'dossier' (referral, outcome)",
        "names.json:5: unknown role 'buurman' in 'to'", "names.json:7: unknown purpose 'plezier'",
        "names.json:9: unknown key 'prioriteit' in policy",
        "fields.json:11: unknown field 'schoenmaat' for record referral",
        "fields.json:12: unknown key 'hoe' in field 'voornaam'"}) {
    EXPECT_NE(out.find(expected), std::string::npos) << expected << "\n" << out;
  }
}

TEST(Loader, RecategorisingAFieldIsRefused) {
  const std::string out = problems_of(policy("p", "    \"voornaam\": {\"category\": \"profiel\"}"));
  EXPECT_NE(out.find("p.json:11: field 'voornaam' is in category 'contact' in the catalogue; a "
                     "policy cannot re-categorise it"),
            std::string::npos)
      << out;
}

TEST(Loader, DuplicateJsonKeysAreReported) {
  const std::string out = problems_of(policy("p", "    \"voornaam\": {},\n    \"voornaam\": {}"));
  EXPECT_NE(out.find("p.json:12: duplicate key 'voornaam'"), std::string::npos) << out;
}

TEST(Loader, EmptyOrMissingDirectoryIsAnError) {
  TempDir dir;
  EXPECT_EQ(check(dir.path()).first, 1);
  EXPECT_NE(check(dir.path()).second.find("no *.json policy files"), std::string::npos);
  EXPECT_EQ(check(dir.path() / "missing").first, 1);
}

TEST(Loader, BrokenCatalogueStopsTheCheck) {
  TempDir dir;
  dir.write("p.json", policy("p", "    \"voornaam\": {}"));
  const auto catalogue = dir.write("cat/catalogue.json", "{\"version\": 1,\n\"records\": 3}");
  std::ostringstream out;
  EXPECT_EQ(check_policy_dir(dir.path(), catalogue, out), 1);
  EXPECT_NE(out.str().find("catalogue.json:2: 'records' must be a JSON object"), std::string::npos)
      << out.str();
}

TEST(Loader, LoadFailureListsEveryProblem) {
  TempDir dir;
  dir.write("a.json", "{");
  dir.write("b.json", policy("b", "    \"voornaam\": {\"transform\": \"x\"}"));
  auto set = PolicySet::load(dir.path(), testing::shipped_catalogue());
  ASSERT_FALSE(set);
  EXPECT_EQ(set.code(), Code::kInvalidArgument);
  EXPECT_NE(set.message().find("a.json:1: invalid JSON"), std::string::npos) << set.message();
  EXPECT_NE(set.message().find("b.json:11: unknown transform 'x'"), std::string::npos)
      << set.message();
}

// Not a substitute for the libFuzzer target, but every build runs it: truncations and byte
// flips of the shipped files must give diagnostics, never a crash or a hang.
TEST(Loader, SurvivesMutationsOfTheShippedFiles) {
  std::vector<std::string> texts;
  for (const auto& e :
       std::filesystem::directory_iterator(testing::policies_source_dir() / "default")) {
    std::ifstream in(e.path());
    texts.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::uint32_t seed = 12345;
  const auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  int parsed = 0;
  for (const std::string& original : texts) {
    for (int round = 0; round < 200; ++round) {
      std::string text = original;
      if (round % 4 == 0) {
        text.resize(next() % text.size());
      } else {
        for (int k = 0; k < 1 + round % 3; ++k) {
          text[next() % text.size()] = static_cast<char>("{}[]\",:0a\\ \n\x80"[next() % 14]);
        }
      }
      std::vector<Diagnostic> d;
      if (parse_policy(text, "m.json", testing::shipped_catalogue(), d)) ++parsed;
      for (const Diagnostic& diag : d) EXPECT_GE(diag.line, 0);
    }
  }
  EXPECT_LT(parsed, static_cast<int>(texts.size()) * 200);
}

TEST(Explain, PrintsFieldsTransformsAndPolicies) {
  std::ostringstream out;
  const int rc = explain_flow(testing::shipped_policies(), {Role::kGemeente, ""},
                              {Role::kProject, "jhm-soest"}, RecordType::kReferral,
                              Purpose::kBegeleidingNaarWerk, out);
  EXPECT_EQ(rc, 0);
  const std::string text = out.str();
  EXPECT_NE(text.find("flow: gemeente -> project:jhm-soest referral begeleiding-naar-werk"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("geboortedatum -> leeftijdsgroep"), std::string::npos) << text;
  EXPECT_NE(text.find("age_band"), std::string::npos) << text;
  EXPECT_NE(text.find("gemeente-referral-to-project@1"), std::string::npos) << text;
  EXPECT_EQ(text.find("  bsn"), std::string::npos) << text;
  EXPECT_NE(text.find("every other field is dropped (default deny)"), std::string::npos);
}

TEST(Explain, RefusedFlowSaysWhyAndExitsOne) {
  std::ostringstream out;
  EXPECT_EQ(explain_flow(testing::shipped_policies(), {Role::kProject, ""}, {Role::kProject, ""},
                         RecordType::kReferral, Purpose::kBegeleidingNaarWerk, out),
            1);
  EXPECT_NE(out.str().find("refused: no policy permits this flow"), std::string::npos) << out.str();
}

TEST(ParseParty, ReadsRoleAndOptionalOrganisation) {
  EXPECT_EQ(parse_party("project")->role, Role::kProject);
  EXPECT_EQ(parse_party("project:jhm-soest")->org, "jhm-soest");
  EXPECT_FALSE(parse_party("project:"));
  EXPECT_FALSE(parse_party("buurman"));
}

}  // namespace
}  // namespace brug
