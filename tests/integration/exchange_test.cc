// The exchange over real mutual TLS: referrals in, consented views out, outcomes back,
// withdrawal and erasure, and every refusal.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class ExchangeTest : public GatewayFixture {
 protected:
  static nlohmann::json record() {
    return {{"voornaam", "Anna"},      {"geboortedatum", "1971-03-02"},
            {"postcode", "7071AB"},    {"doelgroep", "betaald-werk-termijn"},
            {"participatieladder", 3}, {"taalniveau", "A2"},
            {"uitkering", "bijstand"}, {"gezondheid", "rugklachten"}};
  }
  static nlohmann::json referral(const std::string& ref, const std::string& bsn,
                                 const std::string& to, nlohmann::json rec = record()) {
    return {{"source_ref", ref},
            {"to", to},
            {"purpose", "begeleiding-naar-werk"},
            {"subject", {{"bsn", bsn}}},
            {"record", std::move(rec)}};
  }
  static nlohmann::json push(const std::string& org, const std::vector<nlohmann::json>& items) {
    nlohmann::json body = {{"items", nlohmann::json::array()}};
    for (const auto& i : items) body["items"].push_back(i);
    auto r = client(org).post("/v1/referrals", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r)["results"];
  }
  static void consent(const std::string& bsn, const std::string& grantee,
                      const std::vector<std::string>& categories,
                      const std::string& purpose = "begeleiding-naar-werk") {
    nlohmann::json body = {{"subject", {{"bsn", bsn}}},
                           {"grantee", grantee},
                           {"purpose", purpose},
                           {"categories", categories},
                           {"valid_from", "2026-01-01"},
                           {"valid_until", "2030-12-31"},
                           {"evidence", {{"method", "digitaal"}, {"reference", "portaal"}}}};
    auto r = client(kGemeente).post("/v1/consents", body.dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }
  static std::string consent_id(const std::string& bsn, const std::string& grantee) {
    auto r = client(kGemeente).post("/v1/consents/search",
                                    nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const nlohmann::json answer = json(r);
    for (const auto& c : answer["consents"]) {
      if (c["grantee"] == grantee) return c["id"];
    }
    ADD_FAILURE() << r.body;
    return "";
  }
  // Every feed item of `org` (following cursors from the start).
  static std::vector<nlohmann::json> feed(const std::string& org, std::string after = "0") {
    std::vector<nlohmann::json> all;
    for (int page = 0; page < 100; ++page) {
      auto r = client(org).get("/v1/feed?limit=1000&after=" + after);
      EXPECT_EQ(r.status, 200) << r.body;
      auto j = json(r);
      if (j["items"].empty()) break;
      for (const auto& i : j["items"]) all.push_back(i);  // j is a local: no dangling
      after = j["next_cursor"];
    }
    return all;
  }
  static std::string last_cursor(const std::string& org) {
    auto r = client(org).get("/v1/feed?limit=1000");
    std::string after = "0";
    for (int page = 0; page < 100; ++page) {
      auto j = json(client(org).get("/v1/feed?limit=1000&after=" + after));
      if (j["items"].empty()) break;
      after = j["next_cursor"];
    }
    return after;
  }
  // The referral items of `org`'s feed whose record has voornaam `name`.
  static std::vector<nlohmann::json> items_named(const std::string& org, const std::string& name,
                                                 const std::string& kind = "referral") {
    std::vector<nlohmann::json> out;
    for (const auto& i : feed(org)) {
      if (i["kind"] == kind && i.contains("record") && i["record"].value("voornaam", "") == name) {
        out.push_back(i);
      }
    }
    return out;
  }
  static std::string outcome_body(const nlohmann::json& outcome) {
    nlohmann::json body = {{"items", nlohmann::json::array()}};
    body["items"].push_back(outcome);
    return body.dump();
  }
  static nlohmann::json named(const std::string& name) {
    auto r = record();
    r["voornaam"] = name;
    return r;
  }
};

TEST_F(ExchangeTest, AReferralWithoutConsentWaitsAndThenFlowsWithOnlyPermittedFields) {
  const std::string bsn = test_bsn(1);
  auto results = push(kGemeente, {referral("t1-1", bsn, kReconnact, named("Wachtend"))});
  ASSERT_EQ(results[0]["status"], "accepted") << results;
  EXPECT_TRUE(items_named(kReconnact, "Wachtend").empty());  // no consent yet: no trace

  consent(bsn, kReconnact, {"contact", "profiel", "segmentatie", "gezondheid"});
  auto items = items_named(kReconnact, "Wachtend");
  ASSERT_EQ(items.size(), 1u);
  const auto& rec = items[0]["record"];
  EXPECT_EQ(rec["postcode4"], "7071");
  EXPECT_EQ(rec["doelgroep"], "betaald-werk-termijn");
  EXPECT_TRUE(rec.contains("leeftijdsgroep"));
  EXPECT_FALSE(rec.contains("geboortedatum"));
  EXPECT_FALSE(rec.contains("postcode"));
  // A special category never reaches a project, even when the consent names it.
  EXPECT_FALSE(rec.contains("gezondheid"));
  EXPECT_EQ(items[0]["subject"].get<std::string>().size(), 96u);
  EXPECT_EQ(items[0].dump().find(bsn), std::string::npos);
}

TEST_F(ExchangeTest, ConsentForProfielButNotContactLeavesContactFieldsOut) {
  const std::string bsn = test_bsn(2);
  consent(bsn, kReconnact, {"profiel"});
  push(kGemeente, {referral("t2-1", bsn, kReconnact)});
  bool found = false;
  for (const auto& i : feed(kReconnact)) {
    if (i["kind"] != "referral" || !i.contains("record")) continue;
    const auto& rec = i["record"];
    if (rec.contains("voornaam")) continue;  // other tests' participants
    if (rec.value("taalniveau", "") == "A2" && !rec.contains("doelgroep")) found = true;
  }
  EXPECT_TRUE(found) << "a view with profiel fields only";
}

TEST_F(ExchangeTest, TwoProjectsSeeTheSamePersonUnderDifferentPseudonyms) {
  const std::string bsn = test_bsn(3);
  consent(bsn, kReconnact, {"contact", "profiel"});
  consent(bsn, kJobhulp, {"contact", "profiel"});
  push(kGemeente, {referral("t3-1", bsn, kReconnact, named("Tweemaal")),
                   referral("t3-2", bsn, kJobhulp, named("Tweemaal"))});
  auto a = items_named(kReconnact, "Tweemaal");
  auto b = items_named(kJobhulp, "Tweemaal");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(a[0]["subject"], b[0]["subject"]);
}

TEST_F(ExchangeTest, AProjectNeverReadsAnotherProjectsItems) {
  const std::string bsn = test_bsn(4);
  consent(bsn, kReconnact, {"contact", "profiel"});
  push(kGemeente, {referral("t4-1", bsn, kReconnact, named("Alleenvoorreconnact"))});
  EXPECT_EQ(items_named(kReconnact, "Alleenvoorreconnact").size(), 1u);
  EXPECT_TRUE(items_named(kJobhulp, "Alleenvoorreconnact").empty());
}

TEST_F(ExchangeTest, ADuplicatePushIsAnsweredAsSuchAndStoredOnce) {
  const std::string bsn = test_bsn(5);
  consent(bsn, kJobhulp, {"contact"});
  auto first = push(kLaborijn, {referral("t5-1", bsn, kJobhulp, named("Eenmaal"))});
  auto again = push(kLaborijn, {referral("t5-1", bsn, kJobhulp, named("Eenmaal"))});
  EXPECT_EQ(first[0]["status"], "accepted");
  EXPECT_EQ(again[0]["status"], "duplicate");
  EXPECT_EQ(again[0]["id"], first[0]["id"]);
  EXPECT_EQ(items_named(kJobhulp, "Eenmaal").size(), 1u);
}

// A source_ref names one referral: the same content again is a duplicate, anything else under
// it is a conflict the sender must see, never a referral silently dropped.
TEST_F(ExchangeTest, AReusedSourceRefWithOtherContentIsAnIdempotencyConflict) {
  const std::string bsn = test_bsn(510), other = test_bsn(511);
  consent(bsn, kJobhulp, {"contact", "profiel", "segmentatie"});
  consent(bsn, kReconnact, {"contact", "profiel", "segmentatie"});
  auto first = push(kLaborijn, {referral("t12-1", bsn, kJobhulp, named("Eerste"))});
  ASSERT_EQ(first[0]["status"], "accepted");
  const std::vector<std::pair<std::string, nlohmann::json>> conflicts = {
      {"another recipient", referral("t12-1", bsn, kReconnact, named("Eerste"))},
      {"another record", referral("t12-1", bsn, kJobhulp, named("Tweede"))},
      {"another subject", referral("t12-1", other, kJobhulp, named("Eerste"))},
  };
  for (const auto& [what, item] : conflicts) {
    auto r = push(kLaborijn, {item});
    EXPECT_EQ(r[0]["status"], "rejected") << what;
    EXPECT_EQ(r[0]["problem"]["type"], "urn:brug:problem:idempotency-conflict") << what;
    EXPECT_FALSE(r[0].contains("id")) << what;
  }
  EXPECT_EQ(items_named(kJobhulp, "Tweede").size(), 0u);
  EXPECT_EQ(items_named(kReconnact, "Eerste").size(), 0u);
  // Another sender may use the same reference for its own referral.
  auto gemeente = push(kGemeente, {referral("t12-1", bsn, kJobhulp, named("Derde"))});
  EXPECT_EQ(gemeente[0]["status"], "accepted");
}

TEST_F(ExchangeTest, InsideOneBatchTheSecondUseOfASourceRefIsADuplicateOrAConflict) {
  const std::string bsn = test_bsn(512);
  consent(bsn, kJobhulp, {"contact", "profiel", "segmentatie"});
  auto r = push(kLaborijn, {referral("t12-2", bsn, kJobhulp, named("Binnen")),
                            referral("t12-2", bsn, kJobhulp, named("Binnen")),
                            referral("t12-2", bsn, kJobhulp, named("Anders"))});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["status"], "accepted");
  EXPECT_EQ(r[1]["status"], "duplicate");
  EXPECT_EQ(r[1]["id"], r[0]["id"]);
  EXPECT_EQ(r[2]["status"], "rejected");
  EXPECT_EQ(r[2]["problem"]["type"], "urn:brug:problem:idempotency-conflict");
  EXPECT_EQ(items_named(kJobhulp, "Binnen").size(), 1u);
  EXPECT_EQ(items_named(kJobhulp, "Anders").size(), 0u);
}

TEST_F(ExchangeTest, ABacklogLargerThanOneChunkArrivesOnceEachAndInOrder) {
  // More pending referrals than the feed takes up at once (2000): page after page must carry
  // every one exactly once, in the order they were pushed, whatever the page size.
  const std::string start = last_cursor(kGemeente);
  constexpr int kCount = 2345;
  for (int first = 0; first < kCount; first += 150) {  // the fixture takes 64 KiB bodies
    std::vector<nlohmann::json> items;
    for (int i = first; i < std::min(first + 150, kCount); ++i) {
      auto item = referral("backlog-" + std::to_string(i), test_bsn(500 + i % 400), kGemeente,
                           named("Backlog" + std::to_string(i)));
      item["purpose"] = "uitvoering-participatiewet";
      items.push_back(std::move(item));
    }
    for (const auto& r : push(kLaborijn, items)) ASSERT_EQ(r["status"], "accepted") << r;
  }
  for (const char* limit : {"7", "1000"}) {
    std::vector<int> seen;
    std::string after = start;
    std::set<std::string> cursors;  // opaque, but every item's is its own
    for (int page = 0; page < 1000; ++page) {
      auto r = client(kGemeente).get(std::string("/v1/feed?limit=") + limit + "&after=" + after);
      ASSERT_EQ(r.status, 200) << r.body;
      const nlohmann::json j = json(r);
      if (j["items"].empty()) break;
      for (const auto& item : j["items"]) {
        EXPECT_TRUE(cursors.insert(item["cursor"].get<std::string>()).second);
        const std::string name = item["record"].value("voornaam", "");
        if (name.rfind("Backlog", 0) == 0) seen.push_back(std::stoi(name.substr(7)));
      }
      EXPECT_EQ(j["next_cursor"], j["items"].back()["cursor"]);
      after = j["next_cursor"];
      if (std::string(limit) == "7" && seen.size() >= 30) break;  // the start is enough here
    }
    const int expected = std::string(limit) == "7" ? static_cast<int>(seen.size()) : kCount;
    ASSERT_EQ(static_cast<int>(seen.size()), expected);
    for (int i = 0; i < expected; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  }
}

TEST_F(ExchangeTest, RecordIdsAreUnguessableAndSortByCreation) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r =
        push(kLaborijn, {referral("t-ids-" + std::to_string(i), test_bsn(420 + i), kJobhulp),
                         referral("t-ids-b" + std::to_string(i), test_bsn(430 + i), kJobhulp)});
    for (const auto& item : r) ids.push_back(item["id"]);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  const std::regex shape("ref_[2-7a-z]{26}");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_TRUE(std::regex_match(ids[i], shape)) << ids[i];
    // The clock part never goes back within a push, and moves on for a later push.
    if (i % 2 == 1) {
      EXPECT_LE(ids[i - 1].substr(0, 13), ids[i].substr(0, 13));
    } else if (i >= 2) {
      EXPECT_LT(ids[i - 1], ids[i]);
    }
    // 85 random bits after the clock: no two alike.
    for (std::size_t j = 0; j < i; ++j) EXPECT_NE(ids[i].substr(13), ids[j].substr(13));
  }
}

TEST_F(ExchangeTest, OneBadItemDoesNotRejectTheOthers) {
  auto results = push(
      kGemeente,
      {referral("t6-ok", test_bsn(6), kReconnact), referral("t6-bad-bsn", "123456789", kReconnact),
       referral("t6-bad-enum", test_bsn(6), kReconnact, {{"doelgroep", "astronaut"}}),
       referral("t6-bad-to", test_bsn(6), "nobody")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0]["status"], "accepted");
  for (int i = 1; i < 4; ++i) EXPECT_EQ(results[i]["status"], "rejected") << results[i];
  EXPECT_NE(results[1]["problem"]["detail"].get<std::string>().find("subject.bsn"),
            std::string::npos);
  EXPECT_NE(results[2]["problem"]["detail"].get<std::string>().find("record.doelgroep"),
            std::string::npos);
  EXPECT_NE(results[3]["problem"]["detail"].get<std::string>().find("to"), std::string::npos);
  EXPECT_EQ(results.dump().find("123456789"), std::string::npos);
  EXPECT_EQ(results.dump().find("astronaut"), std::string::npos);
}

TEST_F(ExchangeTest, BadRequestsAreSpecificProblems) {
  auto c = client(kGemeente);
  auto bad_json = c.post("/v1/referrals", "{\"items\": [");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(json(bad_json)["type"], "urn:brug:problem:invalid-json");
  auto unknown = c.post("/v1/referrals", R"({"items": [], "extra": 1})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json(unknown)["type"], "urn:brug:problem:validation");
  auto empty = c.post("/v1/referrals", R"({"items": []})");
  EXPECT_EQ(empty.status, 400);
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 1001; ++i) many.push_back({{"source_ref", std::to_string(i)}});
  auto big = c.post("/v1/referrals", nlohmann::json{{"items", many}}.dump());
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(json(big)["type"], "urn:brug:problem:batch-too-large");
  auto wrong_type =
      c.send("POST", "/v1/referrals", R"({"items": []})", {{"Content-Type", "text/csv"}});
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(json(wrong_type)["type"], "urn:brug:problem:unsupported-media-type");
  auto bad_limit = c.get("/v1/feed?limit=0");
  EXPECT_EQ(bad_limit.status, 400);
  auto bad_cursor = c.get("/v1/feed?after=abc");
  EXPECT_EQ(json(bad_cursor)["type"], "urn:brug:problem:bad-cursor");
}

TEST_F(ExchangeTest, OnlyGovernmentPartiesPushReferralsAndOnlyProjectsPushOutcomes) {
  EXPECT_EQ(client(kReconnact).post("/v1/referrals", R"({"items": []})").status, 403);
  EXPECT_EQ(client(kGemeente).post("/v1/outcomes", R"({"items": []})").status, 403);
  EXPECT_EQ(client(kReconnact).post("/v1/participants/erase", "{}").status, 403);
}

TEST_F(ExchangeTest, OutcomesNeedTheProjectsOwnPseudonymOfAReferredParticipant) {
  const std::string bsn = test_bsn(7);
  consent(bsn, kReconnact, {"contact", "profiel"});
  push(kGemeente, {referral("t7-1", bsn, kReconnact, named("Uitkomst"))});
  auto items = items_named(kReconnact, "Uitkomst");
  ASSERT_EQ(items.size(), 1u);
  const std::string mine = items[0]["subject"];
  nlohmann::json outcome = {{"subject", {{"pseudonym", mine}}},
                            {"status", "stage"},
                            {"date", "2026-10-01"},
                            {"participatieladder", 4},
                            {"uren_per_week", 16}};
  auto ok = client(kReconnact).post("/v1/outcomes", outcome_body(outcome));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json(ok)["results"][0]["status"], "accepted") << ok.body;
  // The same pseudonym presented by another project is detected.
  auto other = client(kJobhulp).post("/v1/outcomes", outcome_body(outcome));
  EXPECT_EQ(json(other)["results"][0]["status"], "rejected");
  EXPECT_EQ(json(other)["results"][0]["problem"]["type"], "urn:brug:problem:unknown-subject");
  auto bad = outcome;
  bad["status"] = "astronaut";
  auto invalid = client(kReconnact).post("/v1/outcomes", outcome_body(bad));
  EXPECT_EQ(json(invalid)["results"][0]["status"], "rejected");
}

TEST_F(ExchangeTest, OutcomesReachTheReferringGemeenteOnlyWithConsent) {
  const std::string with = test_bsn(8), without = test_bsn(9);
  for (const auto& bsn : {with, without}) {
    consent(bsn, kReconnact, {"contact", "profiel"});
  }
  consent(with, kGemeente, {"uitkomsten"}, "resultaatverantwoording");
  push(kGemeente, {referral("t8-1", with, kReconnact, named("Terugmelding")),
                   referral("t8-2", without, kReconnact, named("Geenterugmelding"))});
  for (const char* name : {"Terugmelding", "Geenterugmelding"}) {
    auto items = items_named(kReconnact, name);
    ASSERT_EQ(items.size(), 1u);
    nlohmann::json outcome = {{"subject", {{"pseudonym", items[0]["subject"]}}},
                              {"status", "betaald-werk"},
                              {"date", "2026-11-01"},
                              {"contract", "parttime"}};
    auto r = client(kReconnact).post("/v1/outcomes", outcome_body(outcome));
    ASSERT_EQ(json(r)["results"][0]["status"], "accepted") << r.body;
  }
  int with_count = 0, without_count = 0;
  for (const auto& i : feed(kGemeente)) {
    if (i["kind"] != "outcome") continue;
    if (i["subject"]["bsn"] == with) ++with_count;
    if (i["subject"]["bsn"] == without) ++without_count;
    if (i["subject"]["bsn"] == with) {
      EXPECT_EQ(i["from"], kReconnact);
      EXPECT_EQ(i["record"]["status"], "betaald-werk");
    }
  }
  EXPECT_EQ(with_count, 1);
  EXPECT_EQ(without_count, 0);
}

TEST_F(ExchangeTest, AWithdrawalBetweenTwoPullsStopsDataAndSendsADeletionNotice) {
  const std::string bsn = test_bsn(10);
  consent(bsn, kJobhulp, {"contact", "profiel"});
  const std::string before = last_cursor(kJobhulp);
  push(kGemeente, {referral("t10-1", bsn, kJobhulp, named("Intrekker"))});
  auto first = items_named(kJobhulp, "Intrekker");
  ASSERT_EQ(first.size(), 1u);
  const std::string pseudonym = first[0]["subject"];

  const std::string id = consent_id(bsn, kJobhulp);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(client(kGemeente).post("/v1/consents/" + id + "/withdraw", "").status, 200);
  // A second referral of the same person after withdrawal never flows.
  push(kGemeente, {referral("t10-2", bsn, kJobhulp, named("Intrekker"))});

  EXPECT_TRUE(items_named(kJobhulp, "Intrekker").empty());
  int deletions = 0;
  for (const auto& i : feed(kJobhulp, before)) {
    if (i["kind"] == "deletion" && i["subject"] == pseudonym) ++deletions;
  }
  EXPECT_EQ(deletions, 1);
}

TEST_F(ExchangeTest, ErasureShredsTheParticipantAndNotifiesTheProjects) {
  const std::string bsn = test_bsn(11);
  consent(bsn, kReconnact, {"contact", "profiel"});
  push(kGemeente, {referral("t11-1", bsn, kReconnact, named("Vergeten"))});
  auto items = items_named(kReconnact, "Vergeten");
  ASSERT_EQ(items.size(), 1u);
  const std::string pseudonym = items[0]["subject"];
  auto r = client(kGemeente).post("/v1/participants/erase",
                                  nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["deletion_notices"], 1);
  EXPECT_TRUE(items_named(kReconnact, "Vergeten").empty());
  bool notified = false;
  for (const auto& i : feed(kReconnact)) {
    notified = notified || (i["kind"] == "deletion" && i["subject"] == pseudonym);
  }
  EXPECT_TRUE(notified);
  nlohmann::json outcome = {
      {"subject", {{"pseudonym", pseudonym}}}, {"status", "stage"}, {"date", "2026-10-01"}};
  auto late = client(kReconnact).post("/v1/outcomes", outcome_body(outcome));
  EXPECT_EQ(json(late)["results"][0]["status"], "rejected");
  auto unknown = client(kGemeente).post(
      "/v1/participants/erase", nlohmann::json{{"subject", {{"bsn", test_bsn(12)}}}}.dump());
  EXPECT_EQ(unknown.status, 404);
}

}  // namespace
}  // namespace brug::testing
