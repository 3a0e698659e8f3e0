#include "policies/cell_key.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "crypto/hash.h"

namespace brug {
namespace {

// The noise's distribution function: cdf()[e + kMaxNoise] = P(noise <= e).
const std::array<double, 2 * kMaxNoise + 1>& cdf() {
  static const auto table = [] {
    std::array<double, 2 * kMaxNoise + 1> t{};
    double sum = 0;
    for (std::int64_t e = -kMaxNoise; e <= kMaxNoise; ++e) {
      sum += noise_probability(e);
      t[static_cast<std::size_t>(e + kMaxNoise)] = sum;
    }
    return t;
  }();
  return table;
}

void put_u64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint64_t get_u64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

// The value's position in the noise distribution: a hash of the period version, the count and
// the value's definition, so values that differ in any of them get independent noise.
double position(std::uint64_t version, std::int64_t n, std::string_view cell) {
  std::string in(16, '\0');
  put_u64(reinterpret_cast<std::uint8_t*>(in.data()), version);
  put_u64(reinterpret_cast<std::uint8_t*>(in.data()) + 8, static_cast<std::uint64_t>(n));
  in += cell;
  const auto digest = crypto::sha256(std::string_view(in));
  return std::ldexp(static_cast<double>(get_u64(digest.data()) >> 11), -53);  // [0, 1)
}

}  // namespace

double noise_probability(std::int64_t e) {
  static const auto table = [] {
    std::array<double, kMaxNoise + 1> t{};
    const double c = (1 - kNoiseRatio) / (1 + kNoiseRatio);
    for (std::int64_t a = 0; a < kMaxNoise; ++a) {
      t[static_cast<std::size_t>(a)] = c * std::pow(kNoiseRatio, double(a));
    }
    // The tail beyond the maximum, folded onto it.
    t[kMaxNoise] = c * std::pow(kNoiseRatio, double(kMaxNoise)) / (1 - kNoiseRatio);
    return t;
  }();
  const std::int64_t a = e < 0 ? -e : e;
  return a > kMaxNoise ? 0.0 : table[static_cast<std::size_t>(a)];
}

double noise_variance() {
  double v = 0;
  for (std::int64_t e = -kMaxNoise; e <= kMaxNoise; ++e) v += noise_probability(e) * double(e * e);
  return v;
}

std::int64_t noise_at(double u) {
  for (std::int64_t e = -kMaxNoise; e < kMaxNoise; ++e) {
    if (u < cdf()[static_cast<std::size_t>(e + kMaxNoise)]) return e;
  }
  return kMaxNoise;
}

std::optional<std::int64_t> perturbed(const KeyedCount& people, std::string_view cell,
                                      std::uint64_t version, std::int64_t min_cell) {
  min_cell = std::max(min_cell, kLowestMinCell);
  const std::int64_t shown = people.n + noise_at(position(version, people.n, cell));
  if (shown < min_cell) return std::nullopt;
  return shown;
}

double probability_shown(std::optional<std::int64_t> shown, std::int64_t n, std::int64_t min_cell) {
  min_cell = std::max(min_cell, kLowestMinCell);
  if (shown) return *shown < min_cell ? 0.0 : noise_probability(*shown - n);
  // Withheld: P(n + e < min_cell) = P(e <= min_cell - n - 1).
  const std::int64_t e = min_cell - n - 1;
  if (e < -kMaxNoise) return 0.0;
  if (e >= kMaxNoise) return 1.0;
  return cdf()[static_cast<std::size_t>(e + kMaxNoise)];
}

std::uint64_t period_version(const PeriodContributions& period) {
  // A sum of per-contribution hashes: independent of order, changed by any change.
  std::uint64_t version = 0;
  for (const Contribution& c : period.contributions) {
    std::string text(8, '\0');
    put_u64(reinterpret_cast<std::uint8_t*>(text.data()), c.record_key);
    for (const std::string& v : c.values) {
      text += v;
      text.push_back('\0');
    }
    version += get_u64(crypto::sha256(std::string_view(text)).data());
  }
  return version;
}

KeyedTable tabulate(const PeriodContributions& period, std::size_t row_dimension,
                    std::optional<std::size_t> column_dimension,
                    const std::string& one_way_column) {
  KeyedTable t;
  t.row_dimension = period.dimensions.at(row_dimension).name;
  if (column_dimension) t.column_dimension = period.dimensions.at(*column_dimension).name;
  t.rows = period.dimensions.at(row_dimension).values;
  t.columns = column_dimension ? period.dimensions.at(*column_dimension).values
                               : std::vector<std::string>{one_way_column};
  t.cells.assign(t.rows.size(), std::vector<KeyedCount>(t.columns.size()));
  auto position_of = [](const std::vector<std::string>& list, const std::string& v) {
    return static_cast<std::size_t>(std::find(list.begin(), list.end(), v) - list.begin());
  };
  for (const Contribution& c : period.contributions) {
    const std::size_t r = position_of(t.rows, c.values.at(row_dimension));
    const std::size_t col =
        column_dimension ? position_of(t.columns, c.values.at(*column_dimension)) : 0;
    if (r < t.rows.size() && col < t.columns.size()) t.cells[r][col] += {1, c.record_key};
  }
  return t;
}

std::vector<TableEntry> entries(const KeyedTable& t) {
  const std::size_t nr = t.rows.size(), nc = t.columns.size();
  const bool one_way = t.column_dimension.empty();
  // "a=x&b=y" with the dimensions in name order, so a value reads the same in every table.
  auto define = [](std::vector<std::pair<std::string, std::string>> parts) {
    std::sort(parts.begin(), parts.end());
    std::string out;
    for (const auto& [dim, value] : parts) {
      if (!out.empty()) out += '&';
      out += dim + '=' + value;
    }
    return out;
  };
  std::vector<KeyedCount> row(nr), col(nc);
  KeyedCount total;
  std::vector<TableEntry> out;
  out.reserve(nr * nc + nr + nc + 1);
  for (std::size_t r = 0; r < nr; ++r) {
    for (std::size_t c = 0; c < nc; ++c) {
      row[r] += t.cells[r][c];
      col[c] += t.cells[r][c];
      total += t.cells[r][c];
      out.push_back({t.cells[r][c], one_way ? define({{t.row_dimension, t.rows[r]}})
                                            : define({{t.row_dimension, t.rows[r]},
                                                      {t.column_dimension, t.columns[c]}})});
    }
  }
  for (std::size_t r = 0; r < nr; ++r)
    out.push_back({row[r], define({{t.row_dimension, t.rows[r]}})});
  for (std::size_t c = 0; c < nc; ++c) {
    out.push_back({col[c], one_way ? "" : define({{t.column_dimension, t.columns[c]}})});
  }
  out.push_back({total, ""});
  return out;
}

std::vector<std::optional<std::int64_t>> shown_values(const ProtectedTable& p) {
  std::vector<std::optional<std::int64_t>> out;
  for (const auto& row : p.cells) out.insert(out.end(), row.begin(), row.end());
  out.insert(out.end(), p.row_totals.begin(), p.row_totals.end());
  out.insert(out.end(), p.column_totals.begin(), p.column_totals.end());
  out.push_back(p.total);
  return out;
}

ProtectedTable perturb(const KeyedTable& t, std::uint64_t version, std::int64_t min_cell) {
  const std::size_t nr = t.rows.size(), nc = t.columns.size();
  ProtectedTable p;
  auto next = [&, all = entries(t), i = std::size_t{0}]() mutable {
    const TableEntry& e = all[i++];
    return perturbed(e.people, e.cell, version, min_cell);
  };
  p.rows = t.rows;
  p.columns = t.columns;
  p.cells.assign(nr, std::vector<std::optional<std::int64_t>>(nc));
  for (auto& row : p.cells) {
    for (auto& v : row) {
      v = next();
      if (!v) ++p.primary;
    }
  }
  for (std::size_t r = 0; r < nr; ++r) p.row_totals.push_back(next());
  for (std::size_t c = 0; c < nc; ++c) p.column_totals.push_back(next());
  p.total = next();
  return p;
}

}  // namespace brug
