// Audit log costs: group-committed appends (events/s, several threads) and proof latency on a
// large log, over a real SQLite file.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <thread>

#include "adapters/storage.h"
#include "crypto/keydir.h"
#include "gateway/audit_log.h"

namespace {

using brug::gateway::AuditEvent;
using brug::gateway::AuditLog;

struct Log {
  std::filesystem::path dir;
  std::unique_ptr<brug::adapters::Storage> db;
  brug::crypto::KeyDir keys;
  std::unique_ptr<AuditLog> log;

  explicit Log(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / name),
        keys(std::move(brug::crypto::KeyDir::ephemeral().value())) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = std::move(brug::adapters::open_sqlite({.path = (dir / "a.db").string()}).value());
    log = std::make_unique<AuditLog>(*db, keys.signing_key(), brug::gateway::AuditOptions{});
  }
  ~Log() { std::filesystem::remove_all(dir); }
};

AuditEvent event(int i) {
  AuditEvent e;
  e.request_id = "bench-" + std::to_string(i);
  e.actor = "reconnact-leusden";
  e.action = "feed.read";
  e.purpose = "begeleiding-naar-werk";
  e.basis = "consent";
  e.subject = "RydnUtBSpIGpaQxKD_cmGL1BuGaMg4pWwoOhtpDZw7M";
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

void BM_InclusionProof(benchmark::State& state) {
  static Log big("brug-audit-bench-proof");
  static const std::uint64_t size = [&] {
    const std::uint64_t want = static_cast<std::uint64_t>(state.range(0));
    for (std::uint64_t done = 0; done < want; done += 10000) {
      std::vector<AuditEvent> events;
      for (std::uint64_t i = 0; i < 10000 && done + i < want; ++i) events.push_back(event(int(i)));
      (void)big.log->append(std::move(events));
    }
    return *big.log->size();
  }();
  std::uint64_t index = 0;
  for (auto _ : state) {
    auto proof = big.log->inclusion_proof(index, size);
    benchmark::DoNotOptimize(proof);
    index = (index + 7919) % size;
  }
}
BENCHMARK(BM_InclusionProof)->Arg(1000000)->Iterations(2000)->Unit(benchmark::kMicrosecond);

}  // namespace
