// The `brug` binary as a user runs it: exit codes, messages, init, and serve with signals.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/https_client.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace brug::testing {
namespace {

TEST(Cli, VersionPrintsTheVersionAndExitsZero) {
  auto r = run_brug({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, std::string("brug ") + BRUG_VERSION + "\n");
}

TEST(Cli, HelpListsTheCommands) {
  auto r = run_brug({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("init"), std::string::npos);
  EXPECT_NE(r.output.find("serve"), std::string::npos);
  auto sub = run_brug({"serve", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.output.find("brug serve --config FILE"), std::string::npos);
}

TEST(Cli, NoCommandOrAnUnknownOneIsAUsageError) {
  EXPECT_EQ(run_brug({}).exit_code, 2);
  auto r = run_brug({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(Cli, AnUnknownOptionIsAUsageError) {
  auto r = run_brug({"serve", "--confg", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown option --confg"), std::string::npos);
  EXPECT_EQ(run_brug({"init", "x", "--port", "99999"}).exit_code, 2);
}

TEST(Cli, InitWritesPrivateKeysAndRefusesToOverwrite) {
  TempDir dir;
  const std::string dev = dir.file("dev");
  auto r = run_brug({"init", dev});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  struct stat st {};
  for (const char* f : {"pki/ca.key", "pki/server.key", "pki/laborijn.key", "keys/root.key"}) {
    ASSERT_EQ(stat((dev + "/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  ASSERT_EQ(stat((dev + "/pki").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::string before = TempDir::read(dev + "/pki/ca.key");
  auto again = run_brug({"init", dev});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already holds a brug setup"), std::string::npos) << again.output;
  EXPECT_EQ(TempDir::read(dev + "/pki/ca.key"), before);
}

TEST(Cli, InitWithPostgresqlWritesItsUrlInsteadOfASqliteFile) {
  TempDir dir;
  const std::string url = "postgresql://brug@db.example:5432/brug?sslmode=verify-full";
  auto r = run_brug({"init", dir.file("dev"), "--postgresql", url});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto cfg = nlohmann::json::parse(TempDir::read(dir.file("dev/brug.json")));
  EXPECT_EQ(cfg["storage"], (nlohmann::json{{"postgresql", url}}));

  auto refused =
      run_brug({"init", dir.file("other"), "--postgresql", "postgresql://brug:hunter2@db/brug"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output.find("--postgresql must not contain a password"), std::string::npos)
      << refused.output;
  EXPECT_EQ(refused.output.find("hunter2"), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("other/brug.json")));
}

TEST(Cli, ServeWithABrokenConfigNamesFileAndLine) {
  TempDir dir;
  const std::string cfg = dir.write("brug.json", "{\n  \"tls\": {\n    \"ca_file\": 5\n  }\n}\n");
  auto r = run_brug({"serve", "--config", cfg});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(cfg + ":3: tls.ca_file: must be a string"), std::string::npos)
      << r.output;
}

TEST(Cli, ServeRefusesAKeyFileOthersCanRead) {
  TempDir dir;
  ASSERT_EQ(run_brug({"init", dir.file("dev")}).exit_code, 0);
  ASSERT_EQ(chmod(dir.file("dev/keys/root.key").c_str(), 0644), 0);
  auto r = run_brug({"serve", "--config", dir.file("dev/brug.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("root.key"), std::string::npos) << r.output;
}

// Starts `brug serve` as a child process and stops it with a signal.
TEST(Cli, ServeAnswersAndStopsCleanlyOnSigterm) {
  TempDir dir;
  ASSERT_EQ(run_brug({"init", dir.file("dev")}).exit_code, 0);
  // Any free port, and the log in a file so the test can read the bound port.
  auto cfg = nlohmann::json::parse(TempDir::read(dir.file("dev/brug.json")));
  cfg["listen"]["port"] = 0;
  cfg["log"] = {{"file", dir.file("serve.log")}};
  std::ofstream(dir.file("dev/brug.json"), std::ios::trunc) << cfg.dump(2);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string config = dir.file("dev/brug.json");
    execl(BRUG_BINARY, BRUG_BINARY, "serve", "--config", config.c_str(), nullptr);
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::istringstream lines(TempDir::read(dir.file("serve.log")));
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("event", "") == "listening") port = j.value("port", 0);
    }
  }
  ASSERT_GT(port, 0) << "the server did not report listening";
  HttpsClient c(static_cast<std::uint16_t>(port), dir.file("dev/pki/ca.pem"),
                {dir.file("dev/pki/laborijn.pem"), dir.file("dev/pki/laborijn.key")});
  EXPECT_EQ(c.get("/healthz").status, 200);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 400 && done == 0; ++i) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (done == 0) kill(pid, SIGKILL);
  ASSERT_EQ(done, pid) << "brug serve did not stop within 10 s of SIGTERM";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(TempDir::read(dir.file("serve.log")).find("\"event\":\"stopped\""), std::string::npos);
}

}  // namespace
}  // namespace brug::testing
