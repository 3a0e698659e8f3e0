// PolicySet::view_for on a 20-field referral: the per-disclosure cost of the policy step.
// Run: build-bench/bench/policies_bench --benchmark_repetitions=10
//      --benchmark_report_aggregates_only=true   (see docs/PERFORMANCE.md)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "policies/policy_set.h"

namespace brug {
namespace {

// The shipped data: <source>/policies, found from this file's path (or $BRUG_SOURCE_DIR).
std::filesystem::path policies_dir() {
  if (const char* dir = std::getenv("BRUG_SOURCE_DIR"))
    return std::filesystem::path(dir) / "policies";
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "policies";
}

const PolicySet& shipped() {
  static const PolicySet set = [] {
    auto catalogue = Catalogue::load(policies_dir() / "catalogue.json");
    if (!catalogue) {
      std::cerr << catalogue.message();
      std::exit(1);
    }
    auto s = PolicySet::load(policies_dir() / "default", *catalogue);
    if (!s) {
      std::cerr << s.message();
      std::exit(1);
    }
    return std::move(s).value();
  }();
  return set;
}

// 20 fields, as a gemeente or participatiebedrijf pushes them.
const nlohmann::json& referral() {
  static const nlohmann::json record = nlohmann::json::parse(R"({
    "bsn": "123456782", "voornaam": "Anna", "tussenvoegsel": "van", "achternaam": "Jansen",
    "telefoon": "06 12345678", "email": "anna@example.nl", "geboortedatum": "1971-03-02",
    "postcode": "7071AB", "woonplaats": "Ulft", "doelgroep": "betaald-werk-termijn",
    "participatieladder": 3, "uitkering": "bijstand", "uitkering_duur": "2-tot-5-jaar",
    "statushouder": false, "taalniveau": "A2", "opleidingsniveau": "mbo-2",
    "werkervaring": "magazijn, 4 jaar", "interesses": ["groen", "logistiek", "koken"],
    "competenties": ["nauwkeurig", "samenwerken"], "beschikbaarheid": 24})");
  return record;
}

const auto kToday =
    std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::May, std::chrono::day{1}};

void run(benchmark::State& state, const Flow& flow, CategorySet consent) {
  const PolicySet& set = shipped();
  const nlohmann::json& record = referral();
  std::size_t disclosed = 0;
  for (auto _ : state) {
    Decision d = set.view_for(flow, record, consent, kToday);
    disclosed = d.permitted() ? d.view().fields.size() : 0;
    benchmark::DoNotOptimize(d);
  }
  state.counters["fields_in"] = static_cast<double>(record.size());
  state.counters["fields_out"] = static_cast<double>(disclosed);
}

// Consent basis, transforms (age_band, postcode4, drop_free_text) and a deny guard.
void BM_ViewFor_GemeenteToProject(benchmark::State& state) {
  run(state,
      {{Role::kGemeente, "oude-ijsselstreek"},
       {Role::kProject, "jhm-soest"},
       RecordType::kReferral,
       Purpose::kBegeleidingNaarWerk},
      {Category::kContact, Category::kProfiel, Category::kSegmentatie});
}
BENCHMARK(BM_ViewFor_GemeenteToProject);

// Public task: 14 of 20 fields disclosed untransformed, no consent consulted.
void BM_ViewFor_ParticipatiebedrijfToGemeente(benchmark::State& state) {
  run(state,
      {{Role::kParticipatiebedrijf, "laborijn"},
       {Role::kGemeente, "oude-ijsselstreek"},
       RecordType::kReferral,
       Purpose::kUitvoeringParticipatiewet},
      {});
}
BENCHMARK(BM_ViewFor_ParticipatiebedrijfToGemeente);

// The refusal path: no policy for the flow.
void BM_ViewFor_UnknownFlow(benchmark::State& state) {
  run(state,
      {{Role::kProject, "jhm-soest"},
       {Role::kProject, "reconnact-leusden"},
       RecordType::kReferral,
       Purpose::kBegeleidingNaarWerk},
      {});
}
BENCHMARK(BM_ViewFor_UnknownFlow);

// view_for plus turning the view into JSON, as a feed item needs it.
void BM_ViewForToJson_GemeenteToProject(benchmark::State& state) {
  const Flow flow{{Role::kGemeente, "oude-ijsselstreek"},
                  {Role::kProject, "jhm-soest"},
                  RecordType::kReferral,
                  Purpose::kBegeleidingNaarWerk};
  const CategorySet consent{Category::kContact, Category::kProfiel, Category::kSegmentatie};
  for (auto _ : state) {
    nlohmann::json j = shipped().view_for(flow, referral(), consent, kToday).view().to_json();
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_ViewForToJson_GemeenteToProject);

}  // namespace
}  // namespace brug
