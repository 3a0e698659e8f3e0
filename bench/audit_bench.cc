// Audit log costs: group-committed appends (events/s, several threads) and proof latency on a
// large log, over a real SQLite file.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "adapters/stores.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "gateway/audit/audit_log.h"

namespace {

using brug::gateway::AuditEvent;
using brug::gateway::AuditLog;

struct Log {
  std::filesystem::path dir;
  std::unique_ptr<brug::adapters::Database> db;
  brug::crypto::KeyDir keys;
  std::unique_ptr<AuditLog> log;

  explicit Log(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / name),
        keys(std::move(brug::crypto::KeyDir::ephemeral().value())) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = std::move(brug::adapters::open_sqlite({.path = (dir / "a.db").string()}).value());
    log = std::make_unique<AuditLog>(*db, keys.signing_key(), brug::gateway::AuditOptions{},
                                     brug::crypto::Env::system());
  }
  ~Log() { std::filesystem::remove_all(dir); }
};

// A 43-character audit pseudonym look-alike, one of 2^20 participants.
std::string subject_of(std::uint64_t i) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint64_t x = ((i & 0xFFFFF) + 1) * 0x9E3779B97F4A7C15ULL;
  std::string s(43, 'A');
  for (char& c : s) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    c = kAlphabet[x >> 58];
  }
  return s;
}

AuditEvent event(int i) {
  AuditEvent e;
  e.request_id = "bench-" + std::to_string(i);
  e.actor = "reconnact-leusden";
  e.action = "feed.read";
  e.purpose = "begeleiding-naar-werk";
  e.basis = "consent";
  // A different participant per event, as in a feed page: the subject index takes inserts all
  // over its B-tree, not only at its end.
  e.subject = subject_of(static_cast<std::uint64_t>(i));
  e.recipient = "reconnact-leusden";
  e.fields = {"voornaam", "leeftijdsgroep", "postcode4", "doelgroep"};
  e.policy_set = std::string(64, 'a');
  e.policy_ids = {"gemeente-referral-to-project@1"};
  e.consent_ids = {"cns_aaaaaaaaaaaaaaaaaaaaaaaaaa"};
  e.decision = "permit";
  return e;
}

// One request's events (a feed page of `batch`) appended by each of the benchmark's threads.
void BM_AppendGroupCommit(benchmark::State& state) {
  static Log* shared = nullptr;
  if (state.thread_index() == 0) shared = new Log("brug-audit-bench-append");
  const int batch = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<AuditEvent> events;
    for (int i = 0; i < batch; ++i) events.push_back(event(i));
    if (!shared->log->append(std::move(events)).is_ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_AppendGroupCommit)
    ->Arg(1)
    ->Arg(100)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();

// The log the proof benchmarks read: BRUG_AUDIT_BENCH_EVENTS events (default 10^6) in
// BRUG_AUDIT_BENCH_DIR, which is kept and reused when it already holds that many (so a 10^7 log
// is filled once); without it, a temporary folder removed at exit.
AuditLog& big_log() {
  static const std::uint64_t want = [] {
    const char* v = std::getenv("BRUG_AUDIT_BENCH_EVENTS");
    return v != nullptr ? std::stoull(v) : std::uint64_t{1000000};
  }();
  static brug::crypto::KeyDir keys = std::move(brug::crypto::KeyDir::ephemeral()).value();
  static const std::filesystem::path dir = [] {
    const char* v = std::getenv("BRUG_AUDIT_BENCH_DIR");
    return v != nullptr ? std::filesystem::path(v)
                        : std::filesystem::temp_directory_path() / "brug-audit-bench-proof";
  }();
  static std::unique_ptr<brug::adapters::Database> db = [] {
    if (std::getenv("BRUG_AUDIT_BENCH_DIR") == nullptr) {
      std::filesystem::remove_all(dir);
      std::atexit([] { std::filesystem::remove_all(dir); });
    }
    std::filesystem::create_directories(dir);
    return std::move(brug::adapters::open_sqlite({.path = (dir / "a.db").string()})).value();
  }();
  static AuditLog log(*db, keys.signing_key(), brug::gateway::AuditOptions{},
                      brug::crypto::Env::system());
  static const bool filled = [] {
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t have = *log.size();
    while (have < want) {
      std::vector<AuditEvent> events;
      for (std::uint64_t i = 0; i < 10000 && have + i < want; ++i) {
        events.push_back(event(static_cast<int>(have + i)));
      }
      have += events.size();
      if (!log.append(std::move(events)).is_ok()) std::abort();
    }
    std::fprintf(stderr, "audit log of %llu events ready in %.0f s\n",
                 static_cast<unsigned long long>(have),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return true;
  }();
  (void)filled;
  return log;
}

// Appends at the size of the proof log (BRUG_AUDIT_BENCH_EVENTS): the subject index is then
// far larger than SQLite's page cache, which is what a long-running gateway sees.
void BM_AppendToBigLog(benchmark::State& state) {
  AuditLog& log = big_log();
  const int batch = static_cast<int>(state.range(0));
  int next = static_cast<int>(state.thread_index()) << 24;
  for (auto _ : state) {
    std::vector<AuditEvent> events;
    for (int i = 0; i < batch; ++i) events.push_back(event(next++));
    if (!log.append(std::move(events)).is_ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_AppendToBigLog)->Arg(100)->Threads(1)->Threads(4)->Threads(16)->UseRealTime();

// An auditor's search for one participant's events over the whole log (one index seek per
// block of 4096 events), answering the first 100.
void BM_SearchBySubject(benchmark::State& state) {
  AuditLog& log = big_log();
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto found = log.search({.subject = subject_of(++i * 7919), .limit = 100});
    if (!found.is_ok() || found->empty()) state.SkipWithError("nothing found");
    benchmark::DoNotOptimize(found);
  }
}
BENCHMARK(BM_SearchBySubject)->Iterations(50)->Unit(benchmark::kMillisecond);

// Spread over the whole log, so the pages read are mostly not the ones read just before.
std::uint64_t spread(std::uint64_t i, std::uint64_t size) {
  return (i * 0x9E3779B97F4A7C15ULL >> 11) % size;
}

void BM_InclusionProof(benchmark::State& state) {
  AuditLog& log = big_log();
  const std::uint64_t size = *log.size();
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto proof = log.inclusion_proof(spread(++i, size), size);
    if (!proof.is_ok()) state.SkipWithError("no proof");
    benchmark::DoNotOptimize(proof);
  }
  state.counters["log_size"] = static_cast<double>(size);
}
BENCHMARK(BM_InclusionProof)->Iterations(5000)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  AuditLog& log = big_log();
  const std::uint64_t size = *log.size();
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto proof = log.consistency_proof(1 + spread(++i, size - 1), size);
    if (!proof.is_ok()) state.SkipWithError("no proof");
    benchmark::DoNotOptimize(proof);
  }
  state.counters["log_size"] = static_cast<double>(size);
}
BENCHMARK(BM_ConsistencyProof)->Iterations(5000)->Unit(benchmark::kMicrosecond);

}  // namespace
