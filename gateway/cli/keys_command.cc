#include "gateway/cli/keys_command.h"

#include <string>

#include "crypto/bsn.h"
#include "crypto/env.h"
#include "crypto/envelope.h"
#include "crypto/keydir.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/audit/audit_log.h"

namespace brug::gateway {

const char* const kKeysUsage =
    "brug keys rotate --config FILE [--batch N]   (every gateway on the key directory stopped)";

namespace {

constexpr std::int64_t kDefaultBatch = 1000;
constexpr std::int64_t kMaxBatch = 100000;

std::string kek_file(const std::string& dir, std::uint32_t version) {
  return dir + "/" + crypto::KeyDir::kKekPrefix + std::to_string(version);
}

// One batch in one transaction: re-wraps up to `batch` keys after `after` under the ring's
// current version. Assigns its outputs afresh on every run (the backend may retry it).
Status rewrap_batch(adapters::Database& db, const crypto::KekRing& ring, const std::string& after,
                    std::int64_t batch, std::string& last, std::int64_t& seen,
                    std::int64_t& changed) {
  return db.write([&](adapters::Stores& s) -> Status {
    last = after;
    seen = 0;
    changed = 0;
    auto rows = s.exchange.keys_not_under(ring.current_version(), after, batch);
    if (!rows) return rows.status();
    for (const auto& row : *rows) {
      auto index = crypto::ParticipantIndex::from_hex(row.participant);
      if (!index) return Status::error(Code::kCorrupt, "a stored participant index is malformed");
      auto wrapped = crypto::WrappedDataKey::from_bytes(row.wrapped_key);
      if (!wrapped) return Status::error(Code::kCorrupt, "a stored wrapped data key is malformed");
      auto fresh = crypto::rewrap_data_key(ring, *index, *wrapped);
      if (!fresh) {
        // Never the key or the participant: which version did not open it is enough.
        return Status::error(Code::kCorrupt,
                             "a data key wrapped under KEK version " +
                                 std::to_string(wrapped->kek_version()) +
                                 " does not open with that KEK: the key directory does not "
                                 "match the database");
      }
      const auto& bytes = fresh->bytes();
      auto replaced = s.exchange.replace_wrapped_key(row.participant, row.wrapped_key,
                                                     {bytes.begin(), bytes.end()});
      if (!replaced) return replaced.status();
      if (*replaced) ++changed;
      ++seen;
      last = row.participant;
    }
    return Status::ok();
  });
}

}  // namespace

Result<RotationReport> rotate_keks(adapters::Database& db, const std::string& key_dir,
                                   std::int64_t batch) {
  if (batch < 1 || batch > kMaxBatch) {
    return Status::error(Code::kInvalidArgument,
                         "the batch size must be 1 to " + std::to_string(kMaxBatch));
  }
  auto lock = crypto::KeyDirLock::acquire(key_dir, crypto::KeyDirLock::Mode::kExclusive);
  if (!lock) return lock.status();
  auto keys = crypto::KeyDir::load(key_dir);
  if (!keys) return keys.status();
  BRUG_RETURN_IF_ERROR(check_kek_versions(db, keys->keks(), key_dir));
  {
    // The operator's act is in the log before it changes anything: a log that cannot take it
    // stops the rotation.
    AuditLog log(db, keys->signing_key(), {}, crypto::Env::system());
    AuditEvent e;
    e.request_id = "cli";
    e.action = "keys.rotate";
    e.decision = "permit";
    if (Status s = log.append({e}); !s.is_ok()) {
      return Status::error(s.code(), "the rotation could not be audited: " + s.message());
    }
  }

  RotationReport report;
  // One version in the directory: a rotation starts with a new one. More than one: an earlier
  // rotation did not finish (or old versions were kept); finish it, to the newest version.
  if (keys->keks().versions().size() > 1) {
    report.resumed = true;
  } else {
    auto added = crypto::KeyDir::add_kek_version(key_dir);
    if (!added) return added.status();
    keys = crypto::KeyDir::load(key_dir);
    if (!keys) return keys.status();
  }
  const crypto::KekRing& ring = keys->keks();
  report.version = ring.current_version();

  std::string after;
  for (;;) {
    std::string last;
    std::int64_t seen = 0;
    std::int64_t changed = 0;
    if (Status s = rewrap_batch(db, ring, after, batch, last, seen, changed); !s.is_ok()) {
      return Status::error(s.code(),
                           s.message() + " (after re-wrapping " + std::to_string(report.rewrapped) +
                               " data keys; every record still opens with the key directory, which "
                               "keeps every version: run brug keys rotate again to finish)");
    }
    report.rewrapped += changed;
    if (seen > 0) ++report.batches;
    if (seen < batch) break;
    after = last;
  }

  // The old files go only when the database says no wrapped key names them any more.
  auto in_use = kek_versions_in_use(db);
  if (!in_use) return in_use.status();
  for (const auto& [version, count] : *in_use) {
    if (version != report.version && count > 0) {
      return Status::error(Code::kFailedPrecondition,
                           std::to_string(count) + " data keys are still wrapped under " +
                               kek_file(key_dir, version) +
                               " (written meanwhile by a gateway that still serves?); it is kept: "
                               "stop every gateway on this database and run brug keys rotate "
                               "again");
    }
  }
  for (std::uint32_t version : ring.versions()) {
    if (version == report.version) continue;
    BRUG_RETURN_IF_ERROR(crypto::KeyDir::remove_kek_version(key_dir, version));
    report.removed.push_back(version);
  }
  return report;
}

int run_keys(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty() || argv[0] != "rotate") {
    err << "brug: keys needs rotate\nusage: " << kKeysUsage << "\n";
    return 2;
  }
  auto args = parse_args({argv.begin() + 1, argv.end()}, {"config", "batch"}, {});
  if (!args || !args->options.contains("config") || !args->positional.empty()) {
    err << "brug: " << (args ? "keys rotate needs --config FILE" : args.message())
        << "\nusage: " << kKeysUsage << "\n";
    return 2;
  }
  std::int64_t batch = kDefaultBatch;
  if (args->options.contains("batch")) {
    try {
      std::size_t used = 0;
      batch = std::stoll(args->get("batch"), &used);
      if (used != args->get("batch").size() || batch < 1 || batch > kMaxBatch) {
        throw std::out_of_range("batch");
      }
    } catch (const std::exception&) {
      err << "brug: --batch must be a number from 1 to " << kMaxBatch << "\nusage: " << kKeysUsage
          << "\n";
      return 2;
    }
  }
  auto config = load_config(args->get("config"));
  if (!config) {
    err << "brug: " << config.message() << "\n";
    return 1;
  }
  auto db = open_database(*config);
  if (!db) {
    err << "brug: " << db.message() << "\n";
    return 1;
  }
  auto report = rotate_keks(**db, config->key_dir, batch);
  if (!report) {
    err << "brug: " << report.message() << "\n";
    return 1;
  }
  out << (report->resumed ? "finished the rotation to " : "rotated to ") << "KEK version "
      << report->version << ": re-wrapped " << report->rewrapped << " data keys in "
      << report->batches << " transactions";
  for (std::uint32_t v : report->removed) out << "; removed " << kek_file(config->key_dir, v);
  out << "\nback up the key directory now (brug backup --keys-out DIR): database backups taken "
         "before this rotation open only with the key-directory backup of their time\n";
  return 0;
}

}  // namespace brug::gateway
