#include "gateway/cli/report_command.h"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/http/client.h"

namespace brug::gateway {

const char* const kReportUsage =
    "brug report outcomes --config FILE --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "                            [--by project,status] [--min-cell N] [--as ORG] [--csv]";

namespace {

std::string cell(const nlohmann::json& v) {
  return v.is_null() ? "x" : std::to_string(v.get<std::int64_t>());
}

// Percent-encodes a query value (dates and dimension names need little, but be exact).
std::string encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ',') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

void print_report(const nlohmann::json& r, bool csv, std::ostream& out) {
  const auto& rows = r["rows"];
  const auto& cols = r["columns"];
  if (csv) {
    out << "";
    for (const auto& c : cols) out << ";" << c.get<std::string>();
    out << ";totaal\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out << rows[i].get<std::string>();
      for (const auto& v : r["cells"][i]) out << ";" << cell(v);
      out << ";" << cell(r["row_totals"][i]) << "\n";
    }
    out << "totaal";
    for (const auto& v : r["column_totals"]) out << ";" << cell(v);
    out << ";" << cell(r["total"]) << "\n";
    return;
  }
  std::size_t first = 6;
  for (const auto& row : rows) first = std::max(first, row.get<std::string>().size());
  std::vector<std::size_t> width;
  for (const auto& c : cols) width.push_back(std::max<std::size_t>(5, c.get<std::string>().size()));
  out << "outcomes " << r["period"]["from"].get<std::string>() << " .. "
      << r["period"]["to"].get<std::string>() << " (" << r["unit"].get<std::string>() << ")\n"
      << std::left << std::setw(static_cast<int>(first)) << "" << std::right;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    out << "  " << std::setw(static_cast<int>(width[c])) << cols[c].get<std::string>();
  }
  out << "  " << std::setw(6) << "totaal"
      << "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out << std::left << std::setw(static_cast<int>(first)) << rows[i].get<std::string>()
        << std::right;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      out << "  " << std::setw(static_cast<int>(width[c])) << cell(r["cells"][i][c]);
    }
    out << "  " << std::setw(6) << cell(r["row_totals"][i]) << "\n";
  }
  out << std::left << std::setw(static_cast<int>(first)) << "totaal" << std::right;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    out << "  " << std::setw(static_cast<int>(width[c])) << cell(r["column_totals"][c]);
  }
  out << "  " << std::setw(6) << cell(r["total"]) << "\n";
  // The legend under the table, as CBS prints its "verklaring van tekens".
  const auto min_cell = std::to_string(r["min_cell"].get<std::int64_t>());
  out << "x  geheim: withheld ("
      << (r.contains("perturbation") ? "people plus noise under " + min_cell
                                     : "under " + min_cell + " people, or a value that reveals one")
      << ")\n";
  if (r.contains("perturbation")) {
    out << "every number is perturbed (cell key: noise at most "
        << r["perturbation"]["max_noise"].get<std::int64_t>() << ", variance "
        << r["perturbation"]["variance"].get<double>()
        << "); totals are perturbed on their own and add up only approximately\n";
  }
}

int run_report(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& why) {
    err << "brug: " << why << "\nusage: " << kReportUsage << "\n";
    return 2;
  };
  if (argv.empty()) return usage("report needs: outcomes");
  if (argv[0] != "outcomes") return usage("unknown report '" + argv[0] + "'; there is: outcomes");
  auto args = parse_args({argv.begin() + 1, argv.end()},
                         {"config", "from", "to", "by", "min-cell", "as"}, {"csv"});
  if (!args) return usage(args.message());
  for (const char* required : {"config", "from", "to"}) {
    if (!args->options.contains(required)) return usage(std::string("needs --") + required);
  }
  auto config = load_config(args->get("config"));
  if (!config) {
    err << "brug: " << config.message() << "\n";
    return 1;
  }
  std::string uri = "/v1/reports/outcomes?from=" + encode(args->get("from")) +
                    "&to=" + encode(args->get("to")) +
                    "&by=" + encode(args->get("by", "project,status"));
  if (args->options.contains("min-cell")) uri += "&min_cell=" + encode(args->get("min-cell"));
  GatewayClient client(dev_identity(*config, args->get("as", "gemeente-oude-ijsselstreek")));
  auto report = client.json_call("GET", uri);
  if (!report) {
    err << "brug: " << report.message() << "\n";
    return 1;
  }
  print_report(*report, args->has("csv"), out);
  return 0;
}

}  // namespace brug::gateway
