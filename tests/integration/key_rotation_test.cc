// `brug keys rotate` (the real binary) on the fixture's gateway setup, on SQLite and, in the
// integration_test_postgresql run, on PostgreSQL: records pushed before a rotation open after
// it (a feed read over mutual TLS from the restarted gateway), the wrapped keys name the new
// version, the old kek.<N> is gone; an interrupted rotation (a failed commit) loses nothing and
// finishes when run again; a serving gateway and bad inputs are refused, naming the file.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "adapters/testing/faulty_database.h"
#include "crypto/keydir.h"
#include "gateway/cli/keys_command.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

namespace fs = std::filesystem;

class KeyRotationTest : public GatewayFixture {
 protected:
  static std::string config_file() { return dir_->file("dev/brug.json"); }
  static std::string kek(std::uint32_t v) { return config_->key_dir + "/kek." + std::to_string(v); }

  static void stop_gateway() {
    delete gateway_;
    gateway_ = nullptr;
  }
  static void restart_gateway() {
    auto gw = gateway::Gateway::start(*config_, *log_);
    ASSERT_TRUE(gw) << gw.message();
    gateway_ = std::move(gw).value().release();
  }

  // Referrals of `n` new participants to the project, with consent.
  static void push(int first, int n) {
    auto g = client(kGemeente);
    for (int i = first; i < first + n; ++i) {
      nlohmann::json consent = {{"subject", {{"bsn", test_bsn(500 + i)}}},
                                {"grantee", kReconnact},
                                {"purpose", "begeleiding-naar-werk"},
                                {"categories", {"contact", "profiel"}},
                                {"valid_from", "2026-01-01"},
                                {"valid_until", "2030-12-31"},
                                {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
      const auto given = g.post("/v1/consents", consent.dump());
      ASSERT_EQ(given.status, 201) << given.body;
      nlohmann::json body = {{"items", nlohmann::json::array()}};
      body["items"].push_back(
          {{"source_ref", "rotation-" + std::to_string(i)},
           {"to", kReconnact},
           {"purpose", "begeleiding-naar-werk"},
           {"subject", {{"bsn", test_bsn(500 + i)}}},
           {"record", {{"voornaam", "Rotatie"}, {"doelgroep", "participatie"}}}});
      ASSERT_EQ(g.post("/v1/referrals", body.dump()).status, 200);
    }
  }

  // How many of the pushed referrals the project's feed gives opened (from its start).
  static int opened() {
    auto feed = client(kReconnact).get("/v1/feed?limit=1000");
    EXPECT_EQ(feed.status, 200) << feed.body;
    int n = 0;
    const auto page = json(feed);
    for (const auto& item : page["items"]) {
      if (item["kind"] == "referral" && item["record"].value("voornaam", "") == "Rotatie") ++n;
    }
    return n;
  }

  static std::map<std::uint32_t, std::int64_t> versions() {
    auto db = gateway::open_database(*config_);
    EXPECT_TRUE(db) << db.message();
    if (!db) return {};
    auto v = gateway::kek_versions_in_use(**db);
    EXPECT_TRUE(v) << v.message();
    return v ? *v : std::map<std::uint32_t, std::int64_t>{};
  }

  // Every test leaves a serving gateway behind for the next.
  void TearDown() override {
    if (gateway_ == nullptr) restart_gateway();
  }
};

TEST_F(KeyRotationTest, RecordsPushedBeforeARotationOpenAfterItUnderTheNewVersionTwice) {
  ASSERT_NO_FATAL_FAILURE(push(0, 12));
  const int before = opened();
  ASSERT_GE(before, 12);
  const auto start = versions();
  ASSERT_EQ(start.size(), 1U);
  const std::uint32_t v = start.begin()->first;

  stop_gateway();
  auto r = run_brug({"keys", "rotate", "--config", config_file(), "--batch", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("KEK version " + std::to_string(v + 1)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("removed " + kek(v)), std::string::npos) << r.output;
  const std::map<std::uint32_t, std::int64_t> rotated = {{v + 1, start.begin()->second}};
  EXPECT_EQ(versions(), rotated) << "every wrapped key names the new version";
  EXPECT_FALSE(fs::exists(kek(v))) << "the old KEK is gone";
  EXPECT_TRUE(fs::exists(kek(v + 1)));

  ASSERT_NO_FATAL_FAILURE(restart_gateway());
  EXPECT_EQ(opened(), before) << "every record opens after the rotation";
  ASSERT_NO_FATAL_FAILURE(push(100, 3));  // new participants get keys under the new version

  stop_gateway();
  auto again = run_brug({"keys", "rotate", "--config", config_file()});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const std::map<std::uint32_t, std::int64_t> twice = {{v + 2, start.begin()->second + 3}};
  EXPECT_EQ(versions(), twice);
  EXPECT_FALSE(fs::exists(kek(v + 1)));
  ASSERT_NO_FATAL_FAILURE(restart_gateway());
  EXPECT_EQ(opened(), before + 3);

  // Each rotation is in the audit log, and the log still verifies.
  const std::string exported = dir_->file("export-after-rotations");
  ASSERT_EQ(run_brug({"audit", "export", "--config", config_file(), "--out", exported}).exit_code,
            0);
  const std::string entries = TempDir::read(exported + "/entries.jsonl");
  std::size_t rotations = 0;
  for (std::size_t at = 0;
       (at = entries.find("\"action\":\"keys.rotate\"", at)) != std::string::npos; ++at) {
    ++rotations;
  }
  EXPECT_EQ(rotations, 2U);
  const std::string key =
      run_brug({"audit", "pubkey", "--config", config_file()}).output.substr(0, 64);
  auto verified = run_brug({"audit", "verify", exported, "--pubkey", key});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

TEST_F(KeyRotationTest, AnInterruptedRotationLosesNothingAndFinishesWhenRunAgain) {
  ASSERT_NO_FATAL_FAILURE(push(200, 9));
  const int before = opened();
  const auto start = versions();
  ASSERT_EQ(start.size(), 1U);
  const std::uint32_t v = start.begin()->first;
  const std::int64_t keys = start.begin()->second;
  ASSERT_GE(keys, 9);
  ASSERT_GE(before, 9);

  stop_gateway();
  {
    auto inner = gateway::open_database(*config_);
    ASSERT_TRUE(inner) << inner.message();
    adapters::testing::FaultyDatabase db(std::move(inner).value());
    // Write 1 is the audit event, 2 the first batch: the second batch does not commit.
    db.arm(adapters::testing::Fault::kCommitFails, 3);
    auto report = gateway::rotate_keks(db, config_->key_dir, 4);
    ASSERT_FALSE(report) << "the failed commit stops the rotation";
    EXPECT_NE(report.message().find("run brug keys rotate again"), std::string::npos)
        << report.message();
    EXPECT_EQ(db.faults_fired(), 1);
  }
  // Half done: the first batch is under the new version, the rest under the old; both files
  // are kept, and every record opens.
  const auto half = versions();
  ASSERT_EQ(half.size(), 2U);
  EXPECT_EQ(half.at(v + 1), 4);
  EXPECT_EQ(half.at(v), keys - 4);
  EXPECT_TRUE(fs::exists(kek(v)));
  EXPECT_TRUE(fs::exists(kek(v + 1)));
  ASSERT_NO_FATAL_FAILURE(restart_gateway());
  EXPECT_EQ(opened(), before) << "mid-rotation every record opens";

  stop_gateway();
  auto r = run_brug({"keys", "rotate", "--config", config_file(), "--batch", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("finished the rotation to KEK version " + std::to_string(v + 1)),
            std::string::npos)
      << "it resumes, it does not start another version: " << r.output;
  const std::map<std::uint32_t, std::int64_t> done = {{v + 1, keys}};
  EXPECT_EQ(versions(), done);
  EXPECT_FALSE(fs::exists(kek(v)));
  ASSERT_NO_FATAL_FAILURE(restart_gateway());
  EXPECT_EQ(opened(), before);
}

TEST_F(KeyRotationTest, ARotationIsRefusedWhileTheGatewayServesAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(push(300, 1));
  const auto start = versions();
  ASSERT_NE(gateway_, nullptr);
  auto r = run_brug({"keys", "rotate", "--config", config_file()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("key dir " + config_->key_dir + " is in use by a running gateway"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(versions(), start);
  std::size_t keks = 0;
  for (const auto& e : fs::directory_iterator(config_->key_dir)) {
    if (e.path().filename().string().rfind("kek.", 0) == 0) ++keks;
  }
  EXPECT_EQ(keks, 1U) << "no new version was added";
}

TEST_F(KeyRotationTest, AGatewayRefusesToStartWithAKeyDirectoryOlderThanTheDatabase) {
  ASSERT_NO_FATAL_FAILURE(push(400, 1));
  const std::uint32_t v = versions().begin()->first;
  stop_gateway();
  const std::string old_keys = dir_->file("keys-before-rotation");
  fs::copy(config_->key_dir, old_keys);
  fs::permissions(old_keys, fs::perms::owner_all);
  ASSERT_EQ(run_brug({"keys", "rotate", "--config", config_file()}).exit_code, 0);

  gateway::Config stale = *config_;
  stale.key_dir = old_keys;
  auto gw = gateway::Gateway::start(stale, *log_);
  ASSERT_FALSE(gw) << "the database names a KEK the old key directory lacks";
  EXPECT_NE(gw.message().find(old_keys + "/kek." + std::to_string(v + 1) + ", which is missing"),
            std::string::npos)
      << gw.message();
}

TEST_F(KeyRotationTest, BadInputsAreRefusedNamingTheFile) {
  stop_gateway();
  auto missing = run_brug({"keys", "rotate", "--config", dir_->file("no-such.json")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find(dir_->file("no-such.json")), std::string::npos) << missing.output;

  auto usage = run_brug({"keys", "rotate"});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_EQ(run_brug({"keys", "rotate", "--config", config_file(), "--batch", "0"}).exit_code, 2);
  EXPECT_EQ(run_brug({"keys", "turn", "--config", config_file()}).exit_code, 2);

  const std::string current = [] {
    std::string newest;
    for (const auto& e : fs::directory_iterator(config_->key_dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("kek.", 0) == 0) newest = e.path().string();
    }
    return newest;
  }();
  ASSERT_FALSE(current.empty());
  ::chmod(current.c_str(), 0644);
  auto open_key = run_brug({"keys", "rotate", "--config", config_file()});
  ::chmod(current.c_str(), 0600);
  EXPECT_EQ(open_key.exit_code, 1);
  EXPECT_NE(open_key.output.find("key file " + current + " is accessible by group or others"),
            std::string::npos)
      << open_key.output;

  ::chmod(config_->key_dir.c_str(), 0777);
  auto open_dir = run_brug({"keys", "rotate", "--config", config_file()});
  ::chmod(config_->key_dir.c_str(), 0700);
  EXPECT_EQ(open_dir.exit_code, 1);
  EXPECT_NE(open_dir.output.find("key dir " + config_->key_dir + " is writable by group or others"),
            std::string::npos)
      << open_dir.output;
  std::size_t keks = 0;
  for (const auto& e : fs::directory_iterator(config_->key_dir)) {
    if (e.path().filename().string().rfind("kek.", 0) == 0) ++keks;
  }
  EXPECT_EQ(keks, 1U) << "a refused rotation adds no version";
}

}  // namespace
}  // namespace brug::testing
