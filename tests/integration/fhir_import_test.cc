// `brug consent import --fhir FILE`: a FHIR R4 Consent is recorded through the gateway as the
// consent it says; what brug cannot represent, or an inactive consent, is refused.
#include <gtest/gtest.h>

#include "adapters/formats/fhir_consent.h"
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

}  // namespace
}  // namespace brug::testing
