// The audit log over real mutual TLS and offline: proofs verified on the client side, every
// disclosure and refusal leaves an event, fail closed, and tampering with the stored log is
// caught by `brug audit verify`.
#include <gtest/gtest.h>

#include "adapters/sqlite/storage.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"
#include "gateway/audit/audit_log.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class AuditTest : public GatewayFixture {
 protected:
  static constexpr const char* kProject = "reconnact-leusden";

  // A participant with consent, referred to the project, whose feed the project pulls.
  static void disclose(int n) {
    const std::string bsn = test_bsn(n);
    nlohmann::json consent = {{"subject", {{"bsn", bsn}}},
                              {"grantee", kProject},
                              {"purpose", "begeleiding-naar-werk"},
                              {"categories", {"contact", "profiel"}},
                              {"valid_from", "2026-01-01"},
                              {"valid_until", "2030-12-31"},
                              {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
    ASSERT_EQ(client(kGemeente).post("/v1/consents", consent.dump()).status, 201);
    nlohmann::json push = {{"items", nlohmann::json::array()}};
    push["items"].push_back({{"source_ref", "audit-" + std::to_string(n)},
                             {"to", kProject},
                             {"purpose", "begeleiding-naar-werk"},
                             {"subject", {{"bsn", bsn}}},
                             {"record", {{"voornaam", "Audit"}, {"doelgroep", "participatie"}}}});
    ASSERT_EQ(client(kGemeente).post("/v1/referrals", push.dump()).status, 200);
    ASSERT_EQ(client(kProject).get("/v1/feed?limit=1000").status, 200);
  }
  static nlohmann::json checkpoint() {
    auto r = client(kAuditor).get("/v1/audit/checkpoint");
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r);
  }
  static std::vector<nlohmann::json> search(const nlohmann::json& filter) {
    auto r = client(kAuditor).post("/v1/audit/events/search", filter.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<nlohmann::json> out;
    const auto j = json(r);
    for (const auto& e : j["events"]) out.push_back(e);
    return out;
  }
  static crypto::Sha256Digest digest(const std::string& hex) {
    return *crypto::fixed_from_hex<32>(hex, "hash");
  }
};

TEST_F(AuditTest, ACheckpointIsSignedAndItsRootIsRecomputedFromTheEntries) {
  disclose(600);
  const auto c = checkpoint();
  const std::uint64_t size = c["size"];
  ASSERT_GT(size, 0u);
  // The signature over the documented bytes, with the published key.
  auto key = crypto::VerifyKey::from_hex(c["public_key"].get<std::string>());
  ASSERT_TRUE(key);
  auto sig = crypto::Signature::from_hex(*crypto::KeyId::parse(c["key_id"].get<std::string>()),
                                         c["signature"].get<std::string>());
  ASSERT_TRUE(sig);
  const std::string bytes =
      gateway::checkpoint_bytes({size, c["root"], c["time"], c["key_id"], c["signature"]});
  EXPECT_TRUE(key->verify(crypto::bytes_of(bytes), *sig).is_ok());
  // The root from the raw leaves, fetched in pages.
  crypto::MemoryMerkleTree tree;
  for (std::uint64_t start = 0; start < size; start += 1000) {
    auto r = client(kAuditor).get("/v1/audit/entries?start=" + std::to_string(start) +
                                  "&end=" + std::to_string(std::min(size, start + 1000)));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page = json(r);
    for (const auto& b64 : page["entries"]) {
      auto leaf = crypto::from_base64url(b64.get<std::string>(), "entry");
      ASSERT_TRUE(leaf);
      tree.append(*leaf);
    }
  }
  ASSERT_EQ(tree.size(), size);
  EXPECT_EQ(crypto::to_hex(tree.root()), c["root"]);
}

TEST_F(AuditTest, InclusionAndConsistencyProofsVerifyOnTheClient) {
  disclose(601);
  const auto old = checkpoint();
  disclose(602);
  const auto now = checkpoint();
  const std::uint64_t m = old["size"], n = now["size"];
  ASSERT_LT(m, n);
  auto r = client(kAuditor).get("/v1/audit/proof/consistency?from=" + std::to_string(m) +
                                "&to=" + std::to_string(n));
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<crypto::Sha256Digest> proof;
  const nlohmann::json answer = json(r);
  for (const auto& h : answer["proof"]) proof.push_back(digest(h));
  EXPECT_TRUE(
      crypto::verify_consistency(m, n, digest(old["root"]), digest(now["root"]), proof).is_ok());
  const std::uint64_t index = m - 1;
  auto entry = json(client(kAuditor).get("/v1/audit/entries?start=" + std::to_string(index) +
                                         "&end=" + std::to_string(index + 1)));
  auto leaf = crypto::from_base64url(entry["entries"][0].get<std::string>(), "entry");
  ASSERT_TRUE(leaf);
  auto inc = json(client(kAuditor).get("/v1/audit/proof/inclusion?index=" + std::to_string(index) +
                                       "&size=" + std::to_string(n)));
  std::vector<crypto::Sha256Digest> path;
  for (const auto& h : inc["path"]) path.push_back(digest(h));
  EXPECT_TRUE(
      crypto::verify_inclusion(crypto::merkle_leaf_hash(*leaf), index, n, path, digest(now["root"]))
          .is_ok());
}

TEST_F(AuditTest, EveryDisclosureNamesFieldsPolicyAndConsentButNoValues) {
  disclose(603);
  const auto events = search({{"subject", {{"bsn", test_bsn(603)}}}, {"action", "feed.read"}});
  ASSERT_FALSE(events.empty());
  const auto& e = events.back();
  EXPECT_EQ(e["decision"], "permit");
  EXPECT_EQ(e["recipient"], kProject);
  EXPECT_EQ(e["purpose"], "begeleiding-naar-werk");
  EXPECT_EQ(e["basis"], "consent");
  EXPECT_FALSE(e["consent_ids"].empty());
  EXPECT_FALSE(e["policy_ids"].empty());
  EXPECT_EQ(e["policy_set"].get<std::string>().size(), 64u);
  EXPECT_NE(std::find(e["fields"].begin(), e["fields"].end(), "voornaam"), e["fields"].end());
  EXPECT_EQ(e.dump().find("Audit"), std::string::npos);  // names, never values
  EXPECT_EQ(e.dump().find(test_bsn(603)), std::string::npos);
}

TEST_F(AuditTest, ARefusalIsAnAuditEventToo) {
  EXPECT_EQ(client(kProject).get("/v1/audit/checkpoint").status, 403);
  const auto events = search({{"actor", kProject}, {"action", "audit.checkpoint"}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events.back()["decision"], "deny");
  EXPECT_EQ(events.back()["reason"], "forbidden");
}

// The outcome push goes through policy like every flow: its event names the purpose, the basis
// and the policies that let the outcome flow back to the referring gemeente.
TEST_F(AuditTest, AnOutcomePushNamesItsPurposeBasisAndPolicies) {
  disclose(606);
  std::string pseudonym;
  std::string after = "0";
  for (int page = 0; page < 20; ++page) {
    auto j = json(client(kProject).get("/v1/feed?limit=1000&after=" + after));
    if (j["items"].empty()) break;
    for (const auto& item : j["items"]) {
      if (item.contains("record") && item["record"].value("voornaam", "") == "Audit") {
        pseudonym = item["subject"];
      }
    }
    after = j["next_cursor"];
  }
  ASSERT_FALSE(pseudonym.empty());
  const nlohmann::json body = {
      {"items",
       {{{"subject", {{"pseudonym", pseudonym}}}, {"status", "stage"}, {"date", "2026-10-12"}}}}};
  ASSERT_EQ(client(kProject).post("/v1/outcomes", body.dump()).status, 200);
  const auto events = search({{"actor", kProject}, {"action", "outcome.push"}});
  ASSERT_FALSE(events.empty());
  const auto& e = events.back();
  EXPECT_EQ(e["decision"], "permit");
  EXPECT_EQ(e["purpose"], "resultaatverantwoording");
  EXPECT_EQ(e["basis"], "consent");
  EXPECT_EQ(e["policy_ids"], nlohmann::json::array({"project-outcome-to-gemeente@1"}));
  EXPECT_EQ(e["record_type"], "outcome");
  EXPECT_FALSE(e["subject"].get<std::string>().empty());
}

TEST_F(AuditTest, TheSubjectReportShowsThatPersonsDisclosuresOnly) {
  disclose(604);
  disclose(605);
  auto r = client(kGemeente).post("/v1/audit/subject-report",
                                  nlohmann::json{{"subject", {{"bsn", test_bsn(604)}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto list = json(r)["disclosed"];
  ASSERT_FALSE(list.empty());
  bool project_saw = false;
  for (const auto& d : list) project_saw = project_saw || d["recipient"] == kProject;
  EXPECT_TRUE(project_saw);
  // 605 was disclosed too, right after: its events are not in 604's report.
  const auto other = search({{"subject", {{"bsn", test_bsn(605)}}}});
  std::set<std::string> other_times;
  for (const auto& e : other) other_times.insert(e["subject"]);
  for (const auto& d : list) EXPECT_EQ(d.dump().find(*other_times.begin()), std::string::npos);
  // The FG handles access requests too.
  EXPECT_EQ(client(kAuditor)
                .post("/v1/audit/subject-report",
                      nlohmann::json{{"subject", {{"bsn", test_bsn(604)}}}}.dump())
                .status,
            200);
}

TEST_F(AuditTest, BadAuditorQueriesAreProblems) {
  auto c = client(kAuditor);
  EXPECT_EQ(c.get("/v1/audit/entries?start=5&end=2").status, 400);
  EXPECT_EQ(c.get("/v1/audit/entries?start=0&end=5000").status, 400);
  EXPECT_EQ(c.get("/v1/audit/entries?start=x&end=2").status, 400);
  EXPECT_EQ(c.get("/v1/audit/proof/inclusion?index=999999&size=1000000").status, 400);
  EXPECT_EQ(c.get("/v1/audit/proof/consistency?from=5&to=2").status, 400);
  EXPECT_EQ(c.post("/v1/audit/events/search", R"({"colour": "red"})").status, 400);
  EXPECT_EQ(c.post("/v1/audit/events/search", R"({"subject": {"bsn": "123"}})").status, 400);
}

// Fail closed: when the audit store refuses writes, a feed pull that would disclose answers 500
// and carries nothing.
TEST(AuditFailClosed, NoDataLeavesWhenTheAuditWriteFails) {
  Poco::Net::initializeSSL();
  TempDir dir;
  ASSERT_EQ(run_brug({"init", dir.file("dev")}).exit_code, 0);
  auto config = gateway::load_config(dir.file("dev/brug.json"));
  ASSERT_TRUE(config);
  config->port = 0;
  std::ofstream log(dir.file("gateway.log"));
  auto gw = gateway::Gateway::start(*config, log);
  ASSERT_TRUE(gw) << gw.message();
  auto client_of = [&](const std::string& org) {
    return HttpsClient((*gw)->port(), dir.file("dev/pki/ca.pem"),
                       {dir.file("dev/pki/" + org + ".pem"), dir.file("dev/pki/" + org + ".key")});
  };
  nlohmann::json push = {{"items", nlohmann::json::array()}};
  push["items"].push_back({{"source_ref", "fc-1"},
                           {"to", kGemeente},
                           {"purpose", "uitvoering-participatiewet"},
                           {"subject", {{"bsn", test_bsn(700)}}},
                           {"record", {{"voornaam", "Geheim"}, {"doelgroep", "zorg"}}}});
  ASSERT_EQ(client_of("laborijn").post("/v1/referrals", push.dump()).status, 200);
  // Break the audit store behind the gateway's back.
  auto db = adapters::open_sqlite_storage({.path = config->sqlite_path});
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)
                  ->transact([](adapters::Tx& tx) {
                    return tx
                        .exec(
                            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_events BEGIN "
                            "SELECT RAISE(ABORT, 'audit store refuses'); END")
                        .status();
                  })
                  .is_ok());
  auto r = client_of(kGemeente).get("/v1/feed");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("Geheim"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(r.body)["type"], "urn:brug:problem:internal");
  // Once the store accepts writes again the item is delivered (it was never lost).
  ASSERT_TRUE(
      (*db)
          ->transact([](adapters::Tx& tx) { return tx.exec("DROP TRIGGER no_audit").status(); })
          .is_ok());
  auto again = client_of(kGemeente).get("/v1/feed");
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("Geheim"), std::string::npos);
}

}  // namespace
}  // namespace brug::testing
