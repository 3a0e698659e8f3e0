#include "gateway/cli/import_command.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/formats/csv.h"
#include "adapters/formats/csv_mapping.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/http/client.h"
#include "gateway/identity/registry.h"
#include "policies/catalogue.h"

namespace brug::gateway {

const char* const kImportUsage =
    "brug import referrals --csv FILE --to ORG --purpose P --config FILE\n"
    "                          [--mapping FILE] [--as ORG | --cert FILE --key FILE] [--ca FILE]\n"
    "                          [--url https://HOST:PORT] [--batch N] [--dry-run]";

namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::uintmax_t kMaxCsvBytes = 256u << 20;
constexpr int kDefaultBatch = 500;

struct Counts {
  std::size_t imported = 0, duplicates = 0, rejected = 0, not_sent = 0, total = 0;
};

void print_summary(const Counts& c, std::ostream& out) {
  out << "imported " << c.imported << ", duplicates " << c.duplicates << ", rejected "
      << c.rejected;
  if (c.not_sent > 0) out << ", not sent " << c.not_sent;
  out << " (of " << c.total << " rows)\n";
}

Result<std::string> read_csv_file(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::error(Code::kIo, path + ": cannot read: " + ec.message());
  if (size > kMaxCsvBytes) {
    return Status::error(Code::kInvalidArgument, path + ": larger than 256 MiB; split the export");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in) return Status::error(Code::kIo, path + ": cannot read");
  return s.str();
}

using Target = ClientIdentity;

// One POST of one batch; the parsed answer or why there is none.
Result<nlohmann::json> post_batch(GatewayClient& client, const nlohmann::json& body) {
  auto answer = client.json_call("POST", "/v1/referrals", &body);
  if (!answer) return answer.status();
  if (!answer->contains("results") || !(*answer)["results"].is_array()) {
    return Status::error(Code::kInternal, "the gateway's answer has no \"results\" list");
  }
  return answer;
}

int push(const adapters::MappedFile& file, const std::string& csv, const std::string& to,
         const std::string& purpose, const Target& target, int batch, Counts& counts,
         std::ostream& err) {
  int rc = kOk;
  try {
    GatewayClient client(target);
    for (std::size_t start = 0; start < file.rows.size(); start += batch) {
      const std::size_t end = std::min(file.rows.size(), start + batch);
      nlohmann::json items = nlohmann::json::array();
      std::map<std::string, int> line_of;
      for (std::size_t i = start; i < end; ++i) {
        const adapters::MappedRow& row = file.rows[i];
        line_of[row.source_ref] = row.line;
        items.push_back({{"source_ref", row.source_ref},
                         {"to", to},
                         {"purpose", purpose},
                         {"subject", {{"bsn", std::string(row.bsn.digits())}}},
                         {"record", row.record}});
      }
      auto answer = post_batch(client, nlohmann::json{{"items", std::move(items)}});
      if (!answer) {
        err << "brug: " << csv << ": rows from line " << file.rows[start].line
            << " on were not imported: " << answer.message() << "\n";
        counts.not_sent += file.rows.size() - start;
        return kFailed;
      }
      for (const nlohmann::json& r : (*answer)["results"]) {
        const std::string status = r.value("status", std::string());
        const std::string ref = r.value("source_ref", std::string());
        if (status == "accepted") {
          ++counts.imported;
        } else if (status == "duplicate") {
          ++counts.duplicates;
        } else {
          ++counts.rejected;
          rc = kFailed;
          std::string why = "rejected by the gateway";
          if (r.contains("problem") && r["problem"].is_object()) {
            why += ": " + r["problem"].value("detail", r["problem"].value("title", ""));
          }
          const auto it = line_of.find(ref);
          err << csv << ":" << (it == line_of.end() ? 0 : it->second) << ": record: " << why
              << "\n";
        }
      }
    }
  } catch (const Poco::Exception& e) {
    err << "brug: " << csv << ": " << e.displayText() << "\n";
    rc = kFailed;
  }
  return rc;
}

}  // namespace

int run_import(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  const auto usage = [&](const std::string& message) {
    err << "brug: " << message << "\nusage: " << kImportUsage << "\n";
    return kUsage;
  };
  auto args = parse_args(
      argv,
      {"csv", "to", "purpose", "mapping", "config", "url", "cert", "key", "ca", "as", "batch"},
      {"dry-run"});
  if (!args) return usage(args.message());
  if (args->positional != std::vector<std::string>{"referrals"}) {
    return usage(args->positional.empty()
                     ? "import needs a kind: referrals"
                     : "import knows one kind, referrals, not '" + args->positional[0] + "'");
  }
  for (const char* required : {"csv", "to", "purpose", "config"}) {
    if (!args->options.contains(required)) return usage(std::string("needs --") + required);
  }
  if (!parse_purpose(args->get("purpose")))
    return usage("--purpose: unknown purpose '" + args->get("purpose") + "'");
  int batch = kDefaultBatch;
  if (args->options.contains("batch")) {
    try {
      batch = std::stoi(args->get("batch"));
    } catch (const std::exception&) {
      batch = 0;
    }
    if (batch < 1 || batch > 10000) return usage("--batch must be a number from 1 to 10000");
  }
  const bool dry_run = args->has("dry-run");
  Target target;
  if (!dry_run) {
    if (args->options.contains("as") &&
        (args->options.contains("cert") || args->options.contains("key"))) {
      return usage("--as or --cert/--key, not both");
    }
    if (!args->options.contains("as") &&
        !(args->options.contains("cert") && args->options.contains("key"))) {
      return usage("needs --as ORG (a `brug init` setup) or --cert FILE --key FILE");
    }
  }

  const auto failed = [&](const std::string& message) {
    err << "brug: " << message << "\n";
    return kFailed;
  };
  auto config = load_config(args->get("config"));
  if (!config) return failed(config.message());
  // The organisations named on the command line are checked before the file is read.
  auto orgs = OrgRegistry::load(config->registry_file);
  if (!orgs) return failed(orgs.message());
  if (orgs->find(args->get("to")) == nullptr) {
    return usage("--to: '" + args->get("to") + "' is not an organisation in " +
                 config->registry_file);
  }
  if (args->options.contains("as")) {
    if (orgs->find(args->get("as")) == nullptr) {
      return usage("--as: '" + args->get("as") + "' is not an organisation in " +
                   config->registry_file);
    }
    const fs::path pki = fs::path(config->file).parent_path() / "pki";
    if (!fs::exists(pki / (args->get("as") + ".pem"))) {
      return usage("--as: no certificate " + (pki / (args->get("as") + ".pem")).string());
    }
  }
  auto catalogue = Catalogue::load(config->catalogue_file);
  if (!catalogue) return failed(catalogue.message());
  auto mapping =
      adapters::CsvMapping::load(args->get("mapping", BRUG_DEFAULT_CSV_MAPPING), *catalogue);
  if (!mapping) return failed(mapping.message());
  const std::string csv = args->get("csv");
  auto text = read_csv_file(csv);
  if (!text) return failed(text.message());
  auto rows = adapters::parse_csv(*text, csv);
  if (!rows) return failed(rows.message());
  auto mapped = adapters::map_rows(*rows, *mapping, *catalogue, csv);
  if (!mapped) return failed(mapped.message());
  for (const adapters::RowProblem& p : mapped->problems) err << p.to_string(csv) << "\n";

  Counts counts{.rejected = mapped->rejected, .total = mapped->total};
  if (dry_run) {
    out << "dry run: valid " << mapped->rows.size() << ", rejected " << mapped->rejected << " (of "
        << mapped->total << " rows); nothing was sent\n";
    return mapped->rejected == 0 ? kOk : kFailed;
  }

  const std::string dev_host =
      config->host == "0.0.0.0" || config->host == "::" ? "127.0.0.1" : config->host;
  const std::string url =
      args->get("url", "https://" + dev_host + ":" + std::to_string(config->port));
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "https" || uri.getHost().empty()) throw Poco::SyntaxException(url);
    target.host = uri.getHost();
    target.port = uri.getPort();
  } catch (const Poco::Exception&) {
    return usage("--url must be https://HOST:PORT");
  }
  if (args->options.contains("as")) {
    const fs::path pki = fs::path(config->file).parent_path() / "pki";
    target.cert_file = (pki / (args->get("as") + ".pem")).string();
    target.key_file = (pki / (args->get("as") + ".key")).string();
  } else {
    target.cert_file = args->get("cert");
    target.key_file = args->get("key");
  }
  target.ca_file = args->get("ca", config->tls_ca_file);
  for (const std::string& f : {target.cert_file, target.key_file, target.ca_file}) {
    if (!fs::exists(f)) return failed(f + ": no such file");
  }

  const int rc =
      push(*mapped, csv, args->get("to"), args->get("purpose"), target, batch, counts, err);
  print_summary(counts, out);
  return rc != kOk || counts.rejected > 0 ? kFailed : kOk;
}

}  // namespace brug::gateway
