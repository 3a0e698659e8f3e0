#include "policies/cell_key.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>

#include "policies/publication.h"

namespace brug {
namespace {

// A period of `n` people with random keys and the given values of (project, status).
PeriodContributions period_of(const std::vector<std::pair<std::string, std::string>>& people,
                              std::uint64_t seed) {
  PeriodContributions p;
  p.dimensions = {{"project", {"a", "b", "c"}}, {"status", {"intake", "stage", "werk", "gestopt"}}};
  std::mt19937_64 rng(seed);
  for (const auto& [project, status] : people)
    p.contributions.push_back({rng(), {project, status}});
  return p;
}

std::vector<std::pair<std::string, std::string>> crowd(int a_intake, int a_stage, int b_stage,
                                                       int b_werk) {
  std::vector<std::pair<std::string, std::string>> v;
  for (int i = 0; i < a_intake; ++i) v.push_back({"a", "intake"});
  for (int i = 0; i < a_stage; ++i) v.push_back({"a", "stage"});
  for (int i = 0; i < b_stage; ++i) v.push_back({"b", "stage"});
  for (int i = 0; i < b_werk; ++i) v.push_back({"b", "werk"});
  return v;
}

TEST(CellKey, TheNoiseHasMeanZeroAtMostTheMaximumAndThePublishedVariance) {
  double sum = 0, mean = 0;
  for (std::int64_t e = -kMaxNoise - 3; e <= kMaxNoise + 3; ++e) {
    sum += noise_probability(e);
    mean += noise_probability(e) * double(e);
    if (std::abs(e) > kMaxNoise) {
      EXPECT_EQ(noise_probability(e), 0);
    }
    EXPECT_DOUBLE_EQ(noise_probability(e), noise_probability(-e));
  }
  EXPECT_NEAR(sum, 1, 1e-12);
  EXPECT_NEAR(mean, 0, 1e-12);
  EXPECT_NEAR(noise_variance(), 4, 0.01);  // docs/REPORTS.md publishes 4 (2 * 0.5 / 0.5^2)
}

TEST(CellKey, NoiseAtFollowsTheTable) {
  std::map<std::int64_t, int> seen;
  const int steps = 200000;
  for (int i = 0; i < steps; ++i) ++seen[noise_at((i + 0.5) / steps)];
  for (std::int64_t e = -kMaxNoise; e <= kMaxNoise; ++e) {
    EXPECT_NEAR(seen[e] / double(steps), noise_probability(e), 1e-4) << e;
  }
  EXPECT_EQ(noise_at(0), -kMaxNoise);
  EXPECT_EQ(noise_at(std::nextafter(1.0, 0.0)), kMaxNoise);
}

TEST(CellKey, TheSameValueShowsTheSameNumberInEveryTableAndEveryTime) {
  const auto p = period_of(crowd(14, 20, 12, 25), 7);
  const auto version = period_version(p);
  const auto by_status = perturb(tabulate(p, 1, std::nullopt), version, kDefaultMinCell);
  const auto by_project_status = perturb(tabulate(p, 0, 1), version, kDefaultMinCell);
  const auto by_status_project = perturb(tabulate(p, 1, 0), version, kDefaultMinCell);
  EXPECT_EQ(by_project_status.column_totals, by_status.row_totals);
  EXPECT_EQ(by_status_project.row_totals, by_status.row_totals);
  EXPECT_EQ(by_project_status.total, by_status.total);
  for (std::size_t r = 0; r < by_status.rows.size(); ++r) {
    EXPECT_EQ(by_status.cells[r][0], by_status.row_totals[r]);
  }
  // Asked again: the same answer.
  const auto again = perturb(tabulate(p, 1, std::nullopt), period_version(p), kDefaultMinCell);
  EXPECT_EQ(shown_values(again), shown_values(by_status));
}

TEST(CellKey, SmallCountsAndNobodyShowOnlyPerturbedAndNeverUnderTheThreshold) {
  int small_shown = 0, small = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const auto p = period_of(crowd(3, 9, 0, 11), seed);
    const auto t = perturb(tabulate(p, 0, 1), period_version(p), kDefaultMinCell);
    for (const auto& v : shown_values(t)) {
      if (v) {
        EXPECT_GE(*v, kDefaultMinCell);
      }
    }
    // project c (nobody), a x gestopt (nobody), a x intake (3 people)
    for (const auto& v : {t.cells[2][0], t.cells[0][3], t.cells[0][0]}) {
      small_shown += v ? 1 : 0;
      ++small;
    }
  }
  EXPECT_LE(small_shown, small / 100);  // 3 people show with probability 0.0104, nobody 0.00065
  // Every count can show any number within the maximum noise, so none is ruled out for sure.
  EXPECT_GT(probability_shown(12, 0, 10), 0.0);
  EXPECT_LT(probability_shown(12, 0, 10), 0.001);
  EXPECT_GT(probability_shown(std::nullopt, 30, 10), 0.0);
  EXPECT_EQ(probability_shown(9, 30, 10), 0.0);  // a shown value is never under the threshold
  EXPECT_GT(probability_shown(std::nullopt, 3, 10), 0.98);
}

// Everyone of project a is in stage, and everyone is in project a: the cell, its row and column
// totals and the grand total hold the same people but are different values with their own noise,
// so equal numbers do not tell a reader they hold the same people (they agree about as often as
// any two independent draws: 0.148 for counts one apart, ~0.2 for equal counts).
TEST(CellKey, DifferentValuesOfTheSamePeopleShowIndependentNumbers) {
  int equal = 0, rounds = 0;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    const auto p = period_of(crowd(0, 30, 0, 0), seed);
    const auto t = perturb(tabulate(p, 0, 1), period_version(p), kDefaultMinCell);
    ASSERT_TRUE(t.total && t.cells[0][1]);  // 30 people plus noise of at most 12
    equal += t.cells[0][1] == t.total ? 1 : 0;
    ++rounds;
  }
  EXPECT_GT(equal, rounds / 10);
  EXPECT_LT(equal, rounds * 3 / 10);
}

TEST(CellKey, AnyChangeToThePeriodDrawsFreshNoiseForEveryCell) {
  auto p = period_of(crowd(40, 40, 40, 40), 11);
  const auto before = perturb(tabulate(p, 0, 1), period_version(p), kDefaultMinCell);
  p.contributions.pop_back();  // one person of b x werk erased
  const auto after = perturb(tabulate(p, 0, 1), period_version(p), kDefaultMinCell);
  // Cells without that person would keep their number if only their own people counted; with
  // the period's version in every key they are drawn again (each stays the same only by chance).
  int changed = 0;
  for (int c : {0, 1})
    changed +=
        before.cells[0][static_cast<std::size_t>(c)] != after.cells[0][static_cast<std::size_t>(c)];
  changed += before.cells[1][1] != after.cells[1][1];
  int tries = changed;
  for (std::uint64_t seed = 12; seed < 40 && changed == 0; ++seed) {
    auto q = period_of(crowd(40, 40, 40, 40), seed);
    const auto b = perturb(tabulate(q, 0, 1), period_version(q), kDefaultMinCell);
    q.contributions.pop_back();
    const auto a = perturb(tabulate(q, 0, 1), period_version(q), kDefaultMinCell);
    changed += b.cells[0][0] != a.cells[0][0];
    ++tries;
  }
  EXPECT_GT(changed, 0) << tries;
}

// A reader adds the shown cells of a line and compares the shown total. docs/REPORTS.md states
// the tolerance: each value is its people plus noise with variance ~4, so the difference has a
// standard deviation of 2 * sqrt(k + 1) for k cells; it stays within twice that 95% of the time
// and never exceeds (k + 1) * kMaxNoise.
TEST(CellKey, TotalsAddUpWithinTheDocumentedTolerance) {
  std::mt19937_64 rng(20261130);
  std::uniform_int_distribution<int> size(15, 120);
  int lines = 0, within = 0;
  for (int round = 0; round < 400; ++round) {
    const auto p = period_of(crowd(size(rng), size(rng), size(rng), size(rng)), rng());
    const auto t = perturb(tabulate(p, 1, std::nullopt), period_version(p), kDefaultMinCell);
    std::int64_t sum = 0;
    int k = 0;
    for (const auto& row : t.cells) {
      if (row[0]) {
        sum += *row[0];
        ++k;
      }
    }
    ASSERT_GE(k, 3);  // intake, stage, werk (and gestopt, empty, if its noise reaches 10)
    ASSERT_TRUE(t.total);
    const double diff = std::abs(double(*t.total - sum));
    EXPECT_LE(diff, double((k + 1) * kMaxNoise));
    within += diff <= 2 * std::sqrt(noise_variance() * (k + 1)) ? 1 : 0;
    ++lines;
  }
  EXPECT_GE(within, lines * 90 / 100) << within << " of " << lines;
}

TEST(Publication, APeriodIsPublishedAfterItsDelayAndCountsWhatArrivedBefore) {
  using namespace std::chrono;
  const sys_days october_31{year(2025) / October / 31};
  EXPECT_EQ(publication_day(october_31, 30), sys_days{year(2025) / December / 1});
  EXPECT_EQ(publication_day(october_31, 0), sys_days{year(2025) / November / 1});
  const auto dec1 = system_clock::time_point(sys_days{year(2025) / December / 1});
  EXPECT_TRUE(counts_for_period(dec1 - milliseconds(1), october_31, 30));
  EXPECT_FALSE(counts_for_period(dec1, october_31, 30));
}

// ---- The property test: an exact attack on sequences of reports --------------------------------
//
// Random populations of one quarter at three projects; random sequences of events after
// publication (one more outcome pushed late, one person erased); every table of every period
// (the three months and the quarter, eight groupings) asked after every event. The attacker knows
// everything about everyone except the statuses of a few outcomes (people who did not consent
// to outcome sharing, and the outcomes pushed late) and the gateway's keys. It tries every
// assignment of statuses to the unknown outcomes against every published value and every
// "the same people show the same number" equality, and calls an outcome determined when all
// assignments that fit agree on it. The same attacker against today's rules (exact counts,
// suppression, no frozen periods) determines outcomes; against cell keys with frozen periods it
// must not. A second, Bayesian attacker who knows everyone but one person measures the residual
// risk: how often its best guess of that person's status is right (docs/REPORTS.md).

constexpr int kStatuses = 4;
const char* const kStatus[kStatuses] = {"intake", "stage", "betaald-werk", "gestopt"};
const double kStatusRate[kStatuses] = {0.3, 0.3, 0.25, 0.15};
const char* const kProject[3] = {"p1", "p2", "p3"};
const char* const kLadder[3] = {"gestegen", "gelijk", "gedaald"};
const char* const kMonth[3] = {"2025-10", "2025-11", "2025-12"};

struct Outcome {
  int month = 0, status = 0, ladder = 0;
  bool late = false;  // received after the period was published
};
struct Person {
  int project = 0;
  std::uint64_t record_key = 0;  // the gateway's secret
  std::uint64_t public_id = 0;   // what the attacker can tell people apart by
  std::vector<Outcome> outcomes;
};
struct Event {
  int person = 0;
  bool erase = false;
  Outcome pushed;  // when not an erasure
};
struct Scenario {
  std::vector<Person> people;
  std::vector<Event> events;
  std::vector<std::pair<int, int>> unknown;  // (person, outcome index) whose status is hidden
};

struct Period {
  int first, last;  // months
};
const Period kPeriods[4] = {{0, 0}, {1, 1}, {2, 2}, {0, 2}};
// Groupings as indexes into {project, status, ladder, month}; -1: one-way.
const std::pair<int, int> kGroupings[8] = {{1, -1}, {0, 1}, {1, 2}, {0, -1},
                                           {2, -1}, {0, 2}, {1, 3}, {3, -1}};

enum class Rules { kExactWithSuppression, kCellKeyFrozen };

struct Publication {
  std::size_t period, grouping, epoch;
  std::vector<std::optional<std::int64_t>> shown;
};

// The people as they stand after `epoch` events, each with a flag whether still present.
std::vector<std::pair<Person, bool>> state_at(const Scenario& s, std::size_t epoch) {
  std::vector<std::pair<Person, bool>> out;
  for (const Person& p : s.people) out.push_back({p, true});
  for (std::size_t i = 0; i < epoch; ++i) {
    const Event& e = s.events[i];
    if (e.erase) {
      out[static_cast<std::size_t>(e.person)].second = false;
    } else {
      out[static_cast<std::size_t>(e.person)].first.outcomes.push_back(e.pushed);
    }
  }
  return out;
}

// What the route counts: each present person by their latest outcome in the period (under frozen
// periods only outcomes that arrived before publication). `use_public_ids` gives the attacker's
// view: the same people, keyed by what it can tell apart.
PeriodContributions contributions(const std::vector<std::pair<Person, bool>>& people,
                                  const Period& period, Rules rules, bool use_public_ids) {
  PeriodContributions pc;
  pc.dimensions = {{"project", {kProject, kProject + 3}},
                   {"status", {kStatus, kStatus + kStatuses}},
                   {"ladder", {kLadder, kLadder + 3}},
                   {"month", {}}};
  for (int m = period.first; m <= period.last; ++m) pc.dimensions[3].values.push_back(kMonth[m]);
  for (const auto& [p, present] : people) {
    if (!present) continue;
    const Outcome* latest = nullptr;
    for (const Outcome& o : p.outcomes) {
      if (o.month < period.first || o.month > period.last) continue;
      if (rules == Rules::kCellKeyFrozen && o.late) continue;
      if (latest == nullptr || o.month >= latest->month) latest = &o;
    }
    if (latest == nullptr) continue;
    pc.contributions.push_back({use_public_ids ? p.public_id : p.record_key,
                                {kProject[p.project], kStatus[latest->status],
                                 kLadder[latest->ladder], kMonth[latest->month]}});
  }
  return pc;
}

KeyedTable table_of(const PeriodContributions& pc, std::size_t grouping) {
  const auto [r, c] = kGroupings[grouping];
  return tabulate(pc, static_cast<std::size_t>(r),
                  c < 0 ? std::nullopt : std::optional(static_cast<std::size_t>(c)));
}

std::vector<Publication> publish_all(const Scenario& s, Rules rules) {
  std::vector<Publication> out;
  for (std::size_t epoch = 0; epoch <= s.events.size(); ++epoch) {
    const auto people = state_at(s, epoch);
    for (std::size_t pi = 0; pi < 4; ++pi) {
      const auto pc = contributions(people, kPeriods[pi], rules, false);
      const auto version = period_version(pc);
      for (std::size_t g = 0; g < 8; ++g) {
        if (kGroupings[g].first == 3 || kGroupings[g].second == 3) {
          if (pi != 3) continue;  // by month: the quarter only
        }
        const KeyedTable t = table_of(pc, g);
        if (rules == Rules::kCellKeyFrozen) {
          out.push_back({pi, g, epoch, shown_values(perturb(t, version, kDefaultMinCell))});
        } else {
          CountTable plain{t.rows, t.columns, {}};
          for (const auto& row : t.cells) {
            plain.cells.emplace_back();
            for (const auto& cell : row) plain.cells.back().push_back(cell.n);
          }
          out.push_back({pi, g, epoch, shown_values(protect(plain, kDefaultMinCell))});
        }
      }
    }
  }
  return out;
}

// The attacker's fingerprint of a period's contributions: equal exactly when the contributions
// are (so the gateway's version is equal too).
std::uint64_t fingerprint(const PeriodContributions& pc) {
  std::uint64_t sum = 0;
  for (const auto& c : pc.contributions) {
    std::uint64_t h = c.record_key;
    for (const auto& v : c.values) {
      for (char ch : v) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
      h = (h ^ 0xff) * 0x100000001b3ULL;
    }
    sum += h ^ (h >> 29);
  }
  return sum;
}

// The likelihood of every publication if the people were `people` (attacker's view), 0 when
// impossible. Under cell keys: the product over distinct values (a period's version and a value's
// definition) of the probability of what they show (a value shows the same number everywhere, or
// the likelihood is 0). Under
// exact rules: 1 when every shown value equals its count, else 0.
double likelihood(const Scenario& view, const std::vector<Publication>& pubs, Rules rules) {
  std::map<std::pair<std::uint64_t, std::string>, std::optional<std::int64_t>> values;
  double l = 1;
  std::size_t cached_epoch = SIZE_MAX, cached_period = SIZE_MAX;
  PeriodContributions pc;
  std::uint64_t fp = 0;
  for (const Publication& pub : pubs) {
    if (pub.epoch != cached_epoch || pub.period != cached_period) {
      pc = contributions(state_at(view, pub.epoch), kPeriods[pub.period], rules, true);
      fp = fingerprint(pc);
      cached_epoch = pub.epoch;
      cached_period = pub.period;
    }
    const auto all = entries(table_of(pc, pub.grouping));
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& shown = pub.shown[i];
      if (rules == Rules::kExactWithSuppression) {
        if (shown && *shown != all[i].people.n) return 0;
        continue;
      }
      const auto key = std::pair{fp, all[i].cell};
      auto [it, fresh] = values.emplace(key, shown);
      if (!fresh) {
        if (it->second != shown) return 0;
        continue;
      }
      l *= probability_shown(shown, all[i].people.n, kDefaultMinCell);
      if (l == 0) return 0;
    }
  }
  return l;
}

Scenario random_scenario(std::mt19937_64& rng) {
  Scenario s;
  std::discrete_distribution<int> status(kStatusRate, kStatusRate + kStatuses);
  std::uniform_int_distribution<int> three(0, 2);
  const int n = std::uniform_int_distribution<int>(15, 45)(rng);
  for (int i = 0; i < n; ++i) {
    Person p;
    p.project = three(rng);
    p.record_key = rng();
    p.public_id = rng();
    const int outcomes = std::uniform_int_distribution<int>(1, 2)(rng);
    for (int k = 0; k < outcomes; ++k) p.outcomes.push_back({three(rng), status(rng), three(rng)});
    s.people.push_back(std::move(p));
  }
  // Events after publication: one more (late) outcome pushed, or a person erased.
  const int events = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int e = 0; e < events; ++e) {
    Event ev;
    ev.person = std::uniform_int_distribution<int>(0, n - 1)(rng);
    ev.erase = three(rng) == 0;
    ev.pushed = {three(rng), status(rng), three(rng), true};
    s.events.push_back(ev);
  }
  return s;
}

struct AttackResult {
  int unknown = 0, determined = 0;
  int guesses = 0, right = 0;
};

AttackResult attack(Rules rules, int scenarios, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  AttackResult result;
  for (int round = 0; round < scenarios; ++round) {
    Scenario s = random_scenario(rng);
    const auto pubs = publish_all(s, rules);
    // Unknown: the pushed outcomes and the first outcome of other people, four in all at most.
    Scenario hidden = s;
    hidden.unknown.clear();
    std::vector<int> truth;
    for (std::size_t e = 0; e < hidden.events.size(); ++e) {
      if (hidden.events[e].erase) continue;
      hidden.unknown.push_back({-1 - int(e), 0});  // the pushed outcome of event e
      truth.push_back(hidden.events[e].pushed.status);
    }
    std::uniform_int_distribution<int> who(0, int(s.people.size()) - 1);
    while (hidden.unknown.size() < 4) {
      const int p = who(rng);
      hidden.unknown.push_back({p, 0});
      truth.push_back(s.people[static_cast<std::size_t>(p)].outcomes[0].status);
    }
    // Every assignment of statuses to the unknown outcomes that fits the publications.
    const std::size_t u = hidden.unknown.size();
    std::vector<std::vector<int>> fitting;
    std::vector<int> a(u, 0);
    for (;;) {
      Scenario h = hidden;
      for (std::size_t i = 0; i < u; ++i) {
        const auto [p, o] = hidden.unknown[i];
        if (p < 0) {
          h.events[static_cast<std::size_t>(-1 - p)].pushed.status = a[i];
        } else {
          h.people[static_cast<std::size_t>(p)].outcomes[static_cast<std::size_t>(o)].status = a[i];
        }
      }
      // Same hidden person chosen twice: keep assignments that agree.
      bool coherent = true;
      for (std::size_t i = 0; i < u; ++i) {
        for (std::size_t j = i + 1; j < u; ++j) {
          if (hidden.unknown[i] == hidden.unknown[j] && a[i] != a[j]) coherent = false;
        }
      }
      if (coherent && likelihood(h, pubs, rules) > 0) fitting.push_back(a);
      std::size_t i = 0;
      while (i < u && ++a[i] == kStatuses) a[i++] = 0;
      if (i == u) break;
    }
    EXPECT_FALSE(fitting.empty());  // the truth always fits
    for (std::size_t i = 0; i < u; ++i) {
      ++result.unknown;
      bool same = !fitting.empty();
      for (const auto& f : fitting) same = same && f[i] == fitting[0][i];
      result.determined += same ? 1 : 0;
    }
    // The Bayesian attacker who knows everyone but one person: its best guess of that person's
    // first outcome, from every publication (prior: the base rates).
    for (int k = 0; k < 3; ++k) {
      const int p = who(rng);
      std::vector<double> posterior(kStatuses);
      for (int st = 0; st < kStatuses; ++st) {
        Scenario h = s;
        h.people[static_cast<std::size_t>(p)].outcomes[0].status = st;
        posterior[static_cast<std::size_t>(st)] = kStatusRate[st] * likelihood(h, pubs, rules);
      }
      const auto best = std::max_element(posterior.begin(), posterior.end()) - posterior.begin();
      ++result.guesses;
      result.right += best == s.people[static_cast<std::size_t>(p)].outcomes[0].status ? 1 : 0;
    }
  }
  return result;
}

// 16 scenarios keep the test at a few seconds; BRUG_ATTACK_SCENARIOS=N measures with more (the
// numbers in docs/REPORTS.md come from N = 1000).
int scenarios() {
  const char* n = std::getenv("BRUG_ATTACK_SCENARIOS");
  return n != nullptr && std::atoi(n) > 0 ? std::atoi(n) : 16;
}

TEST(CellKeyAttack, TodaysRulesLetASequenceOfReportsDetermineOutcomes) {
  const AttackResult r = attack(Rules::kExactWithSuppression, scenarios(), 14);
  std::cout << "exact rules: " << r.determined << " of " << r.unknown
            << " unknown outcomes determined; best guess right " << r.right << " of " << r.guesses
            << "\n";
  EXPECT_GT(r.determined, 0);
}

TEST(CellKeyAttack, NoSequenceOfReportsDeterminesAnOutcomeUnderCellKeysAndFrozenPeriods) {
  const AttackResult r = attack(Rules::kCellKeyFrozen, scenarios(), 14);
  std::cout << "cell keys, frozen periods: " << r.determined << " of " << r.unknown
            << " unknown outcomes determined; best guess right " << r.right << " of " << r.guesses
            << "\n";
  EXPECT_EQ(r.determined, 0);
  // The residual risk: the all-but-one attacker's best guess is right in about 38% of cases
  // (docs/REPORTS.md), against 30% from the base rates alone; today's rules: about 50%.
  EXPECT_LE(r.right, r.guesses * 45 / 100);
}

}  // namespace
}  // namespace brug
