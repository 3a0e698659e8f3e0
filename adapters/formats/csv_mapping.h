// How the columns of a CSV export become a referral: a mapping file (JSON, docs/CSV.md) names
// the source_ref column, the BSN column, and for each other column the catalogue field it
// fills, with value maps ("Bijstand" -> "bijstand"), date formats ("DD-MM-YYYY") and list
// separators. Mapping a row yields the referral or every problem of that row, each naming its
// line and field but never the value: values are personal data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/formats/csv.h"
#include "crypto/bsn.h"
#include "crypto/result.h"
#include "policies/catalogue.h"

namespace brug::adapters {

struct ColumnMapping {
  std::string column;  // the header as written in the mapping
  std::string field;   // a referral field of the catalogue
  // Cell text (compared ignoring ASCII case and surrounding spaces) -> the JSON value to send.
  std::vector<std::pair<std::string, nlohmann::json>> values;
  std::string date_format;      // date fields: DD, MM and YYYY with literal separators
  std::string separator = ",";  // list fields: between the items of one cell
};

struct CsvMapping {
  std::string file;  // where it was loaded from, for messages
  std::string description;
  std::string source_ref_column;
  std::string source_ref_prefix;  // put before every source_ref, e.g. "laborijn-"
  std::string bsn_column;
  std::vector<ColumnMapping> columns;

  // Loads and checks a mapping against the catalogue. The error lists every problem as
  // "FILE:LINE: problem", one a line: JSON syntax, unknown keys, a field the catalogue lacks,
  // a mapped value the field does not allow.
  static Result<CsvMapping> load(const std::filesystem::path& path, const Catalogue& catalogue);
  static Result<CsvMapping> parse(std::string_view text, std::string file,
                                  const Catalogue& catalogue);
};

// One problem of one row: "FILE:LINE: field: problem".
struct RowProblem {
  int line = 0;
  std::string field;  // a catalogue field, "bsn", "source_ref", or "row"
  std::string problem;

  std::string to_string(std::string_view file) const;
};

// A row ready to push: the item of POST /v1/referrals without `to` and `purpose`.
struct MappedRow {
  int line = 0;
  std::string source_ref;
  crypto::Bsn bsn;
  nlohmann::json record;  // catalogue fields only; valid against the catalogue
};

struct MappedFile {
  std::vector<MappedRow> rows;       // the good rows, in file order
  std::vector<RowProblem> problems;  // of the bad rows, by line
  std::size_t rejected = 0;          // bad rows
  std::size_t total = 0;             // data rows (not the header, not blank rows)
};

// Maps the parsed rows of a file (rows[0] is the header) row by row. Fails as a whole
// ("FILE:LINE: problem") only when the header does not fit the mapping: a mapped column
// missing, or a header naming two columns alike. Rows whose cells are all blank are skipped
// and not counted. A source_ref seen earlier in the same file is a problem of the later row.
Result<MappedFile> map_rows(const std::vector<CsvRow>& rows, const CsvMapping& mapping,
                            const Catalogue& catalogue, std::string_view file);

}  // namespace brug::adapters
