// A parser for the semicolon-separated exports of Dutch spreadsheet and case-management systems
// (RFC 4180 with ';' as the separator; docs/CSV.md has the exact rules). Pure: text in, rows
// out, no I/O. Hostile input is bounded by CsvLimits; every error names the physical line and
// never quotes the text, which is personal data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace brug::adapters {

struct CsvLimits {
  std::size_t max_field_bytes = 64 * 1024;  // one field, after unquoting
  std::size_t max_columns = 256;            // fields in one row
  std::size_t max_rows = 1'000'000;         // rows in the file, the header included
};

struct CsvRow {
  int line = 0;  // 1-based physical line on which the row starts
  std::vector<std::string> fields;
};

// Splits `text` into rows. A UTF-8 byte order mark is dropped; CRLF, LF and a lone CR end a
// line; a field that starts with '"' is quoted and may hold ';', line breaks (returned as "\n")
// and '""' for one quote. Lines that are entirely empty are skipped. Errors (kInvalidArgument)
// read "NAME:LINE: problem": an unterminated quote (naming the line it opened on), text after
// a closing quote, a NUL byte, invalid UTF-8, or a limit exceeded.
Result<std::vector<CsvRow>> parse_csv(std::string_view text, std::string_view name,
                                      const CsvLimits& limits = {});

}  // namespace brug::adapters
