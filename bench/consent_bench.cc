// Consent evaluation cost: ConsentRegistry::permits over a real SQLite file holding many
// participants' consents (one indexed look-up plus the events of the matching consents).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "adapters/stores.h"
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
  std::unique_ptr<brug::adapters::Database> db;
  int participants;

  explicit Fixture(int n) : participants(n) {
    dir = std::filesystem::temp_directory_path() / ("brug-consent-bench-" + std::to_string(n));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = std::move(
        brug::adapters::open_sqlite({.path = (dir / "b.db").string(), .synchronous_full = false})
            .value());
    (void)db->write([](brug::adapters::Stores& st) {
      return st.orgs.sync(
          {{"g", "g", brug::Role::kGemeente, "", ""}, {"p", "p", brug::Role::kProject, "", ""}},
          "x");
    });
    // As the gateway does it: a registry over the consent store of one transaction.
    (void)db->write([&](brug::adapters::Stores& st) {
      ConsentRegistry registry_in_tx(st.consents, now);
      ConsentRegistry* registry = &registry_in_tx;
      for (int i = 0; i < n; ++i) {
        auto c = registry->record({.participant = participant(i),
                                   .grantee = "p",
                                   .purpose = Purpose::kBegeleidingNaarWerk,
                                   .categories = {"contact", "profiel", "segmentatie"},
                                   .valid_from = *brug::consent::Date::parse("2026-01-01"),
                                   .valid_until = *brug::consent::Date::parse("2026-12-31"),
                                   .evidence = {brug::consent::EvidenceMethod::kDigitaal, "r"}},
                                  "g");
        if (!c) std::abort();  // the fixture must be complete
        if (i % 10 == 0) (void)registry->withdraw(c->id, "g");
      }
      return brug::Status::ok();
    });
  }
  static std::string now() { return "2026-06-01T12:00:00.000Z"; }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

void BM_Permits(benchmark::State& state) {
  static Fixture f(static_cast<int>(state.range(0)));
  int i = 0;
  for (auto _ : state) {
    // One read transaction per evaluation, as a feed item's check runs in the page's snapshot.
    (void)f.db->read([&](brug::adapters::Stores& st) {
      ConsentRegistry registry(st.consents, Fixture::now);
      auto d = registry.permits(participant(i), "p", Purpose::kBegeleidingNaarWerk, "profiel");
      benchmark::DoNotOptimize(d);
      return brug::Status::ok();
    });
    i = (i + 7919) % f.participants;
  }
}
BENCHMARK(BM_Permits)->Arg(10000);

}  // namespace
