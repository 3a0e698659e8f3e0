// Cell-key perturbation of count tables (after the ABS TableBuilder method, also offered by CBS
// and Eurostat's tau-argus): every contribution carries a fixed random record key; the period's
// version is keyed by all of them, and a value's noise is looked up from the version, the value's
// definition (which dimension values it counts) and its count. So the same value shows the same
// number in every table and every time, and any change to the period draws fresh noise for every
// value. Unlike ABS, a cell's key is not the sum of its own people's keys: then two different
// values that happen to hold the same people would show the same number, which tells an attacker
// they hold the same people (docs/REPORTS.md). Pure: contributions in, a table out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/disclosure_control.h"

namespace brug {

// The published perturbation table: the noise is two-sided geometric, P(e) proportional to
// kNoiseRatio^|e|, with the tails beyond kMaxNoise folded onto +-kMaxNoise. Mean 0. The maximum
// is far out (P(|e| = 40) ~ 6e-13) so that no shown value rules out a count near the true one.
inline constexpr double kNoiseRatio = 0.5;
inline constexpr std::int64_t kMaxNoise = 40;

// P(noise == e); 0 outside [-kMaxNoise, kMaxNoise].
double noise_probability(std::int64_t e);
// The variance of the noise (about 4: a standard deviation of about 2 people).
double noise_variance();
// The noise at position u in [0, 1) of the distribution (the inverse distribution function).
std::int64_t noise_at(double u);

// A set of people: how many, and the sum of their record keys (mod 2^64; the noise does not use
// it, see above, but it tells two sets apart).
struct KeyedCount {
  std::int64_t n = 0;
  std::uint64_t key = 0;
  KeyedCount& operator+=(const KeyedCount& o) {
    n += o.n;
    key += o.key;
    return *this;
  }
};

// What a value of `people` defined by `cell` (its dimension values, canonical) shows in a period
// of version `version`: the count plus its noise, or nullopt (withheld) when that is under
// `min_cell` (raised to kLowestMinCell). A value of nobody is perturbed like any other: it is
// withheld unless its noise alone reaches the threshold (probability 0.00065 at 10).
std::optional<std::int64_t> perturbed(const KeyedCount& people, std::string_view cell,
                                      std::uint64_t version, std::int64_t min_cell);
// The probability that a set of `n` people shows `shown` (nullopt: withheld); for readers of the
// documentation and for attack models.
double probability_shown(std::optional<std::int64_t> shown, std::int64_t n, std::int64_t min_cell);

// A dimension of a period and every value it can take (shown even when nobody has it).
struct Dimension {
  std::string name;
  std::vector<std::string> values;
};

// One person's contribution to a period (once per project): their record key and their value in
// every dimension of the period, values[i] for dimensions[i].
struct Contribution {
  std::uint64_t record_key = 0;
  std::vector<std::string> values;
};

struct PeriodContributions {
  std::vector<Dimension> dimensions;
  std::vector<Contribution> contributions;
};

// A key that changes whenever anything about the period's contributions changes (a person, a
// project or any value), so that a change after publication draws fresh noise for every cell
// instead of showing which cells the change touched.
std::uint64_t period_version(const PeriodContributions& period);

// A count table whose cells are sets of people.
struct KeyedTable {
  std::string row_dimension, column_dimension;  // column_dimension empty: one-way
  std::vector<std::string> rows;
  std::vector<std::string> columns;
  std::vector<std::vector<KeyedCount>> cells;  // [row][column]
};

// The period tabulated by one dimension (one column, named `one_way_column`) or two; values a
// dimension does not list are not counted. Indexes are into period.dimensions.
KeyedTable tabulate(const PeriodContributions& period, std::size_t row_dimension,
                    std::optional<std::size_t> column_dimension,
                    const std::string& one_way_column = "deelnemers");

// Every value a table shows, in one list: the cells row by row, then the row totals, the column
// totals and the grand total; each with its people and its definition ("status=stage",
// "project=p1&status=stage", "" for the grand total), the same wherever the value appears.
struct TableEntry {
  KeyedCount people;
  std::string cell;
};
std::vector<TableEntry> entries(const KeyedTable& table);
// A protected table's values in the order of entries().
std::vector<std::optional<std::int64_t>> shown_values(const ProtectedTable& table);

// The published table: every cell and every margin is a set of people of its own, shown as
// perturbed() (margins are not sums of perturbed cells). `primary` counts the cells withheld;
// `secondary` is 0 (nothing is withheld to protect another value: nothing can be recomputed).
ProtectedTable perturb(const KeyedTable& table, std::uint64_t version, std::int64_t min_cell);

}  // namespace brug
