#include "gateway/portal/portal_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "adapters/formats/csv.h"
#include "gateway/app/args.h"
#include "gateway/app/stop_signals.h"
#include "gateway/http/client.h"
#include "gateway/portal/csv_export.h"
#include "gateway/portal/feed_sync.h"
#include "gateway/portal/labels.h"
#include "gateway/portal/local_store.h"
#include "gateway/portal/outcome_form.h"
#include "gateway/portal/portal_config.h"
#include "gateway/portal/portal_server.h"
#include "policies/catalogue.h"

namespace brug::portal {

const char* const kPortalUsage = "brug portal --config PORTAL.json";
const char* const kFeedUsage = "brug feed pull --config PORTAL.json [--csv FILE]";
const char* const kOutcomesUsage = "brug outcomes push --config PORTAL.json --csv FILE";

namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::uintmax_t kMaxCsvBytes = 64u << 20;
constexpr std::size_t kBatch = 500;

int usage(std::ostream& err, const std::string& why, const char* text) {
  err << "brug: " << why << "\nusage: " << text << "\n";
  return kUsage;
}

int failed(std::ostream& err, const std::string& why) {
  err << "brug: " << why << "\n";
  return kFailed;
}

// Writes `content` to `path` through a temporary file with mode 0600, then renames it, so a
// reader never sees half a file and nobody else can read it.
Status write_private(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(Code::kIo, path + ": cannot write");
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Status::error(Code::kIo, path + ": cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::error(Code::kIo, path + ": cannot write");
  }
  return Status::ok();
}

}  // namespace

int run_portal(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto args = gateway::parse_args(argv, {"config"}, {});
  if (!args) return usage(err, args.message(), kPortalUsage);
  if (!args->positional.empty()) {
    return usage(err, "portal takes no argument '" + args->positional[0] + "'", kPortalUsage);
  }
  if (!args->options.contains("config")) return usage(err, "portal needs --config", kPortalUsage);
  auto config = load_portal_config(args->get("config"));
  if (!config) return failed(err, config.message());

  gateway::StopSignals stop_signals;

  // The request log lives with the local copy, in the portal's private folder.
  std::error_code ec;
  if (!fs::exists(config->data_dir)) {
    fs::create_directories(config->data_dir, ec);
    if (ec || ::chmod(config->data_dir.c_str(), 0700) != 0) {
      return failed(err, config->data_dir + ": cannot create the portal's folder");
    }
  }
  const std::string log_file = (fs::path(config->data_dir) / "portal.log").string();
  const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  std::ofstream log(log_file, std::ios::app);
  auto portal = Portal::start(*config, log ? static_cast<std::ostream&>(log) : err);
  if (!portal) return failed(err, portal.message());
  out << "brug portal for " << config->organisation << " (" << to_string(config->role)
      << "), talking to https://" << config->gateway.host << ":" << config->gateway.port << "\n"
      << "Open this link in your browser (it works once; keep it to yourself):\n\n    "
      << (*portal)->login_url() << "\n\nStop with Ctrl-C.\n";
  out.flush();
  stop_signals.wait();
  (*portal)->stop();
  return kOk;
}

int run_feed(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty() || argv[0] != "pull") {
    return usage(err, argv.empty() ? "feed needs pull" : "unknown feed command '" + argv[0] + "'",
                 kFeedUsage);
  }
  auto args = gateway::parse_args({argv.begin() + 1, argv.end()}, {"config", "csv"}, {});
  if (!args) return usage(err, args.message(), kFeedUsage);
  if (!args->positional.empty()) {
    return usage(err, "feed pull takes no argument '" + args->positional[0] + "'", kFeedUsage);
  }
  if (!args->options.contains("config")) return usage(err, "feed pull needs --config", kFeedUsage);
  auto config = load_portal_config(args->get("config"));
  if (!config) return failed(err, config.message());
  if (config->role == Role::kAuditor) {
    return failed(err, args->get("config") + ": an auditor has no feed to pull");
  }
  auto store = LocalStore::open(portal_db_path(*config));
  if (!store) return failed(err, store.message());
  Result<ApplyCounts> counts = Status::error(Code::kInternal, "not run");
  try {
    gateway::GatewayClient client(config->gateway);
    counts = sync_feed(client, **store, config->role == Role::kProject);
  } catch (const std::exception& e) {
    // Poco's TLS context refuses an unreadable certificate or key when it is built.
    return failed(err,
                  config->gateway.cert_file + ": cannot use the certificate and key: " + e.what());
  }
  if (!counts) return failed(err, counts.message());
  for (const std::string& ref : counts->deleted_refs) {
    out << "deleted " << ref << ": gegevens verwijderd op verzoek (delete it from your CRM too)\n";
  }
  if (args->options.contains("csv")) {
    const Status s = write_private(args->get("csv"), to_csv(people_table((*store)->people())));
    if (!s.is_ok()) return failed(err, s.message());
  }
  out << "feed: " << counts->referrals << " referrals, " << counts->deletions
      << " deletion notices, " << counts->outcomes << " outcomes"
      << (args->options.contains("csv") ? "; " + args->get("csv") + " written" : "") << "\n";
  return kOk;
}

int run_outcomes(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty() || argv[0] != "push") {
    return usage(
        err, argv.empty() ? "outcomes needs push" : "unknown outcomes command '" + argv[0] + "'",
        kOutcomesUsage);
  }
  auto args = gateway::parse_args({argv.begin() + 1, argv.end()}, {"config", "csv"}, {});
  if (!args) return usage(err, args.message(), kOutcomesUsage);
  if (!args->positional.empty()) {
    return usage(err, "outcomes push takes no argument '" + args->positional[0] + "'",
                 kOutcomesUsage);
  }
  for (const char* required : {"config", "csv"}) {
    if (!args->options.contains(required)) {
      return usage(err, std::string("outcomes push needs --") + required, kOutcomesUsage);
    }
  }
  auto config = load_portal_config(args->get("config"));
  if (!config) return failed(err, config.message());
  if (config->role != Role::kProject) {
    return failed(err, args->get("config") + ": outcomes are pushed by a project's portal");
  }
  auto catalogue = Catalogue::load(config->catalogue_file);
  if (!catalogue) return failed(err, catalogue.message());
  const std::string csv = args->get("csv");
  std::error_code ec;
  const auto size = fs::file_size(csv, ec);
  if (ec) return failed(err, csv + ": cannot read: " + ec.message());
  if (size > kMaxCsvBytes) return failed(err, csv + ": larger than 64 MiB");
  std::ifstream in(csv, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto rows = adapters::parse_csv(text.str(), csv);
  if (!rows) return failed(err, rows.message());
  if (rows->empty()) return failed(err, csv + ": the file is empty (a header is needed)");

  // The columns by catalogue field, matched on the Dutch label or the field name.
  const std::vector<std::string> fields = {"status",        "date",     "uren_per_week",
                                           "reden_gestopt", "contract", "participatieladder"};
  std::map<std::string, std::size_t> column;
  const auto& header = (*rows)[0].fields;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (same_text(header[i], "Referentie") || same_text(header[i], "ref")) column["ref"] = i;
    for (const auto& f : fields) {
      if (same_text(header[i], f) || same_text(header[i], field_label(f))) {
        if (column.contains(f)) {
          return failed(err, csv + ":" + std::to_string((*rows)[0].line) + ": the column for " +
                                 field_label(f) + " appears twice");
        }
        column[f] = i;
      }
    }
  }
  for (const char* needed : {"ref", "status", "date"}) {
    if (!column.contains(needed)) {
      return failed(err, csv + ":" + std::to_string((*rows)[0].line) + ": needs a column " +
                             (std::string(needed) == "ref" ? "Referentie" : field_label(needed)));
    }
  }
  auto store = LocalStore::open(portal_db_path(*config));
  if (!store) return failed(err, store.message());

  std::vector<OutcomeToPush> todo;
  std::vector<int> lines;
  std::size_t total = 0, rejected = 0, pushed = 0;
  const auto cell = [&](const adapters::CsvRow& r, const std::string& key) -> std::string {
    const auto it = column.find(key);
    return it == column.end() || it->second >= r.fields.size() ? "" : r.fields[it->second];
  };
  for (std::size_t n = 1; n < rows->size(); ++n) {
    const adapters::CsvRow& r = (*rows)[n];
    std::map<std::string, std::string> inputs;
    for (const auto& f : fields) inputs[f] = cell(r, f);
    const std::string ref = cell(r, "ref");
    bool blank = ref.find_first_not_of(" \t") == std::string::npos;
    for (const auto& [k, v] : inputs)
      blank = blank && v.find_first_not_of(" \t") == std::string::npos;
    // Rows without a new outcome (e.g. the export sent back with some rows filled in) are
    // skipped, not counted.
    if (blank || (inputs["status"].find_first_not_of(" \t") == std::string::npos &&
                  inputs["date"].find_first_not_of(" \t") == std::string::npos)) {
      continue;
    }
    ++total;
    const std::string where = csv + ":" + std::to_string(r.line) + ": ";
    if (r.fields.size() > header.size()) {
      err << where << "more cells than the header has columns (an unquoted ';'?)\n";
      ++rejected;
      continue;
    }
    auto record = outcome_record(*catalogue, inputs);
    if (!record) {
      err << where << record.message() << "\n";
      ++rejected;
      continue;
    }
    std::string trimmed_ref = ref.substr(ref.find_first_not_of(" \t"));
    trimmed_ref = trimmed_ref.substr(0, trimmed_ref.find_last_not_of(" \t") + 1);
    todo.push_back({trimmed_ref, *record});
    lines.push_back(r.line);
  }
  int rc = kOk;
  try {
    gateway::GatewayClient client(config->gateway);
    for (std::size_t start = 0; start < todo.size(); start += kBatch) {
      const std::size_t end = std::min(todo.size(), start + kBatch);
      const std::vector<OutcomeToPush> batch(todo.begin() + static_cast<std::ptrdiff_t>(start),
                                             todo.begin() + static_cast<std::ptrdiff_t>(end));
      const auto results = push_outcomes(client, **store, batch);
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i]) {
          ++pushed;
        } else {
          ++rejected;
          err << csv << ":" << lines[start + i] << ": " << results[i].message() << "\n";
        }
      }
    }
  } catch (const std::exception& e) {
    err << "brug: " << e.what() << "\n";
    rc = kFailed;
  }
  out << "pushed " << pushed << ", rejected " << rejected << " (of " << total << " rows)\n";
  return rc != kOk || rejected > 0 ? kFailed : kOk;
}

}  // namespace brug::portal
