// `brug backup` under load, then `brug restore` into another setup: the restored audit log
// verifies, every record opens (a feed pulled from a gateway on the restored copy shows it).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class BackupTest : public GatewayFixture {};

TEST_F(BackupTest, BackupUnderLoadRestoresToAVerifyingLogWhereEveryRecordOpens) {
  // Referrals with consent, so the project's feed carries records.
  auto g = client(kGemeente);
  for (int n = 0; n < 20; ++n) {
    nlohmann::json consent = {{"subject", {{"bsn", test_bsn(900 + n)}}},
                              {"grantee", kReconnact},
                              {"purpose", "begeleiding-naar-werk"},
                              {"categories", {"contact", "profiel"}},
                              {"valid_from", "2026-01-01"},
                              {"valid_until", "2030-12-31"},
                              {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
    ASSERT_EQ(g.post("/v1/consents", consent.dump()).status, 201);
    nlohmann::json push = {{"items", nlohmann::json::array()}};
    push["items"].push_back({{"source_ref", "backup-" + std::to_string(n)},
                             {"to", kReconnact},
                             {"purpose", "begeleiding-naar-werk"},
                             {"subject", {{"bsn", test_bsn(900 + n)}}},
                             {"record", {{"voornaam", "Backup"}, {"doelgroep", "participatie"}}}});
    ASSERT_EQ(g.post("/v1/referrals", push.dump()).status, 200);
  }
  // Load while the backup runs: pushes and refused reads from two threads.
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&, t] {
      auto c = client(t == 0 ? kGemeente : kLaborijn);
      for (int i = 0; !stop && i < 2000; ++i) {
        const int status = c.get("/v1/audit/entries?start=0&end=1").status;
        if (status == 403) ++served;
      }
    });
  }
  while (served < 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string config = dir_->file("dev/brug.json");
  auto db = run_brug({"backup", "--config", config, "--out", dir_->file("backup")});
  auto keys = run_brug({"backup", "--config", config, "--keys-out", dir_->file("backup-keys")});
  stop = true;
  for (auto& th : load) th.join();
  ASSERT_EQ(db.exit_code, 0) << db.output;
  ASSERT_EQ(keys.exit_code, 0) << keys.output;
  EXPECT_FALSE(std::filesystem::exists(dir_->file("backup/keys")));  // keys only when asked

  // Another setup (same certificates and registry) without database or keys: restore into it.
  const std::string other = dir_->file("restored");
  std::filesystem::copy(dir_->file("dev"), other, std::filesystem::copy_options::recursive);
  auto restored_config = gateway::load_config(other + "/brug.json");
  ASSERT_TRUE(restored_config);
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(restored_config->sqlite_path + suffix);
  }
  std::filesystem::remove_all(restored_config->key_dir);
  auto refused = run_brug({"restore", "--config", config, "--from", dir_->file("backup")});
  EXPECT_EQ(refused.exit_code, 1) << "never over a live database";
  auto r = run_brug({"restore", "--config", other + "/brug.json", "--from", dir_->file("backup"),
                     "--keys-from", dir_->file("backup-keys")});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The restored log verifies.
  auto e = run_brug({"audit", "export", "--config", other + "/brug.json", "--out",
                     dir_->file("restored-export")});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  auto key = run_brug({"audit", "pubkey", "--config", other + "/brug.json"});
  auto v = run_brug(
      {"audit", "verify", dir_->file("restored-export"), "--pubkey", key.output.substr(0, 64)});
  EXPECT_EQ(v.exit_code, 0) << v.output;

  // Every record opens: a gateway on the restored copy gives the project all 20.
  restored_config->port = 0;
  std::ofstream log(dir_->file("restored.log"));
  auto gw = gateway::Gateway::start(*restored_config, log);
  ASSERT_TRUE(gw) << gw.message();
  HttpsClient project((*gw)->port(), pki("ca.pem"), org(kReconnact));
  auto feed = project.get("/v1/feed?limit=1000");
  ASSERT_EQ(feed.status, 200) << feed.body;
  int opened = 0;
  const auto page = json(feed);
  for (const auto& item : page["items"]) {
    if (item["kind"] == "referral" && item["record"].value("voornaam", "") == "Backup") ++opened;
  }
  EXPECT_EQ(opened, 20);
}

}  // namespace
}  // namespace brug::testing
