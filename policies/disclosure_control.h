// Statistical disclosure control for count tables (after the UK and CBS output rules): cells
// under a threshold are suppressed, and secondary suppression makes sure no suppressed cell can
// be recomputed from the published row or column totals. Pure: a table in, a table out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace brug {

// A two-way table of counts: rows x columns, each count a number of people (a one-way table
// has one column). Margins are the row and column sums and the grand total.
struct CountTable {
  std::vector<std::string> rows;
  std::vector<std::string> columns;
  std::vector<std::vector<std::int64_t>> cells;  // [row][column]
};

// The published form: nullopt where a value is suppressed.
struct ProtectedTable {
  std::vector<std::string> rows;
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::int64_t>>> cells;
  std::vector<std::optional<std::int64_t>> row_totals;
  std::vector<std::optional<std::int64_t>> column_totals;
  std::optional<std::int64_t> total;
  int primary = 0;    // cells suppressed because they are under the threshold
  int secondary = 0;  // cells suppressed so that no primary cell can be recomputed
};

inline constexpr std::int64_t kDefaultMinCell = 10;
inline constexpr std::int64_t kLowestMinCell = 5;

// Suppresses every cell with a count under `min_cell` (zero included: zero is a count like any
// other) and every margin under `min_cell`; then, until stable, in every row and column whose
// total is published and whose suppressed cells are fewer than two or hold together fewer than
// `min_cell` people, the smallest published cell. `min_cell` below kLowestMinCell is raised.
ProtectedTable protect(const CountTable& table, std::int64_t min_cell = kDefaultMinCell);

}  // namespace brug
