// `brug audit witness`: cosigns a checkpoint only when the log's signature verifies and the new
// checkpoint is consistent with the one it kept; the gateway serves the cosignature with its
// checkpoint note; a rewritten history is refused and the kept checkpoint stays.
#include <gtest/gtest.h>

#include <filesystem>

#include "adapters/sqlite/storage.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"
#include "gateway/audit/tlog.h"
#include "tests/support/gateway_fixture.h"

namespace brug::testing {
namespace {

constexpr const char* kWitness = "witness.oude-ijsselstreek.invalid/fg";

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Net::initializeSSL();
    ASSERT_EQ(run_brug({"init", dir_.file("dev")}).exit_code, 0);
    auto key = run_brug({"audit", "witness-key", "--out", dir_.file("witness.key")});
    ASSERT_EQ(key.exit_code, 0) << key.output;
    witness_public_ = key.output.substr(0, 64);
    auto json = nlohmann::json::parse(TempDir::read(dir_.file("dev/brug.json")));
    json["audit"]["witnesses"] = {{{"name", kWitness}, {"public_key", witness_public_}}};
    std::ofstream(dir_.file("dev/brug.json")) << json.dump(2);
    auto config = gateway::load_config(dir_.file("dev/brug.json"));
    ASSERT_TRUE(config) << config.message();
    config->port = 0;
    config_ = *config;
    log_.open(dir_.file("gateway.log"));
    auto gw = gateway::Gateway::start(config_, log_);
    ASSERT_TRUE(gw) << gw.message();
    gateway_ = std::move(gw).value();
    // The witness reaches the gateway through the config's listen address.
    auto with_port = nlohmann::json::parse(TempDir::read(dir_.file("dev/brug.json")));
    with_port["listen"]["port"] = gateway_->port();
    std::ofstream(dir_.file("dev/witness.json")) << with_port.dump(2);
    log_key_ =
        run_brug({"audit", "pubkey", "--config", dir_.file("dev/brug.json")}).output.substr(0, 64);
  }

  HttpsClient client(const std::string& org) {
    return HttpsClient(
        gateway_->port(), dir_.file("dev/pki/ca.pem"),
        {dir_.file("dev/pki/" + org + ".pem"), dir_.file("dev/pki/" + org + ".key")});
  }
  void events(int n) {
    auto c = client(kLaborijn);
    for (int i = 0; i < n; ++i) ASSERT_EQ(c.get("/v1/audit/entries?start=0&end=1").status, 403);
  }
  RunResult witness() {
    return run_brug({"audit", "witness", "--config", dir_.file("dev/witness.json"), "--key",
                     dir_.file("witness.key"), "--name", kWitness, "--log-key", log_key_, "--state",
                     dir_.file("witness.state")});
  }
  // Someone with the database rewrites event 3 and rebuilds every hash above it.
  void rewrite_history() {
    auto db = adapters::open_sqlite_storage({.path = config_.sqlite_path});
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        (*db)
            ->transact([](adapters::Tx& tx) {
              BRUG_RETURN_IF_ERROR(
                  tx.exec("UPDATE audit_events SET leaf = CAST(REPLACE(CAST(leaf AS "
                          "TEXT), '\"deny\"', '\"permit\"') AS BLOB) WHERE idx = 3")
                      .status());
              auto rows = tx.query("SELECT idx, leaf FROM audit_events ORDER BY idx");
              if (!rows) return rows.status();
              BRUG_RETURN_IF_ERROR(tx.exec("DELETE FROM audit_nodes").status());
              std::vector<crypto::Sha256Digest> level;
              for (const auto& r : *rows) {
                const auto h = crypto::merkle_leaf_hash(r.blob(1));
                BRUG_RETURN_IF_ERROR(tx.exec("UPDATE audit_events SET leaf_hash = ? WHERE idx = ?",
                                             {adapters::Blob(h.begin(), h.end()), r.integer(0)})
                                         .status());
                level.push_back(h);
              }
              for (std::int64_t l = 1; level.size() >= 2; ++l) {
                std::vector<crypto::Sha256Digest> up;
                for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
                  up.push_back(crypto::merkle_node_hash(level[i], level[i + 1]));
                  BRUG_RETURN_IF_ERROR(tx.exec("INSERT INTO audit_nodes VALUES (?, ?, ?)",
                                               {l, static_cast<std::int64_t>(i / 2),
                                                adapters::Blob(up.back().begin(), up.back().end())})
                                           .status());
                }
                level = std::move(up);
              }
              return Status::ok();
            })
            .is_ok());
  }

  TempDir dir_;
  gateway::Config config_;
  std::ofstream log_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::string witness_public_, log_key_;
};

TEST_F(WitnessTest, CosignsAConsistentLogAndTheGatewayServesTheCosignature) {
  events(5);
  auto first = witness();
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("cosigned checkpoint"), std::string::npos);
  // The note now carries the log's signature and the witness's cosignature.
  auto note = gateway::parse_note(client(kAuditor).get("/v1/audit/log/checkpoint").body);
  ASSERT_TRUE(note) << note.message();
  ASSERT_EQ(note->signatures.size(), 2u);
  auto key = crypto::VerifyKey::from_hex(witness_public_);
  ASSERT_TRUE(key);
  EXPECT_TRUE(gateway::verify_cosignature(*note, kWitness, *key));
  // The log grows; the witness checks consistency and cosigns again.
  events(7);
  auto second = witness();
  ASSERT_EQ(second.exit_code, 0) << second.output;
}

TEST_F(WitnessTest, RefusesARewrittenHistoryAndKeepsItsCheckpoint) {
  events(6);
  ASSERT_EQ(witness().exit_code, 0);
  const std::string kept = TempDir::read(dir_.file("witness.state"));
  rewrite_history();
  events(1);  // the gateway signs the rewritten log at the next checkpoint
  auto refused = witness();
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("witness refuses"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("rewritten"), std::string::npos) << refused.output;
  EXPECT_EQ(TempDir::read(dir_.file("witness.state")), kept);
}

TEST_F(WitnessTest, RefusesAnotherLogKeyAndTheGatewayRefusesStrangers) {
  events(2);
  auto other = crypto::SigningKey::generate();
  ASSERT_TRUE(other);
  auto wrong = run_brug({"audit", "witness", "--config", dir_.file("dev/witness.json"), "--key",
                         dir_.file("witness.key"), "--name", kWitness, "--log-key",
                         other->verify_key().to_hex(), "--state", dir_.file("w2.state")});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("w2.state")));
  // A cosignature by a key that is not a configured witness, and a size the log lacks.
  auto cp = client(kAuditor).get("/v1/audit/checkpoint");
  const auto size = nlohmann::json::parse(cp.body)["size"].get<std::uint64_t>();
  auto note = gateway::parse_note(client(kAuditor).get("/v1/audit/log/checkpoint").body);
  ASSERT_TRUE(note);
  const std::string line = gateway::cosignature_line(note->body, kWitness, 1, *other);
  auto stranger = client(kAuditor).post(
      "/v1/audit/log/cosignature", nlohmann::json{{"size", size}, {"cosignature", line}}.dump());
  EXPECT_EQ(stranger.status, 403) << stranger.body;
  auto too_big =
      client(kAuditor).post("/v1/audit/log/cosignature",
                            nlohmann::json{{"size", size + 1000}, {"cosignature", line}}.dump());
  EXPECT_EQ(too_big.status, 400) << too_big.body;
  EXPECT_EQ(client(kLaborijn)
                .post("/v1/audit/log/cosignature",
                      nlohmann::json{{"size", size}, {"cosignature", line}}.dump())
                .status,
            403);
}

}  // namespace
}  // namespace brug::testing
