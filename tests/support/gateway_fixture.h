// A test suite fixture: `brug init` (the real binary) into a temp dir, then the real gateway on
// a free loopback port, shared by the suite's tests. With BRUG_TEST_STORAGE=postgresql the setup
// is `brug init DIR --postgresql URL` on a fresh database of the test server (one per suite,
// dropped afterwards; tests/support/postgres.h): ctest runs the integration tests that way a
// second time (tests/integration/CMakeLists.txt).
#pragma once

#include <Poco/Net/SSLManager.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/env.h"
#include "gateway/app/config.h"
#include "gateway/app/gateway.h"
#include "gateway/cli/dev_pki.h"
#include "tests/support/https_client.h"
#include "tests/support/postgres.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace brug::testing {

// The demo organisations `brug init` writes certificates for.
inline constexpr const char* kGemeente = "gemeente-oude-ijsselstreek";
inline constexpr const char* kLaborijn = "laborijn";
inline constexpr const char* kReconnact = "reconnact-leusden";
inline constexpr const char* kJobhulp = "jobhulpmaatje-soest";
inline constexpr const char* kAuditor = "fg-oude-ijsselstreek";

class GatewayFixture : public ::testing::Test {
 protected:
  static constexpr std::int64_t kBodyLimit = 64 * 1024;

  static void SetUpTestSuite() { start(); }
  // `seams` lets a suite swap what it cannot cause otherwise (a failing database).
  static void start(gateway::Seams seams = {}) {
    if (clock_ && seams.env == nullptr) {
      clock_env_ = new ClockEnv(clock_);
      seams.env = clock_env_;
    }
    Poco::Net::initializeSSL();
    dir_ = new TempDir();
    std::vector<std::string> init_args = {"init", dir_->file("dev")};
    if (on_postgres()) {
      postgres_ = new TempPostgres();
      init_args.insert(init_args.end(), {"--postgresql", postgres_->url()});
    }
    const auto init = run_brug(init_args);
    ASSERT_EQ(init.exit_code, 0) << init.output;
    auto config = gateway::load_config(dir_->file("dev/brug.json"));
    ASSERT_TRUE(config) << config.message();
    ASSERT_EQ(config->postgresql_url.empty(), !on_postgres()) << "the storage of this run";
    config->port = 0;
    config->max_body_bytes = kBodyLimit;
    config->threads = 4;
    if (configure_) configure_(*config);
    config_ = new gateway::Config(*config);
    log_ = new std::ofstream(dir_->file("gateway.log"));
    auto gw = gateway::Gateway::start(*config, *log_, std::move(seams));
    ASSERT_TRUE(gw) << gw.message();
    gateway_ = std::move(gw).value().release();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete postgres_;
    postgres_ = nullptr;
    delete log_;
    delete config_;
    delete clock_env_;
    clock_env_ = nullptr;
    delete dir_;
    config_ = nullptr;
    gateway_ = nullptr;
    log_ = nullptr;
    dir_ = nullptr;
  }

  // Whether this run stores into PostgreSQL (BRUG_TEST_STORAGE=postgresql).
  static bool on_postgres() {
    const char* storage = std::getenv("BRUG_TEST_STORAGE");
    return storage != nullptr && std::string(storage) == "postgresql";
  }

  static std::string pki(const std::string& name) { return dir_->file("dev/pki/" + name); }
  static Identity org(const std::string& id) { return {pki(id + ".pem"), pki(id + ".key")}; }
  static HttpsClient client(const Identity& id) {
    return HttpsClient(gateway_->port(), pki("ca.pem"), id);
  }
  static HttpsClient client(const std::string& org_id) { return client(org(org_id)); }
  static std::string log_text() {
    log_->flush();
    return TempDir::read(dir_->file("gateway.log"));
  }
  // Writes a certificate pair from `ca` for `cn` and returns it as an identity.
  static Identity issue(const gateway::PemPair& ca, const std::string& cn) {
    auto pair = gateway::issue_dev_cert(ca, {.common_name = cn});
    EXPECT_TRUE(pair) << pair.message();
    return {dir_->write(cn + ".pem", pair->cert_pem), dir_->write(cn + ".key", pair->key_pem)};
  }
  static nlohmann::json json(const Reply& r) {
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  // A suite that sets this before SetUpTestSuite changes the configuration the gateway starts
  // with (shorter deadlines, say).
  static inline std::function<void(gateway::Config&)> configure_;
  // A suite that sets this before SetUpTestSuite runs the gateway on that clock (through the
  // Env seam; random ids stay random).
  static inline std::function<std::chrono::system_clock::time_point()> clock_;
  class ClockEnv final : public crypto::Env {
   public:
    explicit ClockEnv(std::function<std::chrono::system_clock::time_point()> clock)
        : clock_(std::move(clock)) {}
    std::chrono::system_clock::time_point now() override { return clock_(); }
    void random_bytes(std::span<std::uint8_t> out) override {
      crypto::Env::system().random_bytes(out);
    }

   private:
    std::function<std::chrono::system_clock::time_point()> clock_;
  };
  static inline ClockEnv* clock_env_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline TempPostgres* postgres_ = nullptr;
  static inline std::ofstream* log_ = nullptr;
  static inline gateway::Gateway* gateway_ = nullptr;
  static inline gateway::Config* config_ = nullptr;
};

}  // namespace brug::testing
