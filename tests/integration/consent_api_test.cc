// POST /v1/consents, /v1/consents/{id}/withdraw and /v1/consents/search over real mutual TLS.
#include <gtest/gtest.h>

#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "tests/support/gateway_fixture.h"

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

}  // namespace
}  // namespace brug::testing
