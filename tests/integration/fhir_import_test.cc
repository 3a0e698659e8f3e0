// `brug consent import --fhir FILE`: a FHIR R4 Consent is recorded through the gateway as the
// consent it says; what brug cannot represent, or an inactive consent, is refused. A consent the
// gateway answered as FHIR (Accept: application/fhir+json) imports as the same consent.
#include <gtest/gtest.h>

#include "adapters/formats/fhir_consent.h"
#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class FhirImportTest : public GatewayFixture {
 protected:
  static std::string config_with_port() {
    auto j = nlohmann::json::parse(TempDir::read(dir_->file("dev/brug.json")));
    j["listen"]["port"] = gateway_->port();
    return dir_->write("dev/fhir.json", j.dump(2));
  }
  static nlohmann::json resource(const std::string& until = "2030-12-31") {
    consent::Consent c;
    c.id = "cns_fhir";
    c.grantee = kReconnact;
    c.purpose = Purpose::kBegeleidingNaarWerk;
    c.categories = {"contact", "profiel"};
    c.valid_from = *consent::Date::parse("2026-01-01");
    c.valid_until = *consent::Date::parse(until);
    c.evidence = {consent::EvidenceMethod::kSchriftelijk, "formulier 2026-021"};
    c.recorded_by = kGemeente;
    c.recorded_at = "2026-01-01T09:00:00.000Z";
    c.events.push_back({consent::EventKind::kGiven, c.recorded_at, c.recorded_by});
    return adapters::to_fhir_consent(c, "Patient/p-1", "2026-06-01T12:00:00.000Z");
  }
  static Reply post_fhir(const std::string& org, const std::string& path,
                         const nlohmann::json& body) {
    return client(org).send("POST", path, body.dump(), {{"Accept", "application/fhir+json"}});
  }
  // A FHIR Consent without what belongs to one recording (its id, its time).
  static nlohmann::json content_of(nlohmann::json consent) {
    consent.erase("id");
    consent.erase("identifier");
    consent.erase("dateTime");
    return consent;
  }
  // Exports the consents of `subject` as FHIR, imports the first with `import_args`, and expects
  // the subject's consents to be that one twice over.
  static void expect_round_trip(const std::string& org, const nlohmann::json& subject,
                                const std::vector<std::string>& import_args,
                                bool same_recorder = true) {
    auto before = post_fhir(org, "/v1/consents/search", {{"subject", subject}});
    ASSERT_EQ(before.status, 200) << before.body;
    const auto exported = json(before)["entry"][0]["resource"];
    const std::string file = dir_->write(org + ".export.fhir.json", exported.dump(2));
    std::vector<std::string> args = {"consent",  "import",           "--fhir", file,
                                     "--config", config_with_port(), "--as",   org};
    args.insert(args.end(), import_args.begin(), import_args.end());
    auto r = run_brug(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto after = post_fhir(org, "/v1/consents/search", {{"subject", subject}});
    ASSERT_EQ(after.status, 200) << after.body;
    const auto entries = json(after)["entry"];
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_NE(entries[1]["resource"]["id"], exported["id"]) << "a new consent was recorded";
    EXPECT_EQ(content_of(entries[0]["resource"]), content_of(exported));
    auto copy = content_of(entries[1]["resource"]), original = content_of(exported);
    if (!same_recorder) {
      EXPECT_EQ(copy["organization"][0]["reference"], "Organization/" + org);
      copy.erase("organization");
      original.erase("organization");
    }
    EXPECT_EQ(copy, original);
  }
};

TEST_F(FhirImportTest, AFhirConsentIsRecordedThroughTheGateway) {
  const std::string bsn = test_bsn(950);
  const std::string file = dir_->write("consent.fhir.json", resource().dump(2));
  auto r =
      run_brug({"consent", "import", "--fhir", file, "--config", config_with_port(), "--bsn", bsn});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("recorded consent cns_"), std::string::npos) << r.output;
  auto found = client(kGemeente).post("/v1/consents/search",
                                      nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump());
  ASSERT_EQ(found.status, 200);
  const auto list = json(found)["consents"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["grantee"], kReconnact);
  EXPECT_EQ(list[0]["purpose"], "begeleiding-naar-werk");
  EXPECT_EQ(list[0]["categories"], nlohmann::json({"contact", "profiel"}));
  EXPECT_EQ(list[0]["valid_until"], "2030-12-31");
  EXPECT_EQ(list[0]["evidence"]["reference"], "formulier 2026-021");
  EXPECT_EQ(list[0]["recorded_by"], kGemeente);
}

TEST_F(FhirImportTest, WhatBrugCannotRepresentIsRefusedNamingTheElement) {
  auto bad = resource();
  bad["provision"]["provision"][0]["period"].erase("end");
  const std::string file = dir_->write("bad.fhir.json", bad.dump());
  auto r = run_brug({"consent", "import", "--fhir", file, "--config", config_with_port(), "--bsn",
                     test_bsn(951)});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("Consent.provision.provision[0].period"), std::string::npos) << r.output;
  auto inactive = resource();
  inactive["status"] = "inactive";
  auto i = run_brug({"consent", "import", "--fhir", dir_->write("inactive.json", inactive.dump()),
                     "--config", config_with_port(), "--bsn", test_bsn(952)});
  EXPECT_EQ(i.exit_code, 1) << i.output;
  auto none = client(kGemeente).post("/v1/consents/search",
                                     nlohmann::json{{"subject", {{"bsn", test_bsn(951)}}}}.dump());
  EXPECT_TRUE(json(none)["consents"].empty());
}

TEST_F(FhirImportTest, AConsentAnsweredAsFhirImportsAsTheSameConsentForAGemeente) {
  const std::string bsn = test_bsn(953);
  auto first = client(kGemeente).post(
      "/v1/consents",
      nlohmann::json{{"subject", {{"bsn", bsn}}},
                     {"grantee", kJobhulp},
                     {"purpose", "begeleiding-naar-werk"},
                     {"categories", {"profiel", "contact"}},
                     {"valid_from", "2026-02-01"},
                     {"valid_until", "2027-01-31"},
                     {"evidence", {{"method", "mondeling"}, {"reference", "gesprek"}}}}
          .dump());
  ASSERT_EQ(first.status, 201) << first.body;
  // The export names nobody; the gemeente names the person again on import.
  expect_round_trip(kGemeente, {{"bsn", bsn}}, {"--bsn", bsn});
}

TEST_F(FhirImportTest, AConsentAnsweredAsFhirImportsAsTheSameConsentForAProject) {
  const std::string bsn = test_bsn(954);
  ASSERT_EQ(client(kGemeente)
                .post("/v1/consents",
                      nlohmann::json{{"subject", {{"bsn", bsn}}},
                                     {"grantee", kReconnact},
                                     {"purpose", "begeleiding-naar-werk"},
                                     {"categories", {"contact"}},
                                     {"valid_from", "2026-01-01"},
                                     {"valid_until", "2026-12-31"},
                                     {"evidence", {{"method", "digitaal"}, {"reference", "d-1"}}}}
                          .dump())
                .status,
            201);
  // The project's export names the person by its own pseudonym, which the import resolves.
  auto keys = crypto::KeyDir::load(dir_->file("dev/keys"));
  ASSERT_TRUE(keys) << keys.message();
  const auto index =
      crypto::participant_index(keys->participant_index_key(), *crypto::Bsn::parse(bsn));
  const std::string pseudonym = crypto::pseudonym(keys->pseudonym_key(), kReconnact, index)->text();
  // The project records the copy itself, so only the custodian differs.
  expect_round_trip(kReconnact, {{"pseudonym", pseudonym}}, {}, false);
}

}  // namespace
}  // namespace brug::testing
