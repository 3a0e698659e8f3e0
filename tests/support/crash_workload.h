// The crash workload shared by tests/integration/crash_test.cc and bench/crash_main.cc: a real
// `brug serve` child process under concurrent referral pushes, consents, outcomes and
// withdrawals over mutual TLS, killed with SIGKILL, restarted, and then checked against what
// the gateway acknowledged:
//   1. every acknowledged referral, consent, outcome and withdrawal is stored;
//   2. no batch is half-stored (acknowledged or not, all of its items or none);
//   3. every stored referral, consent, outcome and withdrawal has its audit event (counted per
//      participant: stored rows == permit events);
//   4. every withdrawal committed after a referral of the participant to the grantee was stored
//      has left a deletion notice in the grantee's feed, as the project reads it (checked after
//      the restart, when the project has pulled its feed to the end);
//   5. `brug audit export` + `brug audit verify` pass with the gateway's public key.
// A round: start (or restart) -> load for a random delay -> SIGKILL -> check the state the
// crash left (1-3) -> restart -> retry the unacknowledged batches -> the project pulls its feed
// to the end -> checkpoint -> SIGTERM -> check again (1-5). Output names counts, never BSNs.
#pragma once

#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/stores.h"
#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/cli/synthetic.h"
#include "tests/support/https_client.h"

extern char** environ;

namespace brug::testing::crash {

inline constexpr const char* kGemeente = "gemeente-oude-ijsselstreek";
inline constexpr const char* kLaborijn = "laborijn";
inline constexpr const char* kReconnact = "reconnact-leusden";
inline constexpr const char* kAuditor = "fg-oude-ijsselstreek";
inline constexpr const char* kPurpose = "begeleiding-naar-werk";

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Synthetic person n: for n < 1000 the demo's synthetic_bsn(n); beyond, the next numbers of the
// same 9999xxxxx blocks that pass the elfproef, so long runs never reuse a person.
inline std::string crash_bsn(int n) {
  const int block = n % 1000, rank = n / 1000;
  int seen = 0;
  for (int k = 0; k < 100; ++k) {
    const std::string s = std::to_string(999900000 + block * 100 + k);
    int sum = 0;
    for (int i = 0; i < 8; ++i) sum += (9 - i) * (s[static_cast<std::size_t>(i)] - '0');
    if ((sum - (s[8] - '0')) % 11 == 0 && seen++ == rank) return s;
  }
  return {};
}

// A free loopback port: bound, read and released (the gateway binds it a moment later).
inline std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

inline CommandResult run_command(const std::string& binary, const std::vector<std::string>& args) {
  std::string cmd = shell_quote(binary);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `brug serve` as a child process. The destructor kills it (SIGKILL) and reaps it, so a failing
// test or program never leaves a gateway behind.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { kill9(); }

  bool running() const { return pid_ > 0; }

  // Starts `binary serve --config config`, its stdout and stderr appended to `log`.
  bool spawn(const std::string& binary, const std::string& config, const std::string& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<std::string> args = {binary, "serve", "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    pid_ = pid;
    return true;
  }
  // Whether the child has exited (then reaped; `status` is its wait status).
  bool exited(int& status) {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }
  void kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // SIGTERM and wait up to `timeout`; the exit code, or -1 (killed after the timeout or by a
  // signal).
  int terminate(std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    while (Clock::now() < deadline) {
      if (exited(status)) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill9();
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// What the workload sent and what the gateway acknowledged, over every round.
struct Batch {
  int round = 0;
  std::vector<std::string> refs;
  std::vector<int> people;
  std::string body;
  bool acked = false;
  std::vector<std::string> ids;  // per item, when acknowledged
};

struct ConsentSent {
  int person = 0;
  std::string id;  // empty: not acknowledged
  bool withdraw_sent = false, withdraw_acked = false;
};

struct Ledger {
  std::vector<Batch> batches;
  std::vector<ConsentSent> consents;
  std::vector<std::string> outcome_ids;  // acknowledged (accepted) outcomes
  std::set<int> people;                  // everyone the workload named
};

// Counts of one round, for the report.
struct RoundCounts {
  int batches_sent = 0, batches_acked = 0, referrals_acked = 0, consents_acked = 0,
      outcomes_acked = 0, withdrawals_acked = 0, retried_batches = 0, retried_stored = 0;
  int errors_before_kill = 0;     // transport errors or non-2xx answers before the kill
  bool died_before_kill = false;  // the gateway was gone before the SIGKILL
  int kill_after_ms = 0;
};

struct CheckCounts {
  std::size_t referrals = 0, consents = 0, withdrawn = 0, outcomes = 0, notices = 0,
              audit_events = 0;
  // Withdrawals whose deletion notice is no longer the newest item about the participant in
  // the grantee's feed: a referral entered the feed after it (see the report of the crash test).
  std::size_t notices_not_newest = 0;
};

struct CheckReport {
  CheckCounts counts;
  std::vector<std::string> violations;  // "check N: what", empty when every check passed
  bool ok() const { return violations.empty(); }
};

struct Options {
  std::string brug_binary;  // the real `brug`
  std::string dir;          // `brug init` target; must not exist yet
  int people_per_round = 40;
  int batch_size = 50;
  int min_delay_ms = 200, max_delay_ms = 800;
  unsigned seed = 1;
  std::chrono::seconds start_timeout{30};
};

class CrashRun {
 public:
  explicit CrashRun(Options o) : o_(std::move(o)), rng_(o_.seed) {}

  // `brug init`, a free port in the config, the key directory for the checks.
  std::string init() {
    Poco::Net::initializeSSL();
    auto r = run_command(o_.brug_binary, {"init", o_.dir});
    if (r.exit_code != 0) return "brug init failed: " + r.output;
    config_ = o_.dir + "/brug.json";
    json cfg;
    {
      std::ifstream in(config_);
      cfg = json::parse(in, nullptr, false);
    }
    if (cfg.is_discarded()) return "brug.json is not JSON";
    port_ = free_port();
    if (port_ == 0) return "no free port";
    cfg["listen"]["port"] = port_;
    std::ofstream(config_, std::ios::trunc) << cfg.dump(2);
    db_path_ = o_.dir + "/" + cfg["storage"]["sqlite_path"].get<std::string>();
    auto keys = crypto::KeyDir::load(o_.dir + "/" + cfg["key_dir"].get<std::string>());
    if (!keys) return "keys: " + keys.message();
    keys_ = std::make_unique<crypto::KeyDir>(std::move(keys).value());
    return {};
  }

  const std::string& config() const { return config_; }
  const Ledger& ledger() const { return ledger_; }

  // One round; returns the first violation found ("" when none) and fills `counts`/`report`.
  std::string round(int n, RoundCounts& counts, CheckReport& report) {
    counts = {};
    report = {};
    if (!server_.running()) {
      if (auto e = start(); !e.empty()) return e;
    }
    const auto before = ledger_.batches.size();
    load(n, counts);
    counts.batches_sent = static_cast<int>(ledger_.batches.size() - before);
    if (counts.died_before_kill)
      return "brug serve died under load before the kill; log: " + log_tail();
    // The state as the crash left it, before the gateway runs again.
    report = check(false);
    if (!report.ok()) return "after the kill: " + report.violations.front();
    if (auto e = start(); !e.empty()) return "restart after the kill: " + e;
    if (auto e = retry(before, counts); !e.empty()) return e;
    if (auto e = pull_feed(); !e.empty()) return e;
    std::string pubkey;
    if (auto e = checkpoint(pubkey); !e.empty()) return e;
    const int code = server_.terminate(std::chrono::seconds(20));
    if (code != 0) return "clean stop: brug serve exited with " + std::to_string(code);
    report = check(true, pubkey);
    if (!report.ok()) return "after the restart: " + report.violations.front();
    return {};
  }

  // The checks over the ledger plus `extra` batches (to show the checks can fail).
  CheckReport check_with(const std::vector<Batch>& extra) {
    const Ledger saved = ledger_;
    for (const Batch& b : extra) {
      ledger_.batches.push_back(b);
      ledger_.people.insert(b.people.begin(), b.people.end());
    }
    CheckReport r = check(false);
    ledger_ = saved;
    return r;
  }

  std::string log_tail() const {
    std::ifstream in(o_.dir + "/gateway.log");
    std::stringstream s;
    s << in.rdbuf();
    const std::string all = s.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

 private:
  HttpsClient client(const std::string& org) const {
    const std::string pki = o_.dir + "/pki/";
    return HttpsClient(port_, pki + "ca.pem", {pki + org + ".pem", pki + org + ".key"});
  }

  std::string start() {
    if (!server_.spawn(o_.brug_binary, config_, o_.dir + "/gateway.log")) return "spawn failed";
    const auto deadline = Clock::now() + o_.start_timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (server_.exited(status)) {
        return "brug serve exited at start (status " + std::to_string(status) +
               "); log: " + log_tail();
      }
      try {
        if (client(kLaborijn).get("/healthz").status == 200) return {};
      } catch (const std::exception&) {
        // not listening yet
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    server_.kill9();
    return "brug serve did not answer /healthz in time; log: " + log_tail();
  }

  json referral_item(const std::string& ref, int person) const {
    const json synthetic = gateway::synthetic_referral(person);
    json rec = {{"voornaam", synthetic["voornaam"]},
                {"doelgroep", synthetic["doelgroep"]},
                {"postcode", synthetic["postcode"]}};
    return {{"source_ref", ref},
            {"to", kReconnact},
            {"purpose", kPurpose},
            {"subject", {{"bsn", crash_bsn(person)}}},
            {"record", rec}};
  }

  // The four workload threads until the kill.
  void load(int round, RoundCounts& counts) {
    const int first = round * o_.people_per_round;
    std::vector<int> people;
    for (int i = 0; i < o_.people_per_round; ++i) {
      people.push_back(first + i);
      ledger_.people.insert(first + i);
    }
    std::atomic<bool> killed{false};
    std::atomic<int> errors{0};
    std::mutex mu;                            // guards ledger_ and the acknowledged counts
    std::vector<std::size_t> acked_consents;  // indexes into ledger_.consents
    auto transport = [&](auto&& fn) {
      try {
        fn();
        return true;
      } catch (const std::exception&) {
        if (!killed) ++errors;
        return false;
      }
    };
    std::vector<std::thread> threads;
    // (a) laborijn pushes batches of referrals of this round's people.
    threads.emplace_back([&] {
      auto c = client(kLaborijn);
      for (int b = 0; !killed; ++b) {
        Batch batch;
        batch.round = round;
        json body = {{"items", json::array()}};
        for (int i = 0; i < o_.batch_size; ++i) {
          const int person =
              people[static_cast<std::size_t>((b * o_.batch_size + i) % o_.people_per_round)];
          const std::string ref =
              "crash-" + std::to_string(round) + "-" + std::to_string(b) + "-" + std::to_string(i);
          batch.refs.push_back(ref);
          batch.people.push_back(person);
          body["items"].push_back(referral_item(ref, person));
        }
        batch.body = body.dump();
        std::size_t at = 0;
        {
          std::lock_guard lock(mu);
          ledger_.batches.push_back(batch);
          at = ledger_.batches.size() - 1;
        }
        Reply r;
        if (!transport([&] { r = c.post("/v1/referrals", batch.body); })) return;
        if (r.status != 200) {
          if (!killed) ++errors;
          continue;
        }
        const json answer = json::parse(r.body, nullptr, false);
        std::vector<std::string> ids;
        for (const auto& item : answer["results"]) {
          if (item.value("status", "") == "accepted") ids.push_back(item.value("id", ""));
        }
        std::lock_guard lock(mu);
        if (ids.size() == batch.refs.size()) {
          ledger_.batches[at].acked = true;
          ledger_.batches[at].ids = ids;
          ++counts.batches_acked;
          counts.referrals_acked += static_cast<int>(ids.size());
        } else if (!killed) {
          ++errors;
        }
      }
    });
    // (b) the gemeente records a consent for each person of the round.
    threads.emplace_back([&] {
      auto c = client(kGemeente);
      for (int person : people) {
        if (killed) return;
        json body = {{"subject", {{"bsn", crash_bsn(person)}}},
                     {"grantee", kReconnact},
                     {"purpose", kPurpose},
                     {"categories", {"contact", "profiel", "segmentatie"}},
                     {"valid_from", "2026-01-01"},
                     {"valid_until", "2030-12-31"},
                     {"evidence", {{"method", "digitaal"}, {"reference", "crash"}}}};
        std::size_t at = 0;
        {
          std::lock_guard lock(mu);
          ledger_.consents.push_back({person, "", false, false});
          at = ledger_.consents.size() - 1;
        }
        Reply r;
        if (!transport([&] { r = c.post("/v1/consents", body.dump()); })) return;
        if (r.status != 201) {
          if (!killed) ++errors;
          continue;
        }
        std::lock_guard lock(mu);
        ledger_.consents[at].id = json::parse(r.body, nullptr, false).value("id", "");
        acked_consents.push_back(at);
        ++counts.consents_acked;
      }
    });
    // (c) the project pulls its feed and answers each referral it gets with an outcome.
    threads.emplace_back([&] {
      auto c = client(kReconnact);
      while (!killed) {
        Reply r;
        if (!transport([&] { r = c.get("/v1/feed?limit=200&after=" + cursor_); })) return;
        if (r.status != 200) {
          if (!killed) ++errors;
          continue;
        }
        const json page = json::parse(r.body, nullptr, false);
        json body = {{"items", json::array()}};
        for (const auto& item : page["items"]) {
          if (item.value("kind", "") == "deletion")
            deletions_seen_.insert(item.value("subject", ""));
          if (item.value("kind", "") != "referral" || !item.contains("record")) continue;
          body["items"].push_back({{"subject", {{"pseudonym", item["subject"]}}},
                                   {"status", "intake"},
                                   {"date", "2026-11-01"}});
        }
        if (!page["items"].empty()) cursor_ = page["next_cursor"].get<std::string>();
        if (body["items"].empty()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        if (!transport([&] { r = c.post("/v1/outcomes", body.dump()); })) return;
        if (r.status != 200) {
          if (!killed) ++errors;
          continue;
        }
        const json answer = json::parse(r.body, nullptr, false);
        std::lock_guard lock(mu);
        for (const auto& item : answer["results"]) {
          if (item.value("status", "") == "accepted") {
            ledger_.outcome_ids.push_back(item.value("id", ""));
            ++counts.outcomes_acked;
          }
        }
      }
    });
    // (d) the gemeente withdraws every third acknowledged consent.
    threads.emplace_back([&] {
      auto c = client(kGemeente);
      std::size_t next = 0;
      while (!killed) {
        std::optional<std::size_t> at;
        std::string id;
        {
          std::lock_guard lock(mu);
          while (next < acked_consents.size() && !at) {
            if (next % 3 == 0) {
              at = acked_consents[next];
              id = ledger_.consents[*at].id;
              ledger_.consents[*at].withdraw_sent = true;
            }
            ++next;
          }
        }
        if (!at) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        Reply r;
        if (!transport([&] { r = c.post("/v1/consents/" + id + "/withdraw", ""); })) return;
        if (r.status != 200) {
          if (!killed) ++errors;
          continue;
        }
        std::lock_guard lock(mu);
        ledger_.consents[*at].withdraw_acked = true;
        ++counts.withdrawals_acked;
      }
    });
    std::uniform_int_distribution<int> delay(o_.min_delay_ms, o_.max_delay_ms);
    counts.kill_after_ms = delay(rng_);
    std::this_thread::sleep_for(std::chrono::milliseconds(counts.kill_after_ms));
    killed = true;
    int status = 0;
    counts.died_before_kill = server_.exited(status);
    server_.kill9();
    for (auto& t : threads) t.join();
    counts.errors_before_kill = errors;
  }

  // The unacknowledged batches of this round, sent again as a client would: each answer must
  // be all duplicate (the batch was stored) or all accepted (it was not).
  std::string retry(std::size_t from, RoundCounts& counts) {
    auto c = client(kLaborijn);
    for (std::size_t b = from; b < ledger_.batches.size(); ++b) {
      Batch& batch = ledger_.batches[b];
      if (batch.acked) continue;
      Reply r;
      try {
        r = c.post("/v1/referrals", batch.body);
      } catch (const std::exception& e) {
        return std::string("retry after restart: transport error: ") + e.what();
      }
      if (r.status != 200) return "retry after restart: status " + std::to_string(r.status);
      std::map<std::string, int> statuses;
      std::vector<std::string> ids;
      const json answer = json::parse(r.body, nullptr, false);
      for (const auto& item : answer["results"]) {
        ++statuses[item.value("status", "")];
        ids.push_back(item.value("id", ""));
      }
      if (statuses.size() != 1 || ids.size() != batch.refs.size() ||
          (!statuses.contains("accepted") && !statuses.contains("duplicate"))) {
        return "check 2: a batch retried after the crash came back mixed (" +
               std::to_string(statuses["accepted"]) + " accepted, " +
               std::to_string(statuses["duplicate"]) + " duplicate, " +
               std::to_string(statuses["rejected"]) + " rejected): " + r.body.substr(0, 300);
      }
      ++counts.retried_batches;
      if (statuses.contains("duplicate")) ++counts.retried_stored;
      batch.acked = true;
      batch.ids = ids;
    }
    return {};
  }

  // The project reads the rest of its feed (as it would after the outage), noting every
  // deletion notice.
  std::string pull_feed() {
    try {
      auto c = client(kReconnact);
      for (int page = 0; page < 100000; ++page) {
        auto r = c.get("/v1/feed?limit=1000&after=" + cursor_);
        if (r.status != 200) return "feed after restart: status " + std::to_string(r.status);
        const json j = json::parse(r.body, nullptr, false);
        if (j["items"].empty()) return {};
        for (const auto& item : j["items"]) {
          if (item.value("kind", "") == "deletion") {
            deletions_seen_.insert(item.value("subject", ""));
          }
        }
        cursor_ = j["next_cursor"].get<std::string>();
      }
    } catch (const std::exception& e) {
      return std::string("feed after restart: ") + e.what();
    }
    return "feed after restart: no end";
  }

  std::string checkpoint(std::string& pubkey) {
    try {
      auto r = client(kAuditor).get("/v1/audit/checkpoint");
      if (r.status != 200) return "checkpoint: status " + std::to_string(r.status);
      pubkey = json::parse(r.body, nullptr, false).value("public_key", "");
    } catch (const std::exception& e) {
      return std::string("checkpoint: ") + e.what();
    }
    return pubkey.empty() ? "checkpoint: no public_key" : "";
  }

  struct Person {
    std::string participant, subject, project_pseudonym;
  };
  Person person(int n) const {
    auto bsn = crypto::Bsn::parse(crash_bsn(n));
    const auto index = crypto::participant_index(keys_->participant_index_key(), *bsn);
    auto project = crypto::pseudonym(keys_->pseudonym_key(), kReconnact, index);
    return {index.to_hex(), crypto::audit_pseudonym(keys_->audit_pseudonym_key(), index).text(),
            project ? project->text() : ""};
  }

  // `after_restart`: also checks 4 (the project has read its feed to the end) and 5.
  CheckReport check(bool after_restart, const std::string& pubkey = "") const {
    CheckReport rep;
    auto fail = [&](std::string what) { rep.violations.push_back(std::move(what)); };
    auto opened = adapters::open_sqlite({.path = db_path_});
    if (!opened) {
      fail("database: " + opened.message());
      return rep;
    }
    auto& db = **opened;
    std::map<int, Person> people;
    std::map<std::string, int> by_participant, by_subject;
    for (int n : ledger_.people) {
      people[n] = person(n);
      by_participant[people[n].participant] = n;
      by_subject[people[n].subject] = n;
    }
    const Status s = db.read([&](adapters::Stores& st) -> Status {
      // The audit log: permit events by kind.
      auto size = st.audit.size();
      if (!size) return size.status();
      rep.counts.audit_events = *size;
      auto leaves = st.audit.leaves(0, *size);
      if (!leaves) return leaves.status();
      std::map<std::string, std::size_t> referral_events, outcome_events, record_events;
      std::map<std::string, std::uint64_t> first_withdraw, first_referral;
      std::uint64_t index = 0;
      for (const std::string& leaf : *leaves) {
        const std::uint64_t at = index++;
        const json e = json::parse(leaf, nullptr, false);
        if (e.is_discarded() || e.value("decision", "") != "permit") continue;
        const std::string action = e.value("action", ""), subject = e.value("subject", "");
        const auto ids = e.value("consent_ids", std::vector<std::string>{});
        if (action == "referral.push" && e.value("reason", "") != "duplicate") {
          ++referral_events[subject];
          const std::string key = subject + "|" + e.value("recipient", "");
          if (!first_referral.contains(key)) first_referral[key] = at;
        } else if (action == "outcome.push") {
          ++outcome_events[subject];
        } else if (action == "consent.record" && ids.size() == 1) {
          ++record_events[ids.front()];
        } else if (action == "consent.withdraw" && ids.size() == 1) {
          if (!first_withdraw.contains(ids.front())) first_withdraw[ids.front()] = at;
        }
      }

      // Referrals: every batch all or nothing, every acknowledged one with its ids.
      std::map<std::string, std::size_t> stored_referrals;
      for (const Batch& b : ledger_.batches) {
        std::size_t stored = 0;
        for (std::size_t i = 0; i < b.refs.size(); ++i) {
          auto r = st.exchange.referral_by_source(kLaborijn, b.refs[i]);
          if (!r) return r.status();
          if (!*r) {
            if (b.acked)
              fail("check 1: an acknowledged referral is missing (round " +
                   std::to_string(b.round) + ")");
            continue;
          }
          ++stored;
          ++stored_referrals[(*r)->participant];
          if (b.acked && (*r)->id != b.ids[i]) {
            fail("check 1: a stored referral has another id than the one acknowledged");
          }
          if ((*r)->participant != people[b.people[i]].participant) {
            fail("check 1: a stored referral names another participant than was sent");
          }
        }
        if (stored != 0 && stored != b.refs.size()) {
          fail("check 2: a batch is half-stored (" + std::to_string(stored) + " of " +
               std::to_string(b.refs.size()) + " items, round " + std::to_string(b.round) + ")");
        }
        rep.counts.referrals += stored;
      }

      // Consents, withdrawals and deletion notices.
      std::set<std::string> stored_consents, withdrawn_consents;
      for (const auto& [n, p] : people) {
        auto all = st.consents.for_participant(p.participant);
        if (!all) return all.status();
        for (const consent::Consent& c : *all) {
          stored_consents.insert(c.id);
          ++rep.counts.consents;
          if (record_events[c.id] != 1) {
            fail("check 3: a stored consent has " + std::to_string(record_events[c.id]) +
                 " consent.record events instead of 1");
          }
          if (!c.withdrawn_at()) continue;
          ++rep.counts.withdrawn;
          withdrawn_consents.insert(c.id);
          auto w = first_withdraw.find(c.id);
          if (w == first_withdraw.end()) {
            fail("check 3: a withdrawn consent has no consent.withdraw event");
            continue;
          }
          auto r = first_referral.find(p.subject + "|" + c.grantee);
          if (r == first_referral.end() || r->second > w->second) continue;
          auto newest = st.exchange.deletion_is_newest(c.grantee, p.participant);
          if (!newest) return newest.status();
          if (!*newest) {
            // Nothing of the person may enter the feed after the withdrawal's notice (the
            // workload gives no one a second consent).
            ++rep.counts.notices_not_newest;
            fail("check 4: a referral entered the feed after the withdrawal's deletion notice");
          }
          if (!after_restart) continue;
          if (!deletions_seen_.contains(p.project_pseudonym)) {
            fail("check 4: a withdrawal after a referral left no deletion notice in the feed");
          } else {
            ++rep.counts.notices;
          }
        }
      }
      for (const ConsentSent& c : ledger_.consents) {
        if (c.id.empty()) continue;
        auto found = st.consents.find(c.id);
        if (!found) return found.status();
        if (!*found) {
          fail("check 1: an acknowledged consent is missing");
        } else if (c.withdraw_acked && !(*found)->withdrawn_at()) {
          fail("check 1: an acknowledged withdrawal is not in force");
        }
      }

      // Outcomes.
      auto outcomes = st.exchange.outcomes_for_sender(kLaborijn, false);
      if (!outcomes) return outcomes.status();
      std::set<std::string> outcome_ids;
      std::map<std::string, std::size_t> stored_outcomes;
      for (const auto& o : *outcomes) {
        outcome_ids.insert(o.id);
        ++stored_outcomes[o.participant];
      }
      rep.counts.outcomes = outcome_ids.size();
      for (const std::string& id : ledger_.outcome_ids) {
        if (!outcome_ids.contains(id)) fail("check 1: an acknowledged outcome is missing");
      }

      // Stored rows == permit events, per participant.
      for (const auto& [n, p] : people) {
        if (stored_referrals[p.participant] != referral_events[p.subject]) {
          fail("check 3: a participant has " + std::to_string(stored_referrals[p.participant]) +
               " stored referrals but " + std::to_string(referral_events[p.subject]) +
               " referral.push events");
        }
        if (stored_outcomes[p.participant] != outcome_events[p.subject]) {
          fail("check 3: a participant has " + std::to_string(stored_outcomes[p.participant]) +
               " stored outcomes but " + std::to_string(outcome_events[p.subject]) +
               " outcome.push events");
        }
      }
      for (const auto& [id, count] : record_events) {
        if (!stored_consents.contains(id)) {
          fail("check 3: a consent.record event names a consent that is not stored");
        }
      }
      for (const auto& [id, at] : first_withdraw) {
        if (!withdrawn_consents.contains(id)) {
          fail("check 3: a consent.withdraw event names a consent that is not withdrawn");
        }
      }
      return Status::ok();
    });
    if (!s.is_ok()) fail("reading the database: " + s.message());
    if (after_restart && rep.ok()) {
      const std::string out = o_.dir + "/export";
      std::filesystem::remove_all(out);
      auto e = run_command(o_.brug_binary, {"audit", "export", "--config", config_, "--out", out});
      if (e.exit_code != 0) {
        fail("check 5: brug audit export failed: " + e.output);
      } else {
        auto v = run_command(o_.brug_binary, {"audit", "verify", out, "--pubkey", pubkey});
        if (v.exit_code != 0) fail("check 5: brug audit verify failed: " + v.output);
      }
    }
    return rep;
  }

  Options o_;
  std::mt19937 rng_;
  std::string config_, db_path_;
  std::uint16_t port_ = 0;
  std::unique_ptr<crypto::KeyDir> keys_;
  ServerProcess server_;
  Ledger ledger_;
  std::string cursor_ = "0";              // the project's feed cursor, across rounds
  std::set<std::string> deletions_seen_;  // the project's pseudonyms in deletion notices
};

}  // namespace brug::testing::crash
