// Fuzz target for a CSV export as `brug import referrals` and `brug portal` read it: any bytes
// as the file, parsed with the default limits and with small ones (so the limits are reached),
// then mapped row by row with the shipped mapping (adapters/formats/mappings).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/formats/csv.h"
#include "adapters/formats/csv_mapping.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using brug::fuzz::require;

const brug::adapters::CsvMapping& shipped_mapping() {
  static const brug::adapters::CsvMapping mapping = [] {
    auto m = brug::adapters::CsvMapping::load(
        BRUG_SOURCE_DIR "/adapters/formats/mappings/participatiebedrijf-export.json",
        brug::fuzz::shipped_catalogue());
    if (!m) brug::fuzz::finding("cannot load the shipped mapping");
    return std::move(m).value();
  }();
  return mapping;
}

void check_rows(const brug::Result<std::vector<brug::adapters::CsvRow>>& rows,
                const brug::adapters::CsvLimits& limits) {
  if (!rows) {
    require(rows.code() == brug::Code::kInvalidArgument, "csv: error of another kind");
    require(rows.message().rfind("fuzz.csv:", 0) == 0, "csv: error without FILE:LINE");
    return;
  }
  require(rows->size() <= limits.max_rows, "csv: more rows than the limit");
  int line = 0;
  for (const auto& row : *rows) {
    require(row.line > line, "csv: rows out of line order");
    line = row.line;
    require(!row.fields.empty() && row.fields.size() <= limits.max_columns,
            "csv: row width out of bounds");
    for (const auto& f : row.fields) {
      require(f.size() <= limits.max_field_bytes, "csv: field over the limit");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const brug::adapters::CsvLimits small{.max_field_bytes = 16, .max_columns = 8, .max_rows = 8};
  check_rows(brug::adapters::parse_csv(text, "fuzz.csv", small), small);

  const brug::adapters::CsvLimits limits;
  auto rows = brug::adapters::parse_csv(text, "fuzz.csv", limits);
  check_rows(rows, limits);
  if (!rows || rows->empty()) return 0;
  auto mapped = brug::adapters::map_rows(*rows, shipped_mapping(), brug::fuzz::shipped_catalogue(),
                                         "fuzz.csv");
  if (!mapped) {
    require(mapped.message().rfind("fuzz.csv:", 0) == 0, "map: error without FILE:LINE");
    return 0;
  }
  require(mapped->rows.size() + mapped->rejected == mapped->total, "map: rows do not add up");
  require(mapped->total < rows->size(), "map: more data rows than rows after the header");
  require(mapped->problems.size() >= mapped->rejected, "map: a rejected row without a problem");
  for (const auto& row : mapped->rows) {
    require(!row.source_ref.empty() && row.record.is_object(), "map: an empty mapped row");
  }
  return 0;
}
