// POST /v1/consents, /v1/consents/{id}/withdraw and /v1/consents/search over real mutual TLS.
#include <gtest/gtest.h>

#include "adapters/formats/fhir_consent.h"
#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class ConsentApiTest : public GatewayFixture {
 protected:
  // A body as a gemeente sends it; tests change one member at a time.
  static nlohmann::json consent_body(const std::string& bsn, const std::string& grantee) {
    return {{"subject", {{"bsn", bsn}}},
            {"grantee", grantee},
            {"purpose", "begeleiding-naar-werk"},
            {"categories", {"contact", "profiel", "segmentatie"}},
            {"valid_from", "2026-01-01"},
            {"valid_until", "2027-01-01"},
            {"evidence", {{"method", "schriftelijk"}, {"reference", "formulier 2026-014"}}}};
  }
  // The pseudonym the gateway gives `org` for `bsn` (computed with the gateway's own keys).
  static std::string pseudonym(const std::string& org, const std::string& bsn) {
    auto keys = crypto::KeyDir::load(dir_->file("dev/keys"));
    EXPECT_TRUE(keys) << keys.message();
    auto index = crypto::participant_index(keys->participant_index_key(), *crypto::Bsn::parse(bsn));
    return crypto::pseudonym(keys->pseudonym_key(), org, index)->text();
  }
  static Reply post(const std::string& org, const std::string& path, const nlohmann::json& body) {
    return client(org).post(path, body.dump());
  }
  static Reply post_accepting(const std::string& org, const std::string& path,
                              const nlohmann::json& body, const std::string& accept) {
    return client(org).send("POST", path, body.dump(), {{"Accept", accept}});
  }
  static nlohmann::json search(const std::string& org, const nlohmann::json& subject) {
    auto r = post(org, "/v1/consents/search", {{"subject", subject}});
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r)["consents"];
  }
  // Expects a 400 validation problem whose detail names `field` and does not quote the BSN.
  static void expect_refused(const std::string& org, const nlohmann::json& body,
                             const std::string& field, const std::string& type = "validation") {
    auto r = post(org, "/v1/consents", body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json");
    auto j = json(r);
    EXPECT_EQ(j["type"], "urn:brug:problem:" + type) << r.body;
    EXPECT_NE(j.value("detail", "").find(field), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("123456782"), std::string::npos);
  }
};

TEST_F(ConsentApiTest, AGemeenteRecordsConsentByBsnAndGetsItBackWithoutTheBsn) {
  auto r = post(kGemeente, "/v1/consents", consent_body("123456782", kReconnact));
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = json(r);
  EXPECT_EQ(j["id"].get<std::string>().rfind("cns_", 0), 0u);
  EXPECT_EQ(r.headers["Location"], "/v1/consents/" + j["id"].get<std::string>());
  EXPECT_EQ(j["status"], "active");
  EXPECT_EQ(j["grantee"], kReconnact);
  EXPECT_EQ(j["recorded_by"], kGemeente);
  EXPECT_EQ(j["categories"], nlohmann::json({"contact", "profiel", "segmentatie"}));
  EXPECT_EQ(j["events"][0]["kind"], "given");
  EXPECT_FALSE(j.contains("subject"));
  EXPECT_EQ(r.body.find("123456782"), std::string::npos);
}

TEST_F(ConsentApiTest, SearchByBsnFindsTheSubjectsConsentsOnly) {
  ASSERT_EQ(post(kGemeente, "/v1/consents", consent_body("111222333", kJobhulp)).status, 201);
  ASSERT_EQ(post(kLaborijn, "/v1/consents", consent_body("111222333", kReconnact)).status, 201);
  ASSERT_EQ(post(kGemeente, "/v1/consents", consent_body("100000009", kJobhulp)).status, 201);
  auto list = search(kGemeente, {{"bsn", "111222333"}});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["grantee"], kJobhulp);
  EXPECT_EQ(list[1]["grantee"], kReconnact);
}

TEST_F(ConsentApiTest, AProjectSeesOnlyItsOwnGrantsUnderItsOwnPseudonym) {
  ASSERT_EQ(post(kGemeente, "/v1/consents", consent_body("123443210", kJobhulp)).status, 201);
  ASSERT_EQ(post(kGemeente, "/v1/consents", consent_body("123443210", kReconnact)).status, 201);
  const std::string mine = pseudonym(kReconnact, "123443210");
  auto list = search(kReconnact, {{"pseudonym", mine}});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["grantee"], kReconnact);
  EXPECT_EQ(list[0]["subject"]["pseudonym"], mine);
}

TEST_F(ConsentApiTest, AProjectRecordsConsentForItselfByPseudonym) {
  nlohmann::json body = consent_body("", kJobhulp);
  body["subject"] = {{"pseudonym", pseudonym(kJobhulp, "987654329")}};
  auto r = post(kJobhulp, "/v1/consents", body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json(r)["recorded_by"], kJobhulp);
}

TEST_F(ConsentApiTest, AProjectCannotRecordConsentForAnotherProjectsGrant) {
  nlohmann::json body = consent_body("", kReconnact);
  body["subject"] = {{"pseudonym", pseudonym(kJobhulp, "987654329")}};
  auto r = post(kJobhulp, "/v1/consents", body);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json(r)["type"], "urn:brug:problem:forbidden");
}

TEST_F(ConsentApiTest, AProjectCannotNameAParticipantByBsn) {
  expect_refused(kJobhulp, consent_body("123456782", kJobhulp), "subject.bsn");
}

TEST_F(ConsentApiTest, APseudonymOfAnotherProjectIsDetected) {
  nlohmann::json body = consent_body("", kJobhulp);
  body["subject"] = {{"pseudonym", pseudonym(kReconnact, "987654329")}};
  expect_refused(kJobhulp, body, "subject.pseudonym", "unknown-subject");
  body["subject"] = {{"pseudonym", "not-a-pseudonym"}};
  expect_refused(kJobhulp, body, "subject.pseudonym", "unknown-subject");
}

TEST_F(ConsentApiTest, BadInputIsRefusedNamingTheField) {
  auto with = [](const char* key, nlohmann::json value) {
    auto b = consent_body("123456782", kReconnact);
    b[key] = std::move(value);
    return b;
  };
  expect_refused(kGemeente, with("purpose", "marketing"), "purpose");
  expect_refused(kGemeente, with("purpose", "uitvoering-participatiewet"), "purpose");
  expect_refused(kGemeente, with("categories", {"contact", "horoscoop"}), "categories");
  expect_refused(kGemeente, with("categories", nlohmann::json::array()), "categories");
  expect_refused(kGemeente, with("categories", "contact"), "categories");
  expect_refused(kGemeente, with("valid_until", "2025-12-31"), "valid_until");
  expect_refused(kGemeente, with("valid_from", "2026-02-30"), "valid_from");
  expect_refused(kGemeente, with("grantee", "unknown-project"), "grantee");
  expect_refused(kGemeente, with("colour", "red"), "colour");
  expect_refused(kGemeente, with("subject", {{"bsn", "123456789"}}), "subject.bsn");
  expect_refused(kGemeente, with("subject", {{"bsn", 123456782}}), "subject.bsn");
  expect_refused(kGemeente, with("subject", {{"bsn", "123456782"}, {"naam", "x"}}), "subject.naam");
  expect_refused(kGemeente, with("evidence", {{"method", "telepathie"}, {"reference", "x"}}),
                 "evidence.method");
  expect_refused(kGemeente, with("evidence", {{"method", "mondeling"}}), "evidence.reference");
  auto missing = consent_body("123456782", kReconnact);
  missing.erase("grantee");
  expect_refused(kGemeente, missing, "grantee");
}

TEST_F(ConsentApiTest, MalformedBodiesAreProblemsAndNothingIsStored) {
  auto c = client(kGemeente);
  auto bad_json = c.post("/v1/consents", "{\"subject\": ");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(json(bad_json)["type"], "urn:brug:problem:invalid-json");
  EXPECT_EQ(c.post("/v1/consents", "[1, 2]").status, 400);
  EXPECT_EQ(c.post("/v1/consents", "").status, 400);
  EXPECT_EQ(c.post("/v1/consents", std::string("{\"a\":\"\xff\xfe\"}")).status, 400);
  // The subject of the refused bodies above has no consents.
  EXPECT_TRUE(search(kGemeente, {{"bsn", "192837461"}}).empty());
  auto refused = consent_body("192837461", kReconnact);
  refused["valid_until"] = "2020-01-01";
  EXPECT_EQ(c.post("/v1/consents", refused.dump()).status, 400);
  EXPECT_TRUE(search(kGemeente, {{"bsn", "192837461"}}).empty());
}

TEST_F(ConsentApiTest, WithdrawalIsImmediateAndIdempotent) {
  auto r = post(kGemeente, "/v1/consents", consent_body("246813581", kReconnact));
  ASSERT_EQ(r.status, 201);
  const std::string id = json(r)["id"];
  auto w1 = client(kGemeente).post("/v1/consents/" + id + "/withdraw", "");
  ASSERT_EQ(w1.status, 200) << w1.body;
  EXPECT_EQ(json(w1)["status"], "withdrawn");
  const std::string at = json(w1)["withdrawn_at"];
  auto w2 = client(kGemeente).post("/v1/consents/" + id + "/withdraw", "{}");
  ASSERT_EQ(w2.status, 200);
  EXPECT_EQ(json(w2)["withdrawn_at"], at);
  EXPECT_EQ(json(w2)["events"].size(), 2u);
  EXPECT_EQ(search(kGemeente, {{"bsn", "246813581"}})[0]["status"], "withdrawn");
}

TEST_F(ConsentApiTest, OnlyTheRecorderOrAGemeenteMayWithdraw) {
  auto r = post(kLaborijn, "/v1/consents", consent_body("135792460", kReconnact));
  ASSERT_EQ(r.status, 201);
  const std::string id = json(r)["id"];
  // The grantee knows the consent but did not record it.
  EXPECT_EQ(client(kReconnact).post("/v1/consents/" + id + "/withdraw", "").status, 403);
  // Another project does not even learn that it exists.
  EXPECT_EQ(client(kJobhulp).post("/v1/consents/" + id + "/withdraw", "").status, 404);
  EXPECT_EQ(client(kGemeente).post("/v1/consents/" + id + "/withdraw", "").status, 200);
}

TEST_F(ConsentApiTest, WithdrawingAnUnknownConsentIs404) {
  auto r = client(kGemeente).post("/v1/consents/cns_nosuchconsentaaaaaaaaaaaaa/withdraw", "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json(r)["type"], "urn:brug:problem:not-found");
}

TEST_F(ConsentApiTest, AnAuditorMayNotRecordOrSearchConsents) {
  EXPECT_EQ(post(kAuditor, "/v1/consents", consent_body("123456782", kReconnact)).status, 403);
  EXPECT_EQ(post(kAuditor, "/v1/consents/search", {{"subject", {{"bsn", "123456782"}}}}).status,
            403);
}

// The FHIR answer (Accept: application/fhir+json): the importer's mapping, in both directions.

constexpr const char* kFhir = "application/fhir+json";

TEST_F(ConsentApiTest, OnAcceptFhirJsonARecordedConsentIsAFhirR4ConsentThatNamesNobody) {
  const std::string bsn = test_bsn(700);
  auto r = post_accepting(kGemeente, "/v1/consents", consent_body(bsn, kReconnact), kFhir);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, kFhir);
  EXPECT_EQ(r.headers["Vary"], "Accept");
  const auto j = json(r);
  EXPECT_EQ(j["resourceType"], "Consent");
  EXPECT_EQ(j["status"], "active");
  const std::string id = j["identifier"][0]["value"];
  EXPECT_EQ(r.headers["Location"], "/v1/consents/" + id);
  // As the JSON answer names no subject to a gemeente, the FHIR one names no patient.
  EXPECT_EQ(j["patient"], nlohmann::json({{"display", adapters::kFhirUnnamedPatient}}));
  EXPECT_EQ(r.body.find(bsn), std::string::npos);
  auto back = adapters::from_fhir_consent(j);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->consent_id, id);
  EXPECT_EQ(back->consent.grantee, kReconnact);
  EXPECT_EQ(back->consent.categories,
            std::vector<std::string>({"contact", "profiel", "segmentatie"}));
  EXPECT_EQ(back->consent.valid_until.to_string(), "2027-01-01");
  EXPECT_EQ(back->consent.evidence.reference, "formulier 2026-014");
  EXPECT_EQ(back->recorded_by, kGemeente);
}

TEST_F(ConsentApiTest, AFhirSearchIsABundleAndAProjectsPatientIsItsOwnPseudonym) {
  const std::string bsn = test_bsn(701);
  ASSERT_EQ(post(kGemeente, "/v1/consents", consent_body(bsn, kJobhulp)).status, 201);
  ASSERT_EQ(post(kGemeente, "/v1/consents", consent_body(bsn, kReconnact)).status, 201);
  auto all = post_accepting(kGemeente, "/v1/consents/search", {{"subject", {{"bsn", bsn}}}},
                            "application/fhir+json, application/json;q=0.9");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.content_type, kFhir);
  auto bundle = json(all);
  EXPECT_EQ(bundle["resourceType"], "Bundle");
  EXPECT_EQ(bundle["type"], "searchset");
  EXPECT_EQ(bundle["total"], 2);
  ASSERT_EQ(bundle["entry"].size(), 2u);
  EXPECT_EQ(bundle["entry"][0]["resource"]["resourceType"], "Consent");
  EXPECT_EQ(all.body.find(bsn), std::string::npos);

  const std::string mine = pseudonym(kReconnact, bsn);
  auto own = post_accepting(kReconnact, "/v1/consents/search", {{"subject", {{"pseudonym", mine}}}},
                            kFhir);
  ASSERT_EQ(own.status, 200) << own.body;
  bundle = json(own);
  ASSERT_EQ(bundle["entry"].size(), 1u);  // the grant to the other project stays hidden
  const auto& consent = bundle["entry"][0]["resource"];
  EXPECT_EQ(consent["patient"]["reference"], "Patient/" + mine);
  EXPECT_EQ(consent["provision"]["provision"][0]["actor"][0]["reference"]["reference"],
            std::string("Organization/") + kReconnact);
}

TEST_F(ConsentApiTest, AWithdrawalAnswersAnInactiveFhirConsentWithTheWithdrawal) {
  auto r = post(kGemeente, "/v1/consents", consent_body(test_bsn(702), kReconnact));
  ASSERT_EQ(r.status, 201);
  const std::string id = json(r)["id"];
  auto w = post_accepting(kGemeente, "/v1/consents/" + id + "/withdraw", nlohmann::json::object(),
                          "application/fhir+json; fhirVersion=4.0");
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(w.content_type, kFhir);
  auto back = adapters::from_fhir_consent(json(w));
  ASSERT_TRUE(back) << back.message();
  EXPECT_FALSE(back->active);
  ASSERT_TRUE(back->withdrawal.has_value());
  EXPECT_EQ(back->withdrawal->actor, kGemeente);
}

TEST_F(ConsentApiTest, AWildcardNoAcceptOrAPreferenceForJsonKeepsTheJsonAnswer) {
  const std::string bsn = test_bsn(703);
  for (const std::string accept :
       {"*/*", "", "application/json;q=0.9, application/fhir+json;q=0.1", "application/*"}) {
    auto r = post_accepting(kGemeente, "/v1/consents", consent_body(bsn, kReconnact), accept);
    ASSERT_EQ(r.status, 201) << accept << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json") << accept;
    EXPECT_TRUE(json(r).contains("grantee")) << accept;
  }
}

TEST_F(ConsentApiTest, AnAcceptThatAllowsNeitherIs406AndNothingIsStored) {
  const std::string bsn = test_bsn(704);
  for (const std::string accept :
       {"text/html", "application/fhir+json;q=0, application/json;q=0", "application/xml, text/*",
        "application/fhir+json; fhirVersion=3.0"}) {
    auto r = post_accepting(kGemeente, "/v1/consents", consent_body(bsn, kReconnact), accept);
    EXPECT_EQ(r.status, 406) << accept;
    EXPECT_EQ(r.content_type, "application/problem+json");
    EXPECT_EQ(json(r)["type"], "urn:brug:problem:not-acceptable");
    EXPECT_EQ(r.body.find(accept.substr(0, 9)), std::string::npos) << "the Accept is not echoed";
  }
  EXPECT_TRUE(search(kGemeente, {{"bsn", bsn}}).empty());
  // Another role is refused for its role first, whatever it accepts.
  EXPECT_EQ(
      post_accepting(kAuditor, "/v1/consents", consent_body(bsn, kReconnact), "text/html").status,
      403);
}

}  // namespace
}  // namespace brug::testing
