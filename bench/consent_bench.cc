// Consent evaluation cost: ConsentRegistry::permits over a real SQLite file holding many
// participants' consents (one indexed look-up plus the events of the matching consents).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "adapters/sqlite/consent_store.h"
#include "adapters/sqlite/storage.h"
#include "consent/registry.h"

namespace {

using brug::Purpose;
using brug::consent::ConsentRegistry;

std::string participant(int i) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", i);
  return buf;
}

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<brug::adapters::Storage> db;
  std::unique_ptr<brug::consent::ConsentStore> store;
  std::unique_ptr<ConsentRegistry> registry;
  int participants;

  explicit Fixture(int n) : participants(n) {
    dir = std::filesystem::temp_directory_path() / ("brug-consent-bench-" + std::to_string(n));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = std::move(
        brug::adapters::open_sqlite({.path = (dir / "b.db").string(), .synchronous_full = false})
            .value());
    (void)db->transact([](brug::adapters::Tx& tx) {
      return tx
          .exec(
              "INSERT INTO organisations (id, name, role, updated_at) VALUES "
              "('g', 'g', 'gemeente', 'x'), ('p', 'p', 'project', 'x')")
          .status();
    });
    store = brug::adapters::make_sql_consent_store(*db);
    registry = std::make_unique<ConsentRegistry>(
        *store, [] { return std::string("2026-06-01T12:00:00.000Z"); });
    for (int i = 0; i < n; ++i) {
      auto c = registry->record({.participant = participant(i),
                                 .grantee = "p",
                                 .purpose = Purpose::kBegeleidingNaarWerk,
                                 .categories = {"contact", "profiel", "segmentatie"},
                                 .valid_from = *brug::consent::Date::parse("2026-01-01"),
                                 .valid_until = *brug::consent::Date::parse("2026-12-31"),
                                 .evidence = {brug::consent::EvidenceMethod::kDigitaal, "r"}},
                                "g");
      if (!c) std::abort();
      if (i % 10 == 0) (void)registry->withdraw(c->id, "g");
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

void BM_Permits(benchmark::State& state) {
  static Fixture f(static_cast<int>(state.range(0)));
  int i = 0;
  for (auto _ : state) {
    auto d = f.registry->permits(participant(i), "p", Purpose::kBegeleidingNaarWerk, "profiel");
    benchmark::DoNotOptimize(d);
    i = (i + 7919) % f.participants;
  }
}
BENCHMARK(BM_Permits)->Arg(10000);

}  // namespace
