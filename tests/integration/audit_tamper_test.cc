// Tampering with the stored audit log is caught: `brug audit export` + `brug audit verify` name
// the first bad index, and a rewritten history fails consistency with an older checkpoint.
#include <gtest/gtest.h>

#include <algorithm>

#include "adapters/sqlite/storage.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "gateway/audit/audit_log.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Net::initializeSSL();
    ASSERT_EQ(run_brug({"init", dir_.file("dev")}).exit_code, 0);
    auto config = gateway::load_config(dir_.file("dev/brug.json"));
    ASSERT_TRUE(config);
    config->port = 0;
    config_ = *config;
    log_.open(dir_.file("gateway.log"));
    auto gw = gateway::Gateway::start(config_, log_);
    ASSERT_TRUE(gw) << gw.message();
    gateway_ = std::move(gw).value();
    // A few events: consents recorded and searched, so the log has more than eight leaves.
    for (int n = 0; n < 4; ++n) {
      nlohmann::json consent = {{"subject", {{"bsn", test_bsn(800 + n)}}},
                                {"grantee", "reconnact-leusden"},
                                {"purpose", "begeleiding-naar-werk"},
                                {"categories", {"contact"}},
                                {"valid_from", "2026-01-01"},
                                {"valid_until", "2030-12-31"},
                                {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
      ASSERT_EQ(client("gemeente-oude-ijsselstreek").post("/v1/consents", consent.dump()).status,
                201);
      client("gemeente-oude-ijsselstreek")
          .post("/v1/consents/search",
                nlohmann::json{{"subject", {{"bsn", test_bsn(800 + n)}}}}.dump());
    }
    // And the exchange: a referral pushed, pulled by the project, an outcome back.
    nlohmann::json push = {{"items", nlohmann::json::array()}};
    push["items"].push_back({{"source_ref", "tamper-1"},
                             {"to", "reconnact-leusden"},
                             {"purpose", "begeleiding-naar-werk"},
                             {"subject", {{"bsn", test_bsn(800)}}},
                             {"record", {{"voornaam", "Log"}, {"doelgroep", "participatie"}}}});
    ASSERT_EQ(client("gemeente-oude-ijsselstreek").post("/v1/referrals", push.dump()).status, 200);
    const auto feed =
        nlohmann::json::parse(client("reconnact-leusden").get("/v1/feed").body)["items"];
    ASSERT_EQ(feed.size(), 1u);
    nlohmann::json outcome = {{"items", nlohmann::json::array()}};
    outcome["items"].push_back({{"subject", {{"pseudonym", feed[0]["subject"]}}},
                                {"status", "intake"},
                                {"date", "2026-11-01"}});
    ASSERT_EQ(client("reconnact-leusden").post("/v1/outcomes", outcome.dump()).status, 200);
    checkpoint_ = checkpoint();  // signs one covering everything so far
    auto db = adapters::open_sqlite_storage({.path = config_.sqlite_path});
    ASSERT_TRUE(db);
    db_ = std::move(db).value();
  }

  HttpsClient client(const std::string& org) {
    return HttpsClient(
        gateway_->port(), dir_.file("dev/pki/ca.pem"),
        {dir_.file("dev/pki/" + org + ".pem"), dir_.file("dev/pki/" + org + ".key")});
  }
  nlohmann::json checkpoint() {
    auto r = client("fg-oude-ijsselstreek").get("/v1/audit/checkpoint");
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body);
  }
  void sql(const std::string& statement) {
    ASSERT_TRUE(
        db_->transact([&](adapters::Tx& tx) { return tx.exec(statement).status(); }).is_ok())
        << statement;
  }
  // Exports with the real binary and verifies with the published key.
  RunResult export_and_verify() {
    const std::string out = dir_.file("export");
    auto e = run_brug({"audit", "export", "--config", dir_.file("dev/brug.json"), "--out", out});
    EXPECT_EQ(e.exit_code, 0) << e.output;
    auto key = run_brug({"audit", "pubkey", "--config", dir_.file("dev/brug.json")});
    return run_brug({"audit", "verify", out, "--pubkey", key.output.substr(0, 64)});
  }

  TempDir dir_;
  gateway::Config config_;
  std::ofstream log_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<adapters::Storage> db_;
  nlohmann::json checkpoint_;
};

TEST_F(AuditTamperTest, AnUntouchedLogVerifies) {
  auto v = export_and_verify();
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("ok:"), std::string::npos);
}

TEST_F(AuditTamperTest, AChangedEventIsNamed) {
  sql("UPDATE audit_events SET leaf = CAST(REPLACE(CAST(leaf AS TEXT), '\"permit\"', "
      "'\"deny\"') AS BLOB) WHERE idx = 5");
  auto v = export_and_verify();
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.output.find("first bad index 5"), std::string::npos) << v.output;
}

TEST_F(AuditTamperTest, ADeletedEventIsNamed) {
  sql("DELETE FROM audit_events WHERE idx = 5");
  auto v = export_and_verify();
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.output.find("first bad index 5"), std::string::npos) << v.output;
}

TEST_F(AuditTamperTest, ReorderedEventsAreNamed) {
  sql("UPDATE audit_events SET leaf = CASE idx WHEN 5 THEN (SELECT leaf FROM audit_events "
      "WHERE idx = 6) ELSE (SELECT leaf FROM audit_events WHERE idx = 5) END WHERE idx IN (5, 6)");
  auto v = export_and_verify();
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.output.find("first bad index 5"), std::string::npos) << v.output;
}

TEST_F(AuditTamperTest, AnEventAppendedToTheExportIsCaught) {
  // The export signs a checkpoint over everything it exports (a forgery already in the database
  // when it signs is signed with it; an older checkpoint held by an auditor or a witness is what
  // catches a rewrite, below). A well-formed, correctly chained forgery added to the export
  // afterwards lies beyond the newest signed checkpoint.
  const std::string out = dir_.file("export");
  auto e = run_brug({"audit", "export", "--config", dir_.file("dev/brug.json"), "--out", out});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  const std::string entries = TempDir::read(out + "/entries.jsonl");
  const std::uint64_t size =
      static_cast<std::uint64_t>(std::count(entries.begin(), entries.end(), '\n'));
  const std::string last = entries.substr(entries.rfind('\n', entries.size() - 2) + 1);
  const auto prev = crypto::merkle_leaf_hash(crypto::bytes_of(last.substr(0, last.size() - 1)));
  gateway::AuditEvent forged;
  forged.time = "2026-11-22T00:00:00.000Z";
  forged.action = "feed.read";
  forged.decision = "permit";
  std::ofstream(out + "/entries.jsonl", std::ios::app)
      << gateway::audit_leaf(forged, size, prev) << "\n";
  auto key = run_brug({"audit", "pubkey", "--config", dir_.file("dev/brug.json")});
  auto v = run_brug({"audit", "verify", out, "--pubkey", key.output.substr(0, 64)});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.output.find("first bad index " + std::to_string(size)), std::string::npos)
      << v.output;
}

// Someone with the database and the gateway rewrites an old event and rebuilds every hash; the
// gateway then signs the rewritten log. An auditor holding the older checkpoint catches it.
TEST_F(AuditTamperTest, ARewrittenHistoryFailsConsistencyWithAnOlderCheckpoint) {
  sql("UPDATE audit_events SET leaf = CAST(REPLACE(CAST(leaf AS TEXT), '\"permit\"', "
      "'\"deny\"') AS BLOB) WHERE idx = 3");
  // Rebuild leaf hashes and every subtree hash from the rewritten leaves.
  ASSERT_TRUE(
      db_->transact([](adapters::Tx& tx) {
           auto rows = tx.query("SELECT idx, leaf FROM audit_events ORDER BY idx");
           if (!rows) return rows.status();
           BRUG_RETURN_IF_ERROR(tx.exec("DELETE FROM audit_nodes").status());
           std::vector<std::vector<crypto::Sha256Digest>> levels(1);
           for (const auto& r : *rows) {
             const auto h = crypto::merkle_leaf_hash(r.blob(1));
             BRUG_RETURN_IF_ERROR(tx.exec("UPDATE audit_events SET leaf_hash = ? WHERE idx = ?",
                                          {adapters::Blob(h.begin(), h.end()), r.integer(0)})
                                      .status());
             levels[0].push_back(h);
           }
           for (std::size_t l = 0; levels[l].size() >= 2; ++l) {
             levels.emplace_back();
             for (std::size_t i = 0; i + 1 < levels[l].size(); i += 2) {
               const auto p = crypto::merkle_node_hash(levels[l][i], levels[l][i + 1]);
               levels[l + 1].push_back(p);
               BRUG_RETURN_IF_ERROR(
                   tx.exec("INSERT INTO audit_nodes VALUES (?, ?, ?)",
                           {static_cast<std::int64_t>(l + 1), static_cast<std::int64_t>(i / 2),
                            adapters::Blob(p.begin(), p.end())})
                       .status());
             }
           }
           return Status::ok();
         })
          .is_ok());
  // One more event so the gateway signs a new checkpoint over the rewritten log.
  client("reconnact-leusden").get("/v1/audit/checkpoint");  // refused: an audited event
  const auto now = checkpoint();
  const std::uint64_t m = checkpoint_["size"], n = now["size"];
  ASSERT_LT(m, n);
  auto r = client("fg-oude-ijsselstreek")
               .get("/v1/audit/proof/consistency?from=" + std::to_string(m) +
                    "&to=" + std::to_string(n));
  ASSERT_EQ(r.status, 200);
  std::vector<crypto::Sha256Digest> proof;
  const nlohmann::json answer = nlohmann::json::parse(r.body);
  for (const auto& h : answer["proof"]) {
    proof.push_back(*crypto::fixed_from_hex<32>(h.get<std::string>(), "hash"));
  }
  const auto old_root = *crypto::fixed_from_hex<32>(checkpoint_["root"].get<std::string>(), "r");
  const auto new_root = *crypto::fixed_from_hex<32>(now["root"].get<std::string>(), "r");
  EXPECT_FALSE(crypto::verify_consistency(m, n, old_root, new_root, proof).is_ok());
}

}  // namespace
}  // namespace brug::testing
