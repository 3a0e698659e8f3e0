#include "policies/disclosure_control.h"

#include <algorithm>
#include <limits>

namespace brug {
namespace {

using Mask = std::vector<std::vector<bool>>;

// In a line of cells (a row or a column) whose total is published, the suppressed cells can be
// recomputed together as the total minus the published ones. So they must be at least two, and
// together hold at least `min_cell` people (else, e.g., a sum of 0 reveals that every one of
// them is 0). While that fails, suppress the smallest published cell of the line as well.
// Returns whether it changed anything. `at(i)` gives (row, column) of the i-th cell of the line.
template <class At>
bool protect_line(std::size_t n, At at, const CountTable& t, Mask& hidden, int& secondary,
                  std::int64_t min_cell) {
  bool changed = false;
  for (;;) {
    int suppressed = 0;
    std::int64_t suppressed_sum = 0;
    std::size_t best = n;
    std::int64_t best_value = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < n; ++i) {
      const auto [r, c] = at(i);
      if (hidden[r][c]) {
        ++suppressed;
        suppressed_sum += t.cells[r][c];
      } else if (t.cells[r][c] < best_value) {
        best_value = t.cells[r][c];
        best = i;
      }
    }
    const bool safe = suppressed == 0 || (suppressed >= 2 && suppressed_sum >= min_cell);
    if (safe || best == n) return changed;
    const auto [r, c] = at(best);
    hidden[r][c] = true;
    ++secondary;
    changed = true;
  }
}

}  // namespace

ProtectedTable protect(const CountTable& t, std::int64_t min_cell) {
  min_cell = std::max(min_cell, kLowestMinCell);
  const std::size_t nr = t.rows.size(), nc = t.columns.size();
  ProtectedTable out;
  out.rows = t.rows;
  out.columns = t.columns;
  Mask hidden(nr, std::vector<bool>(nc, false));
  std::vector<std::int64_t> row_sum(nr, 0), col_sum(nc, 0);
  std::int64_t total = 0;
  for (std::size_t r = 0; r < nr; ++r) {
    for (std::size_t c = 0; c < nc; ++c) {
      const std::int64_t v = t.cells[r][c];
      row_sum[r] += v;
      col_sum[c] += v;
      total += v;
      if (v < min_cell) {
        hidden[r][c] = true;
        ++out.primary;
      }
    }
  }
  // A margin under the threshold is itself withheld; a withheld margin cannot be used to
  // recompute a cell, so its line needs no secondary suppression.
  const bool total_shown = total >= min_cell;
  std::vector<bool> row_shown(nr), col_shown(nc);
  for (std::size_t r = 0; r < nr; ++r) row_shown[r] = row_sum[r] >= min_cell;
  for (std::size_t c = 0; c < nc; ++c) col_shown[c] = col_sum[c] >= min_cell;

  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t r = 0; r < nr; ++r) {
      if (!row_shown[r]) continue;
      changed |= protect_line(
          nc,
          [r](std::size_t i) {
            return std::pair{r, i};
          },
          t, hidden, out.secondary, min_cell);
    }
    for (std::size_t c = 0; c < nc; ++c) {
      if (!col_shown[c]) continue;
      changed |= protect_line(
          nr,
          [c](std::size_t i) {
            return std::pair{i, c};
          },
          t, hidden, out.secondary, min_cell);
    }
    // With one column (a one-way table) the rows are the column: the grand total is its margin.
    // With several, a single withheld row total could be recomputed from the grand total.
    if (total_shown && nr > 1) {
      int withheld_rows = 0;
      std::size_t best = nr;
      for (std::size_t r = 0; r < nr; ++r) {
        if (!row_shown[r]) {
          ++withheld_rows;
        } else if (best == nr || row_sum[r] < row_sum[best]) {
          best = r;
        }
      }
      if (withheld_rows == 1 && best != nr) {
        row_shown[best] = false;
        changed = true;
      }
      int withheld_cols = 0;
      best = nc;
      for (std::size_t c = 0; c < nc; ++c) {
        if (!col_shown[c]) {
          ++withheld_cols;
        } else if (best == nc || col_sum[c] < col_sum[best]) {
          best = c;
        }
      }
      if (nc > 1 && withheld_cols == 1 && best != nc) {
        col_shown[best] = false;
        changed = true;
      }
    }
  }

  // In a one-way table a row "total" is the cell itself (and likewise a single row's column
  // totals): it must be withheld exactly when the cell is.
  if (nc == 1) {
    for (std::size_t r = 0; r < nr; ++r) row_shown[r] = !hidden[r][0];
  }
  if (nr == 1) {
    for (std::size_t c = 0; c < nc; ++c) col_shown[c] = !hidden[0][c];
  }
  out.cells.assign(nr, std::vector<std::optional<std::int64_t>>(nc));
  for (std::size_t r = 0; r < nr; ++r) {
    for (std::size_t c = 0; c < nc; ++c) {
      if (!hidden[r][c]) out.cells[r][c] = t.cells[r][c];
    }
    out.row_totals.push_back(row_shown[r] ? std::optional(row_sum[r]) : std::nullopt);
  }
  for (std::size_t c = 0; c < nc; ++c) {
    out.column_totals.push_back(col_shown[c] ? std::optional(col_sum[c]) : std::nullopt);
  }
  if (total_shown) out.total = total;
  return out;
}

}  // namespace brug
