// Fuzz target for a CSV mapping file (docs/CSV.md): any bytes as the mapping, checked against
// the shipped catalogue; a mapping that loads then maps a file written from its own columns
// (each value map's keys, a date in its format, a list with its separator, and blank cells).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/formats/csv.h"
#include "adapters/formats/csv_mapping.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using brug::fuzz::require;

std::string cell(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A date in a format of DD, MM and YYYY with literal separators.
std::string date_in(const std::string& format) {
  std::string out = format;
  for (auto [token, value] : {std::pair{"YYYY", "2026"}, {"MM", "03"}, {"DD", "14"}}) {
    const auto at = out.find(token);
    if (at != std::string::npos) out.replace(at, std::string_view(token).size(), value);
  }
  return out;
}

std::string csv_for(const brug::adapters::CsvMapping& m) {
  std::string header = cell(m.source_ref_column) + ";" + cell(m.bsn_column);
  std::string first = "1;999900006", second = "2;999900018", blank = ";";
  for (const auto& c : m.columns) {
    header += ";" + cell(c.column);
    std::string a = c.values.empty() ? "x" : c.values.front().first;
    std::string b = c.values.empty() ? "" : c.values.back().first;
    if (!c.date_format.empty()) a = date_in(c.date_format);
    if (c.values.size() > 1) a += c.separator + c.values[1].first;
    first += ";" + cell(a);
    second += ";" + cell(b);
    blank += ";";
  }
  return header + "\r\n" + first + "\r\n" + blank + "\r\n" + second + "\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& catalogue = brug::fuzz::shipped_catalogue();
  auto mapping = brug::adapters::CsvMapping::parse(text, "fuzz-mapping.json", catalogue);
  if (!mapping) {
    require(mapping.message().rfind("fuzz-mapping.json:", 0) == 0,
            "mapping: error without FILE:LINE");
    return 0;
  }
  const std::string csv = csv_for(*mapping);
  auto rows = brug::adapters::parse_csv(csv, "fuzz.csv");
  if (!rows) return 0;  // a column name over the CSV limits
  auto mapped = brug::adapters::map_rows(*rows, *mapping, catalogue, "fuzz.csv");
  if (!mapped) {
    require(mapped.message().rfind("fuzz.csv:", 0) == 0, "map: error without FILE:LINE");
    return 0;
  }
  require(mapped->rows.size() + mapped->rejected == mapped->total, "map: rows do not add up");
  for (const auto& row : mapped->rows) {
    require(row.source_ref.rfind(mapping->source_ref_prefix, 0) == 0, "map: prefix lost");
    require(row.record.is_object(), "map: record is not an object");
  }
  return 0;
}
