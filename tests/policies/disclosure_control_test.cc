#include "policies/disclosure_control.h"

#include <gtest/gtest.h>

#include <random>

namespace brug {
namespace {

CountTable one_way(std::vector<std::int64_t> counts) {
  CountTable t;
  t.columns = {"n"};
  for (std::size_t i = 0; i < counts.size(); ++i) {
    t.rows.push_back("r" + std::to_string(i));
    t.cells.push_back({counts[i]});
  }
  return t;
}

// No published line (row or column with a published total) may hold exactly one hidden cell
// or hidden cells that together hold fewer than the threshold, and no published cell may be
// under the threshold.
void expect_safe(const CountTable& t, const ProtectedTable& p, std::int64_t min_cell) {
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    int hidden = 0;
    std::int64_t hidden_sum = 0;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      if (!p.cells[r][c]) {
        ++hidden;
        hidden_sum += t.cells[r][c];
      }
      if (p.cells[r][c]) {
        EXPECT_GE(*p.cells[r][c], min_cell);
      }
    }
    if (p.row_totals[r] && t.columns.size() > 1 && hidden > 0) {
      EXPECT_GE(hidden, 2) << "row " << r;
      EXPECT_GE(hidden_sum, min_cell) << "row " << r;
    }
  }
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    int hidden = 0;
    std::int64_t hidden_sum = 0;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      if (!p.cells[r][c]) {
        ++hidden;
        hidden_sum += t.cells[r][c];
      }
    }
    if (p.column_totals[c] && hidden > 0) {
      EXPECT_GE(hidden, 2) << "column " << c;
      EXPECT_GE(hidden_sum, min_cell) << "column " << c;
    }
  }
  if (p.total) {
    int hidden_rows = 0;
    for (const auto& rt : p.row_totals) hidden_rows += rt ? 0 : 1;
    if (t.rows.size() > 1 && t.columns.size() > 1) {
      EXPECT_NE(hidden_rows, 1);
    }
  }
}

TEST(DisclosureControl, CellsUnderTheThresholdAreSuppressedAndOthersShown) {
  auto p = protect(one_way({12, 30, 40}));
  EXPECT_EQ(p.cells[0][0], 12);
  EXPECT_EQ(p.total, 82);
  EXPECT_EQ(p.primary, 0);
}

TEST(DisclosureControl, ZeroIsACountLikeAnyOther) {
  auto p = protect(one_way({0, 30, 40}));
  EXPECT_FALSE(p.cells[0][0]);
  EXPECT_EQ(p.primary, 1);
}

TEST(DisclosureControl, ASingleSuppressedCellIsNotRevealedByTheTotal) {
  const auto t = one_way({3, 20, 30});
  auto p = protect(t);
  EXPECT_FALSE(p.cells[0][0]);  // primary
  EXPECT_FALSE(p.cells[1][0]);  // secondary: the smallest other cell
  EXPECT_EQ(p.cells[2][0], 30);
  EXPECT_FALSE(p.row_totals[1]);  // the row "total" of a one-way table is the cell
  EXPECT_EQ(p.total, 53);
  EXPECT_EQ(p.secondary, 1);
  expect_safe(t, p, kDefaultMinCell);
}

TEST(DisclosureControl, SecondarySuppressionRunsAcrossRowsAndColumns) {
  CountTable t{{"ReconnAct", "JobHulpMaatje"}, {"stage", "betaald-werk"}, {{3, 20}, {15, 25}}};
  auto p = protect(t);
  EXPECT_FALSE(p.cells[0][0]);
  EXPECT_FALSE(p.cells[0][1]);
  EXPECT_FALSE(p.cells[1][0]);
  EXPECT_FALSE(p.cells[1][1]);
  EXPECT_EQ(p.row_totals[0], 23);
  EXPECT_EQ(p.column_totals[1], 45);
  EXPECT_EQ(p.total, 63);
  expect_safe(t, p, kDefaultMinCell);
}

TEST(DisclosureControl, ASmallMarginIsWithheldAndItsNeighbourToo) {
  CountTable t{{"a", "b", "c"}, {"x", "y"}, {{2, 3}, {20, 30}, {40, 50}}};
  auto p = protect(t);
  EXPECT_FALSE(p.row_totals[0]);  // 5 < 10
  EXPECT_FALSE(p.row_totals[1]);  // else row a = total - b - c
  EXPECT_TRUE(p.total);
  expect_safe(t, p, kDefaultMinCell);
}

TEST(DisclosureControl, SuppressedZerosAreNotRevealedByTheirSum) {
  // Published 10 + 10 = 20 = the total would prove both suppressed cells are 0.
  const auto t = one_way({10, 10, 0, 0});
  auto p = protect(t);
  EXPECT_FALSE(p.cells[2][0]);
  EXPECT_FALSE(p.cells[3][0]);
  EXPECT_FALSE(p.cells[0][0] && p.cells[1][0]);  // at least one 10 joins them
  expect_safe(t, p, kDefaultMinCell);
}

TEST(DisclosureControl, TheThresholdNeverGoesBelowFive) {
  auto p = protect(one_way({4, 30, 40}), 1);
  EXPECT_FALSE(p.cells[0][0]);
  auto q = protect(one_way({6, 30, 40}), 5);
  EXPECT_EQ(q.cells[0][0], 6);
}

TEST(DisclosureControl, RandomTablesNeverLeaveASingleSuppressedCellInAPublishedLine) {
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> size(1, 6), count(0, 40);
  for (int round = 0; round < 500; ++round) {
    CountTable t;
    const int nr = size(rng), nc = size(rng);
    for (int r = 0; r < nr; ++r) t.rows.push_back("r" + std::to_string(r));
    for (int c = 0; c < nc; ++c) t.columns.push_back("c" + std::to_string(c));
    t.cells.assign(static_cast<std::size_t>(nr), std::vector<std::int64_t>(nc));
    for (auto& row : t.cells) {
      for (auto& v : row) v = count(rng);
    }
    expect_safe(t, protect(t), kDefaultMinCell);
  }
}

}  // namespace
}  // namespace brug
