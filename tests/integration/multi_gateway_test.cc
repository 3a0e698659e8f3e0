// Two `brug serve` processes over one PostgreSQL, as a load balancer would spread clients over
// them: real processes, real mutual TLS, a private PostgreSQL cluster of this binary
// (scripts/pg-test-server.sh) that the outage test may stop and start again.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/https_client.h"
#include "tests/support/postgres.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kGemeente = "gemeente-oude-ijsselstreek";
constexpr const char* kLaborijn = "laborijn";
constexpr const char* kReconnact = "reconnact-leusden";

const std::string kScript = std::string(BRUG_SOURCE_DIR) + "/scripts/pg-test-server.sh";

int script(const std::string& command, const std::string& dir) {
  return std::system(
      (shell_quote(kScript) + " " + command + " " + shell_quote(dir) + " >/dev/null 2>&1").c_str());
}

// One `brug serve` child process on its own config (same setup folder, own log and port).
class Serve {
 public:
  Serve(const TempDir& dir, const std::string& name) : log_(dir.file(name + ".log")) {
    auto cfg = nlohmann::json::parse(TempDir::read(dir.file("dev/brug.json")));
    cfg["listen"]["port"] = 0;
    cfg["log"] = {{"file", log_}};
    cfg["server"]["threads"] = 8;
    cfg["storage"]["max_connections"] = 4;
    config_ = dir.write("dev/" + name + ".json", cfg.dump(2));
    pid_ = fork();
    if (pid_ == 0) {
      execl(BRUG_BINARY, BRUG_BINARY, "serve", "--config", config_.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::this_thread::sleep_for(25ms);
      std::istringstream lines(TempDir::read(log_));
      for (std::string line; std::getline(lines, line);) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.value("event", "") == "listening") {
          port_ = static_cast<std::uint16_t>(j.value("port", 0));
        }
      }
    }
  }
  ~Serve() { stop(SIGTERM); }
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  void stop(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status = 0;
    for (int i = 0; i < 600; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(25ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  std::uint16_t port() const { return port_; }
  const std::string& config() const { return config_; }

 private:
  std::string log_, config_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

class MultiGateway : public ::testing::Test {
 protected:
  // A private cluster for this binary: the outage test stops it.
  static void SetUpTestSuite() {
    cluster_ = new TempDir();
    ASSERT_EQ(script("start", cluster_->path().string()), 0);
    std::string url = TempDir::read(cluster_->file("url"));
    while (!url.empty() && url.back() == '\n') url.pop_back();
    setenv("BRUG_TEST_POSTGRESQL", url.c_str(), 1);  // TempPostgres makes databases there
  }
  static void TearDownTestSuite() {
    script("stop", cluster_->path().string());
    delete cluster_;
  }

  void SetUp() override {
    db_ = std::make_unique<TempPostgres>();
    const auto init = run_brug({"init", dir_.file("dev"), "--postgresql", db_->url()});
    ASSERT_EQ(init.exit_code, 0) << init.output;
    a_ = std::make_unique<Serve>(dir_, "a");
    b_ = std::make_unique<Serve>(dir_, "b");
    ASSERT_GT(a_->port(), 0);
    ASSERT_GT(b_->port(), 0);
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    db_.reset();
  }

  HttpsClient client(const Serve& s, const std::string& org) {
    return HttpsClient(
        s.port(), dir_.file("dev/pki/ca.pem"),
        {dir_.file("dev/pki/" + org + ".pem"), dir_.file("dev/pki/" + org + ".key")});
  }
  static nlohmann::json referral(int i) {
    return {{"items",
             {{{"source_ref", "ref-" + std::to_string(i)},
               {"to", kReconnact},
               {"purpose", "begeleiding-naar-werk"},
               {"subject", {{"bsn", test_bsn(100 + i)}}},
               {"record", {{"voornaam", "M" + std::to_string(i)}, {"doelgroep", "zorg"}}}}}}};
  }
  // Gives consent for participant i; the consent's id.
  std::string consent(HttpsClient& c, int i) {
    nlohmann::json body = {{"subject", {{"bsn", test_bsn(100 + i)}}},
                           {"grantee", kReconnact},
                           {"purpose", "begeleiding-naar-werk"},
                           {"categories", {"contact", "profiel", "segmentatie"}},
                           {"valid_from", "2026-01-01"},
                           {"valid_until", "2030-12-31"},
                           {"evidence", {{"method", "digitaal"}, {"reference", "portaal"}}}};
    auto r = c.post("/v1/consents", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("id", "");
  }

  // One pull of the feed after `cursor`; appends the items, moves the cursor. The HTTP status.
  static int pull(HttpsClient& c, std::string& cursor, std::vector<nlohmann::json>& items) {
    auto r = c.get("/v1/feed?limit=7&after=" + cursor);
    if (r.status != 200) return r.status;
    auto j = nlohmann::json::parse(r.body);
    for (const auto& i : j["items"]) items.push_back(i);
    cursor = j["next_cursor"];
    return r.status;
  }
  // The voornaam of each referral item with a record, in feed order.
  static std::vector<std::string> names(const std::vector<nlohmann::json>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) {
      if (i["kind"] == "referral" && i.contains("record")) out.push_back(i["record"]["voornaam"]);
    }
    return out;
  }
  // Pulls everything left through `s`.
  void drain(const Serve& s, std::string& cursor, std::vector<nlohmann::json>& items) {
    auto c = client(s, kReconnact);
    for (int i = 0; i < 1000; ++i) {
      const std::size_t before = items.size();
      ASSERT_EQ(pull(c, cursor, items), 200);
      if (items.size() == before) return;
    }
  }
  // `brug audit export` and `brug audit verify` of the shared log.
  void expect_audit_log_verifies() {
    // A checkpoint covering everything so far, signed by whichever gateway answers.
    auto cp = client(*b_, "fg-oude-ijsselstreek").get("/v1/audit/checkpoint");
    ASSERT_EQ(cp.status, 200) << cp.body;
    const auto pub = run_brug({"audit", "pubkey", "--config", a_->config()});
    ASSERT_EQ(pub.exit_code, 0) << pub.output;
    const std::string key = pub.output.substr(0, pub.output.find(' '));
    const auto exported =
        run_brug({"audit", "export", "--config", b_->config(), "--out", dir_.file("export")});
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
    const auto verified = run_brug({"audit", "verify", dir_.file("export"), "--pubkey", key});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
  }

  static inline TempDir* cluster_ = nullptr;
  TempDir dir_;
  std::unique_ptr<TempPostgres> db_;
  std::unique_ptr<Serve> a_, b_;
};

// Pushes through both, pulls alternating through both, withdrawals through one while the
// other serves the feed: every accepted item once, nothing withheld, one verifiable log.
TEST_F(MultiGateway, TwoGatewaysDeliverEveryAcceptedItemOnceAndKeepOneAuditLog) {
  constexpr int kN = 48;
  auto withheld = [](int i) { return i % 5 == 0; };                    // no consent
  auto withdrawn = [&](int i) { return !withheld(i) && i % 7 == 3; };  // withdrawn midway
  std::map<int, std::string> consents;
  {
    auto ca = client(*a_, kGemeente), cb = client(*b_, kGemeente);
    for (int i = 0; i < kN; ++i) {
      if (!withheld(i)) consents[i] = consent(i % 2 ? ca : cb, i);
    }
  }
  std::atomic<int> pushed{0};
  std::atomic<bool> pushing{true}, withdrawing{true};
  std::thread pusher([&] {
    auto ca = client(*a_, kLaborijn), cb = client(*b_, kLaborijn);
    for (int i = 0; i < kN; ++i) {
      auto r = (i % 2 ? ca : cb).post("/v1/referrals", referral(i).dump());
      EXPECT_EQ(r.status, 200) << r.body;
      pushed = i + 1;
    }
    pushing = false;
  });
  std::thread withdrawer([&] {
    auto c = client(*a_, kGemeente);
    for (int i = 0; i < kN; ++i) {
      if (!withdrawn(i)) continue;
      while (pushed < i + 4 && pushing) std::this_thread::sleep_for(5ms);
      auto r = c.post("/v1/consents/" + consents[i] + "/withdraw", "");
      EXPECT_EQ(r.status, 200) << r.body;
    }
    withdrawing = false;
  });
  std::vector<nlohmann::json> items;
  std::string cursor = "0";
  {
    auto ca = client(*a_, kReconnact), cb = client(*b_, kReconnact);
    for (int n = 0; pushing || withdrawing; ++n) {
      EXPECT_EQ(pull(n % 2 ? ca : cb, cursor, items), 200);
    }
  }
  pusher.join();
  withdrawer.join();
  drain(*b_, cursor, items);
  drain(*a_, cursor, items);

  std::map<std::string, int> times;
  for (const auto& name : names(items)) ++times[name];
  for (int i = 0; i < kN; ++i) {
    const std::string name = "M" + std::to_string(i);
    if (withheld(i)) {
      EXPECT_EQ(times[name], 0) << name << " had no consent";
    } else if (withdrawn(i)) {
      EXPECT_LE(times[name], 1) << name;
    } else {
      EXPECT_EQ(times[name], 1) << name;
    }
  }
  // After its deletion notice, nothing of that participant enters the feed.
  std::set<std::string> deleted;
  for (const auto& i : items) {
    const std::string subject =
        i.value("subject", nlohmann::json("")).is_string() ? i["subject"].get<std::string>() : "";
    if (i["kind"] == "deletion") deleted.insert(subject);
    if (i["kind"] == "referral") {
      EXPECT_FALSE(deleted.contains(subject)) << i.dump();
    }
  }
  expect_audit_log_verifies();
}

// kill -9 of one gateway while both take pushes: every acknowledged push is delivered, the
// other gateway keeps answering.
TEST_F(MultiGateway, KillNineOfOneGatewayLosesNoAcknowledgedItemAndTheOtherKeepsServing) {
  constexpr int kEach = 30;
  {
    auto c = client(*b_, kGemeente);
    for (int i = 0; i < 2 * kEach; ++i) consent(c, i);
  }
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<int> a_sent{0};
  auto push_all = [&](Serve& s, int first, bool through_a) {
    auto c = client(s, kLaborijn);
    for (int i = first; i < first + kEach; ++i) {
      try {
        auto r = c.post("/v1/referrals", referral(i).dump());
        if (r.status == 200) {
          std::lock_guard lock(mu);
          acked.insert("M" + std::to_string(i));
        } else {
          EXPECT_TRUE(through_a) << r.status << " " << r.body;
        }
      } catch (const std::exception&) {
        EXPECT_TRUE(through_a) << "the surviving gateway failed";
        if (through_a) return;  // the killed one is gone
      }
      if (through_a) ++a_sent;
    }
  };
  std::thread ta([&] { push_all(*a_, 0, true); });
  std::thread tb([&] { push_all(*b_, kEach, false); });
  while (a_sent < kEach / 2) std::this_thread::sleep_for(2ms);
  a_->stop(SIGKILL);
  ta.join();
  tb.join();
  std::vector<nlohmann::json> items;
  std::string cursor = "0";
  drain(*b_, cursor, items);
  std::map<std::string, int> times;
  for (const auto& name : names(items)) ++times[name];
  for (const auto& name : acked) EXPECT_EQ(times[name], 1) << name << " was acknowledged";
  for (const auto& [name, n] : times) EXPECT_EQ(n, 1) << name;
  EXPECT_GE(acked.size(), static_cast<std::size_t>(kEach + kEach / 2));
  expect_audit_log_verifies();
}

// PostgreSQL stops under load: requests fail with 503 while it is down, nothing is stored
// half, and both gateways recover by themselves once it is back.
TEST_F(MultiGateway, APostgresOutageIs503AndTheGatewaysRecoverByThemselves) {
  constexpr int kN = 40;
  {
    auto c = client(*a_, kGemeente);
    for (int i = 0; i < kN; ++i) consent(c, i);
  }
  std::mutex mu;
  std::set<std::string> acked;
  std::map<int, int> statuses;
  std::atomic<bool> outage_seen{false}, halted{false};
  std::atomic<int> next{0};
  auto worker = [&](Serve& s) {
    auto c = client(s, kLaborijn);
    for (int i = next++; i < kN; i = next++) {
      // The last three quarters wait for the outage: on a busy machine they could otherwise
      // all be stored before PostgreSQL is down.
      while (i >= kN / 4 && !halted) std::this_thread::sleep_for(1ms);
      for (int attempt = 0; attempt < 100; ++attempt) {
        auto r = c.post("/v1/referrals", referral(i).dump());
        std::lock_guard lock(mu);
        ++statuses[r.status];
        if (r.status == 200) {
          acked.insert("M" + std::to_string(i));
          break;
        }
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_NE(r.body.find("urn:brug:problem:unavailable"), std::string::npos) << r.body;
        outage_seen = true;
      }
    }
  };
  std::thread ta([&] { worker(*a_); });
  std::thread tb([&] { worker(*b_); });
  while (next < kN / 4) std::this_thread::sleep_for(2ms);
  const int halt = script("halt", cluster_->path().string());
  halted = true;
  ASSERT_EQ(halt, 0);
  // While it is down: 503, for pushes, pulls and health alike.
  {
    auto c = client(*b_, kReconnact);
    EXPECT_EQ(c.get("/v1/feed").status, 503);
    EXPECT_EQ(c.get("/healthz").status, 503);
  }
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(script("resume", cluster_->path().string()), 0);
  ta.join();
  tb.join();
  EXPECT_TRUE(outage_seen) << "no request saw the outage";
  EXPECT_EQ(acked.size(), static_cast<std::size_t>(kN)) << "a request never recovered";
  std::vector<nlohmann::json> items;
  std::string cursor = "0";
  drain(*a_, cursor, items);
  std::map<std::string, int> times;
  for (const auto& name : names(items)) ++times[name];
  for (const auto& name : acked) EXPECT_EQ(times[name], 1) << name;
  EXPECT_EQ(client(*a_, kReconnact).get("/healthz").status, 200);
  expect_audit_log_verifies();
}

}  // namespace
}  // namespace brug::testing
