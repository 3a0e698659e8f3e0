#include "gateway/cli/audit_command.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "adapters/stores.h"
#include "crypto/bsn.h"
#include "crypto/encoding.h"
#include "crypto/env.h"
#include "crypto/hash.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/logboek.h"
#include "gateway/audit/tlog.h"
#include "gateway/audit_api/audit_routes.h"
#include "gateway/audit_api/subject_report.h"
#include "gateway/cli/witness.h"
#include "gateway/http/client.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {

const char* const kAuditUsage =
    "brug audit pubkey --config FILE\n"
    "       brug audit export --config FILE --out DIR [--format brug|logboek]\n"
    "       brug audit verify DIR --pubkey HEX\n"
    "       brug audit fetch --config FILE [--as ORG] --out DIR\n"
    "       brug audit verify --tiles DIR --pubkey HEX|NAME+HASH+BASE64\n"
    "       brug audit verify --config FILE\n"
    "       brug audit subject-report --config FILE --bsn BSN [--format text|json|html]\n"
    "       brug audit witness-key --out FILE\n"
    "       brug audit witness --config FILE [--as ORG] --key FILE --name NAME --log-key HEX "
    "--state FILE";

namespace {

constexpr std::uint64_t kPage = 10000;

struct Opened {
  Config config;
  std::unique_ptr<crypto::KeyDir> keys;
  std::unique_ptr<adapters::Database> storage;
};

Result<Opened> open(const std::string& config_file) {
  auto config = load_config(config_file);
  if (!config) return config.status();
  auto keys = crypto::KeyDir::load(config->key_dir);
  if (!keys) return keys.status();
  Opened o{*config, std::make_unique<crypto::KeyDir>(std::move(keys).value()), nullptr};
  auto storage = open_database(*config);
  if (!storage) return storage.status();
  o.storage = std::move(storage).value();
  return o;
}

int export_log(const Args& args, std::ostream& out, std::ostream& err) {
  auto o = open(args.get("config"));
  if (!o) {
    err << "brug: " << o.message() << "\n";
    return 1;
  }
  const std::string format = args.get("format", "brug");
  if (format != "brug" && format != "logboek") {
    err << "brug: --format is brug or logboek\n";
    return 2;
  }
  const std::filesystem::path dir = args.get("out");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  AuditLog log(*o->storage, o->keys->signing_key(), {}, crypto::Env::system());
  // A checkpoint signed now covers every entry exported, so `verify` passes on an honest log
  // without the auditor first asking for one; entries appended meanwhile wait for the next.
  auto fresh = log.checkpoint(true);
  if (!fresh) {
    err << "brug: " << fresh.message() << "\n";
    return 1;
  }
  const std::uint64_t exported = *fresh ? (*fresh)->size : 0;
  if (*fresh) {
    auto root = crypto::fixed_from_hex<32>((*fresh)->root, "root");
    if (!root) {
      err << "brug: " << root.message() << "\n";
      return 1;
    }
    const std::string origin =
        o->config.audit_origin.empty() ? default_audit_origin(*o->keys) : o->config.audit_origin;
    const std::string body = checkpoint_body(origin, exported, *root);
    std::ofstream(dir / "checkpoint.note", std::ios::trunc)
        << body << "\n"
        << note_signature_line(body, origin, o->keys->signing_key());
  }
  std::ofstream entries(dir / (format == "brug" ? "entries.jsonl" : "logboek.jsonl"),
                        std::ios::trunc);
  std::set<std::string> mapped, unmapped;  // purposes seen, with and without an activity id
  for (std::uint64_t start = 0; start < exported; start += kPage) {
    auto page = log.entries(start, std::min(exported, start + kPage));
    if (!page) {
      err << "brug: " << page.message() << "\n";
      return 1;
    }
    for (const auto& leaf : *page) {
      if (format == "brug") {
        entries << leaf << "\n";
      } else {
        const auto e = nlohmann::json::parse(leaf);
        const std::string purpose = e.value("purpose", "");
        if (!purpose.empty()) {
          (o->config.processing_activities.contains(purpose) ? mapped : unmapped).insert(purpose);
        }
        entries << logboek_record(e, leaf, o->config.processing_activities).dump() << "\n";
      }
    }
  }
  auto checkpoints = log.checkpoints();
  if (!checkpoints) {
    err << "brug: " << checkpoints.message() << "\n";
    return 1;
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& c : *checkpoints) {
    list.push_back({{"size", c.size},
                    {"root", c.root},
                    {"time", c.time},
                    {"key_id", c.key_id},
                    {"signature", c.signature}});
  }
  std::ofstream(dir / "checkpoints.json", std::ios::trunc) << list.dump(1) << "\n";
  std::ofstream(dir / "pubkey.txt", std::ios::trunc)
      << o->keys->signing_key().verify_key().to_hex() << "\n";
  if (!entries) {
    err << "brug: " << dir.string() << ": cannot write the export\n";
    return 1;
  }
  out << "exported " << exported << " entries and " << checkpoints->size() << " checkpoints to "
      << dir.string() << " (" << format << "), the newest signed now over all " << exported
      << " entries (also as a C2SP note in checkpoint.note)\n";
  if (format == "logboek") {
    auto list = [](const std::set<std::string>& s) {
      std::string out;
      for (const auto& p : s) out += (out.empty() ? "" : ", ") + p;
      return out.empty() ? std::string("none") : out;
    };
    out << "dpl.core.processing_activity_id: the processing activity of "
           "logboek.processing_activities for "
        << list(mapped) << "; the purpose code (no activity configured) for " << list(unmapped)
        << "\n";
  }
  return 0;
}

// The C2SP checkpoint and every tile and entry bundle of its size, fetched over mutual TLS with
// the auditor's certificate into DIR as the URL paths lay them out (for verify --tiles).
int fetch_log(const Args& args, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& why) {
    err << "brug: " << why << "\n";
    return 1;
  };
  auto config = load_config(args.get("config"));
  if (!config) return fail(config.message());
  GatewayClient client(dev_identity(*config, args.get("as", "fg-oude-ijsselstreek")));
  const std::filesystem::path dir = args.get("out");
  auto save = [&](const std::string& path, const std::string& bytes) -> Status {
    const std::filesystem::path file = dir / path;
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f << bytes;
    if (!f) return Status::error(Code::kIo, file.string() + ": cannot write");
    return Status::ok();
  };
  auto get = [&](const std::string& path) -> Result<std::string> {
    auto reply = client.call("GET", "/v1/audit/log/" + path);
    if (!reply) return reply.status();
    if (reply->status != 200) {
      return Status::error(Code::kUnavailable, "GET /v1/audit/log/" + path + ": status " +
                                                   std::to_string(reply->status));
    }
    return reply->body;
  };
  auto checkpoint = get("checkpoint");
  if (!checkpoint) return fail(checkpoint.message());
  auto note = parse_note(*checkpoint);
  auto body = note ? parse_checkpoint_body(note->body) : Result<CheckpointBody>(note.status());
  if (!body) return fail("the checkpoint: " + body.message());
  if (auto s = save("checkpoint", *checkpoint); !s.is_ok()) return fail(s.message());
  std::uint64_t files = 1;
  for (unsigned level = 0; tile_count(body->size, level) > 0; ++level) {
    for (const bool entries : {false, true}) {
      if (entries && level > 0) continue;
      for (std::uint64_t k = 0; k < tile_count(body->size, level); ++k) {
        const std::string path = "tile/" + tile_path(tile_at(body->size, entries, level, k));
        auto bytes = get(path);
        if (!bytes) return fail(bytes.message());
        if (auto s = save(path, *bytes); !s.is_ok()) return fail(s.message());
        ++files;
      }
    }
  }
  out << "fetched the checkpoint of " << body->origin << " (size " << body->size << ") and "
      << files - 1 << " tiles into " << dir.string()
      << "; check them with brug audit verify --tiles " << dir.string() << " --pubkey HEX\n";
  return 0;
}

std::string html_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// The access report of one person, read from the live database; the look-up is audited like
// the API's.
int subject_report_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string format = args.get("format", "text");
  if (format != "text" && format != "json" && format != "html") {
    err << "brug: --format is text, json or html\n";
    return 2;
  }
  auto bsn = crypto::Bsn::parse(args.get("bsn"));
  if (!bsn) {
    err << "brug: --bsn is not a valid BSN (9 digits, elfproef)\n";
    return 2;
  }
  auto o = open(args.get("config"));
  if (!o) {
    err << "brug: " << o.message() << "\n";
    return 1;
  }
  auto orgs = OrgRegistry::load(o->config.registry_file);
  if (!orgs) {
    err << "brug: " << orgs.message() << "\n";
    return 1;
  }
  auto report =
      subject_report({*o->storage, *orgs, *o->keys}, *bsn, crypto::Env::system().now_rfc3339());
  if (!report) {
    err << "brug: " << report.message() << "\n";
    return 1;
  }
  AuditLog log(*o->storage, o->keys->signing_key(), {}, crypto::Env::system());
  AuditEvent e;
  e.request_id = "cli";
  e.action = "audit.subject-report";
  e.subject =
      crypto::audit_pseudonym(o->keys->audit_pseudonym_key(),
                              crypto::participant_index(o->keys->participant_index_key(), *bsn))
          .text();
  e.decision = "permit";
  if (Status logged = log.append({e}); !logged.is_ok()) {
    err << "brug: the look-up could not be audited: " << logged.message() << "\n";
    return 1;
  }
  if (format == "json") {
    out << report->dump(2) << "\n";
  } else if (format == "html") {
    out << "<!doctype html>\n<html lang=\"nl\"><meta charset=\"utf-8\">"
           "<title>Inzageverzoek</title>\n<pre>"
        << html_escaped(subject_report_text(*report)) << "</pre></html>\n";
  } else {
    out << subject_report_text(*report);
  }
  return 0;
}

}  // namespace

int run_audit(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& why) {
    err << "brug: " << why << "\nusage: " << kAuditUsage << "\n";
    return 2;
  };
  if (argv.empty()) {
    return usage(
        "audit needs pubkey, export, fetch, verify, subject-report, witness or witness-key");
  }
  if (argv[0] == "witness" || argv[0] == "witness-key") return run_witness(argv, out, err);
  auto args = parse_args({argv.begin() + 1, argv.end()},
                         {"config", "out", "format", "pubkey", "bsn", "tiles", "as"}, {});
  if (!args) return usage(args.message());
  if (argv[0] == "pubkey") {
    if (!args->options.contains("config")) return usage("pubkey needs --config FILE");
    auto config = load_config(args->get("config"));
    auto keys =
        config ? crypto::KeyDir::load(config->key_dir) : Result<crypto::KeyDir>(config.status());
    if (!keys) {
      err << "brug: " << keys.message() << "\n";
      return 1;
    }
    out << keys->signing_key().verify_key().to_hex() << "  key id "
        << keys->signing_key().key_id().text() << "\n";
    return 0;
  }
  if (argv[0] == "export") {
    if (!args->options.contains("config") || !args->options.contains("out")) {
      return usage("export needs --config FILE --out DIR");
    }
    return export_log(*args, out, err);
  }
  if (argv[0] == "fetch") {
    if (!args->options.contains("config") || !args->options.contains("out")) {
      return usage("fetch needs --config FILE --out DIR");
    }
    return fetch_log(*args, out, err);
  }
  if (argv[0] == "verify" && args->options.contains("tiles")) {
    if (!args->positional.empty() || !args->options.contains("pubkey")) {
      return usage("verify --tiles DIR needs --pubkey HEX (and no other folder)");
    }
    const Status s = verify_audit_tiles(args->get("tiles"), args->get("pubkey"));
    if (s.code() == Code::kInvalidArgument) return usage(s.message());
    if (!s.is_ok()) {
      err << "brug: audit log does NOT verify: " << s.message() << "\n";
      return 1;
    }
    out << "ok: the checkpoint is signed, every entry is in place and chained, every tile "
           "matches, and the tiles give the signed root\n";
    return 0;
  }
  if (argv[0] == "verify" && args->positional.empty() && args->options.contains("config")) {
    // The live database: leaves, chain, every stored node, every checkpoint.
    auto o = open(args->get("config"));
    if (!o) {
      err << "brug: " << o.message() << "\n";
      return 1;
    }
    const Status s = verify_audit_store(*o->storage, o->keys->signing_key().verify_key().to_hex());
    if (!s.is_ok()) {
      err << "brug: audit log does NOT verify: " << s.message() << "\n";
      return 1;
    }
    out << "ok: every entry and stored node is in place, every checkpoint is signed and "
           "consistent\n";
    return 0;
  }
  if (argv[0] == "verify") {
    if (args->positional.size() != 1 || !args->options.contains("pubkey")) {
      return usage("verify needs DIR and --pubkey HEX");
    }
    const Status s = verify_audit_export(args->positional[0], args->get("pubkey"));
    // A bad key or a folder without an export is a wrong command line, not a failed check.
    if (s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound)
      return usage(s.message());
    if (!s.is_ok()) {
      err << "brug: audit log does NOT verify: " << s.message() << "\n";
      return 1;
    }
    out << "ok: every entry is in place, every checkpoint is signed and consistent\n";
    return 0;
  }
  if (argv[0] == "subject-report") {
    if (!args->options.contains("config") || !args->options.contains("bsn")) {
      return usage("subject-report needs --config FILE --bsn BSN");
    }
    return subject_report_command(*args, out, err);
  }
  return usage("unknown audit command '" + argv[0] + "'");
}

}  // namespace brug::gateway
