// `brug report outcomes`: the gemeente's aggregate outcome table from the command line, fetched
// over HTTPS like any other client (so the request is audited), printed as a table or CSV.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace brug::gateway {

extern const char* const kReportUsage;

int run_report(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// Prints a /v1/reports/outcomes answer; suppressed values show as "x" (CBS convention).
void print_report(const nlohmann::json& report, bool csv, std::ostream& out);

}  // namespace brug::gateway
