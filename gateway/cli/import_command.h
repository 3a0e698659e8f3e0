// `brug import referrals`: reads a CSV export, maps and validates it locally (adapters/csv*),
// and pushes the good rows to POST /v1/referrals over mutual TLS as the importing organisation,
// so that every row takes the one audited path. docs/CSV.md describes the command.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace brug::gateway {

extern const char* const kImportUsage;

// argv: the words after `brug import`. Problems of rows go to `err` as "FILE:LINE: field:
// problem", the summary to `out`. Returns 0 when every row was imported or a duplicate, 1 when
// a row was rejected or the import failed (good rows are still imported), 2 for usage errors.
int run_import(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::gateway
