// The `brug` command: one binary, one subcommand per job. Exit codes: 0 success, 1 the work
// failed (the message says why, naming the file), 2 the command line was wrong.
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>

#include "adapters/stores.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/cli/audit_command.h"
#include "gateway/cli/backup.h"
#include "gateway/cli/consent_command.h"
#include "gateway/cli/demo.h"
#include "gateway/cli/import_command.h"
#include "gateway/cli/init.h"
#include "gateway/cli/keys_command.h"
#include "gateway/cli/report_command.h"
#include "gateway/cli/serve.h"
#include "gateway/identity/registry.h"
#include "gateway/portal/portal_command.h"
#include "policies/check.h"
#include "policies/policy_set.h"

namespace brug::gateway {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Command {
  const char* summary;
  const char* usage;
  std::function<int(const std::vector<std::string>&)> run;
};

int usage_error(const std::string& message, const char* usage) {
  std::cerr << "brug: " << message << "\nusage: " << usage << "\n";
  return kUsage;
}

int failed(const Status& s) {
  std::cerr << "brug: " << s.message() << "\n";
  return kFailed;
}

int cmd_init(const std::vector<std::string>& argv, const char* usage) {
  auto args = parse_args(argv, {"host", "port", "postgresql"}, {});
  if (!args) return usage_error(args.message(), usage);
  if (args->positional.size() != 1) {
    return usage_error(args->positional.empty()
                           ? "init needs a folder"
                           : "init takes one folder, not also '" + args->positional.back() + "'",
                       usage);
  }
  InitOptions o{.dir = args->positional[0]};
  o.host = args->get("host", o.host);
  if (args->options.contains("port")) {
    try {
      const int port = std::stoi(args->get("port"));
      if (port < 1 || port > 65535) throw std::out_of_range("port");
      o.port = static_cast<std::uint16_t>(port);
    } catch (const std::exception&) {
      return usage_error("--port must be a number from 1 to 65535", usage);
    }
  }
  if (args->options.contains("postgresql")) {
    o.postgresql_url = args->get("postgresql");
    // The message names the option, never the URL (it might hold a password).
    if (Status s = adapters::check_postgres_url(o.postgresql_url); !s.is_ok()) {
      return usage_error("--postgresql " + s.message(), usage);
    }
  }
  Status s = init_dev_setup(o, std::cout);
  return s.is_ok() ? kOk : failed(s);
}

// ORG is an organisation id of the registry (with --config) or a role, optionally "role:org".
std::optional<Party> party_of(const std::string& text, const OrgRegistry* orgs) {
  if (orgs != nullptr) {
    if (const Organisation* o = orgs->find(text)) return Party{o->role, o->id};
  }
  return parse_party(text);
}

constexpr const char* kPolicyUsage =
    "brug policy check DIR\n"
    "       brug policy explain --from ORG --to ORG --record referral|outcome --purpose P\n"
    "                           [--config FILE | --dir POLICY_DIR]";

int cmd_policy(const std::vector<std::string>& argv) {
  if (argv.empty()) return usage_error("policy needs check or explain", kPolicyUsage);
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "check") {
    auto args = parse_args(rest, {}, {});
    if (!args) return usage_error(args.message(), kPolicyUsage);
    if (args->positional.size() != 1) return usage_error("check takes one folder", kPolicyUsage);
    return check_policy_dir(args->positional[0], std::cout) == 0 ? kOk : kFailed;
  }
  if (argv[0] != "explain") {
    return usage_error("unknown policy command '" + argv[0] + "'", kPolicyUsage);
  }
  auto args = parse_args(rest, {"from", "to", "record", "purpose", "config", "dir"}, {});
  if (!args) return usage_error(args.message(), kPolicyUsage);
  for (const char* required : {"from", "to", "record", "purpose"}) {
    if (!args->options.contains(required)) {
      return usage_error(std::string("explain needs --") + required, kPolicyUsage);
    }
  }
  std::string dir = args->get("dir", std::string(BRUG_POLICY_SOURCE_DIR) + "/default");
  std::string catalogue_file = default_catalogue_path(dir).string();
  std::optional<OrgRegistry> orgs;
  if (args->options.contains("config")) {
    auto config = load_config(args->get("config"));
    if (!config) return failed(config.status());
    auto reg = OrgRegistry::load(config->registry_file);
    if (!reg) return failed(reg.status());
    orgs = std::move(reg).value();
    dir = config->policy_dir;
    catalogue_file = config->catalogue_file;
  }
  const auto from = party_of(args->get("from"), orgs ? &*orgs : nullptr);
  const auto to = party_of(args->get("to"), orgs ? &*orgs : nullptr);
  const auto record = parse_record_type(args->get("record"));
  const auto purpose = parse_purpose(args->get("purpose"));
  if (!from) {
    return usage_error("--from: '" + args->get("from") + "' is not an organisation id or a role",
                       kPolicyUsage);
  }
  if (!to) {
    return usage_error("--to: '" + args->get("to") + "' is not an organisation id or a role",
                       kPolicyUsage);
  }
  if (!record) {
    return usage_error("--record: '" + args->get("record") + "' is not referral or outcome",
                       kPolicyUsage);
  }
  if (!purpose) {
    return usage_error("--purpose: unknown purpose '" + args->get("purpose") + "'", kPolicyUsage);
  }
  auto catalogue = Catalogue::load(catalogue_file);
  if (!catalogue) return failed(catalogue.status());
  auto set = PolicySet::load(dir, *catalogue);
  if (!set) return failed(set.status());
  return explain_flow(*set, *from, *to, *record, *purpose, std::cout) == 0 ? kOk : kFailed;
}

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> kCommands = {
      {"import",
       {"import referrals from a CSV export, through the gateway over HTTPS", kImportUsage,
        [](const auto& a) { return run_import(a, std::cout, std::cerr); }}},
      {"audit",
       {"export and verify the audit log offline; print the checkpoint key", kAuditUsage,
        [](const auto& a) { return run_audit(a, std::cout, std::cerr); }}},
      {"consent",
       {"record a consent given as a FHIR R4 Consent resource, through the gateway", kConsentUsage,
        [](const auto& a) { return run_consent(a, std::cout, std::cerr); }}},
      {"backup",
       {"copy the database online (or, apart, the key directory)", kBackupUsage,
        [](const auto& a) { return run_backup(a, std::cout, std::cerr); }}},
      {"restore",
       {"restore a database backup (and keys) into a stopped gateway's paths", kRestoreUsage,
        [](const auto& a) { return run_restore(a, std::cout, std::cerr); }}},
      {"demo",
       {"run the exchange scenario against a running development gateway",
        "brug demo --config FILE",
        [](const auto& a) {
          auto args = parse_args(a, {"config"}, {});
          if (!args) return usage_error(args.message(), "brug demo --config FILE");
          if (!args->options.contains("config")) {
            return usage_error("demo needs --config FILE", "brug demo --config FILE");
          }
          return run_demo(args->get("config"), std::cout) == 0 ? kOk : kFailed;
        }}},
      {"feed",
       {"pull the organisation's feed into its portal's local copy (and a CSV)", portal::kFeedUsage,
        [](const auto& a) { return portal::run_feed(a, std::cout, std::cerr); }}},
      {"outcomes",
       {"push outcomes from a CSV keyed by the portal's local references", portal::kOutcomesUsage,
        [](const auto& a) { return portal::run_outcomes(a, std::cout, std::cerr); }}},
      {"portal",
       {"the organisation's local web app (coordinator, consulent, FG)", portal::kPortalUsage,
        [](const auto& a) { return portal::run_portal(a, std::cout, std::cerr); }}},
      {"init",
       {"create a local development setup (PKI, keys, registry, config)",
        "brug init DIR [--host HOST] [--port PORT] [--postgresql URL]",
        [](const auto& a) {
          return cmd_init(a, "brug init DIR [--host HOST] [--port PORT] [--postgresql URL]");
        }}},
      {"keys",
       {"rotate the key-encryption key: re-wrap every data key (gateway stopped)", kKeysUsage,
        [](const auto& a) { return run_keys(a, std::cout, std::cerr); }}},
      {"policy",
       {"check policy files, or explain which fields a flow discloses", kPolicyUsage,
        [](const auto& a) { return cmd_policy(a); }}},
      {"report",
       {"aggregate outcomes with small cells suppressed (fetched over HTTPS)", kReportUsage,
        [](const auto& a) { return run_report(a, std::cout, std::cerr); }}},
      {"serve",
       {"run the HTTPS gateway until SIGTERM or SIGINT", "brug serve --config FILE",
        [](const auto& a) { return serve_command(a, "brug serve --config FILE"); }}},
  };
  return kCommands;
}

// Edit distance (insertions, deletions, substitutions), for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The command nearest to a mistyped one: a command it begins (`ser` -> `serve`) or the one
// fewest edits away, if at most two edits or a third of the word; empty when none is close.
std::string nearest_command(const std::string& typed) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, typed.size() / 3) + 1;
  for (const auto& [name, c] : commands()) {
    if (typed.size() >= 2 && name.rfind(typed, 0) == 0) return name;
    const std::size_t d = edit_distance(typed, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

void print_help(std::ostream& out) {
  out << "brug " << BRUG_VERSION
      << ": a privacy-preserving data exchange gateway\n\nusage: brug COMMAND [OPTIONS]\n"
         "       brug COMMAND --help\n       brug --version\n\ncommands:\n";
  for (const auto& [name, c] : commands()) {
    out << "  " << name << std::string(10 - std::min<std::size_t>(name.size(), 9), ' ') << c.summary
        << "\n";
  }
  out << "\nexit codes: 0 success, 1 failure, 2 wrong usage\n";
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help(std::cerr);
    return kUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(std::cout);
    return kOk;
  }
  if (first == "--version") {
    std::cout << "brug " << BRUG_VERSION << "\n";
    return kOk;
  }
  auto it = commands().find(first);
  if (it == commands().end()) {
    std::cerr << "brug: unknown command '" << first << "'";
    if (const std::string near = nearest_command(first); !near.empty()) {
      std::cerr << "; did you mean `" << near << "`?";
    }
    std::cerr << "\n(brug --help lists the commands)\n";
    return kUsage;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      std::cout << "usage: " << it->second.usage << "\n" << it->second.summary << "\n";
      return kOk;
    }
  }
  return it->second.run(rest);
}

}  // namespace brug::gateway

int main(int argc, char** argv) { return brug::gateway::run(argc, argv); }
