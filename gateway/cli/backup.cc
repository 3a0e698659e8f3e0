#include "gateway/cli/backup.h"

#include <filesystem>

#include "adapters/stores.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"

namespace brug::gateway {

const char* const kBackupUsage =
    "brug backup --config FILE --out DIR        (the database, online)\n"
    "       brug backup --config FILE --keys-out DIR   (the key directory, kept apart)";
const char* const kRestoreUsage =
    "brug restore --config FILE --from DIR [--keys-from DIR]   (the gateway stopped)";

namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseFile = "brug.db";

int fail(std::ostream& err, const std::string& why) {
  err << "brug: " << why << "\n";
  return 1;
}

// Copies the files of `from` into the new folder `to`, owner-only like the key directory.
Status copy_keys(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::exists(to)) return Status::error(Code::kAlreadyExists, to.string() + ": exists already");
  fs::create_directories(to, ec);
  if (ec) return Status::error(Code::kIo, to.string() + ": " + ec.message());
  fs::permissions(to, fs::perms::owner_all, ec);
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    if (!entry.is_regular_file()) continue;
    const fs::path target = to / entry.path().filename();
    fs::copy_file(entry.path(), target, ec);
    if (ec) return Status::error(Code::kIo, target.string() + ": " + ec.message());
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write, ec);
  }
  if (ec) return Status::error(Code::kIo, from.string() + ": " + ec.message());
  return Status::ok();
}

}  // namespace

int run_backup(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto args = parse_args(argv, {"config", "out", "keys-out"}, {});
  const bool db = args && args->options.contains("out");
  const bool keys = args && args->options.contains("keys-out");
  if (!args || !args->options.contains("config") || db == keys) {
    err << "brug: backup needs --config FILE and one of --out DIR or --keys-out DIR\nusage: "
        << kBackupUsage << "\n";
    return 2;
  }
  auto config = load_config(args->get("config"));
  if (!config) return fail(err, config.message());
  if (keys) {
    if (auto s = copy_keys(config->key_dir, args->get("keys-out")); !s.is_ok()) {
      return fail(err, s.message());
    }
    out << "copied the key directory to " << args->get("keys-out")
        << ": keep it apart from the database backups (with both, every record opens)\n";
    return 0;
  }
  const fs::path dir = args->get("out");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (auto s = adapters::backup_sqlite(config->sqlite_path, (dir / kDatabaseFile).string());
      !s.is_ok()) {
    return fail(err, s.message());
  }
  out << "copied the database to " << (dir / kDatabaseFile).string()
      << " (consistent, online); the keys are not in it: brug backup --keys-out DIR\n";
  return 0;
}

int run_restore(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto args = parse_args(argv, {"config", "from", "keys-from"}, {});
  if (!args || !args->options.contains("config") || !args->options.contains("from")) {
    err << "brug: restore needs --config FILE --from DIR\nusage: " << kRestoreUsage << "\n";
    return 2;
  }
  auto config = load_config(args->get("config"));
  if (!config) return fail(err, config.message());
  const fs::path source = fs::path(args->get("from")) / kDatabaseFile;
  if (!fs::exists(source)) return fail(err, source.string() + ": no backup there");
  // Never over a live database: the operator moves the old one away (with its -wal file).
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    if (fs::exists(config->sqlite_path + suffix)) {
      return fail(err,
                  config->sqlite_path + suffix + ": exists; stop the gateway and move it away");
    }
  }
  if (args->options.contains("keys-from")) {
    if (auto s = copy_keys(args->get("keys-from"), config->key_dir); !s.is_ok()) {
      return fail(err, s.message());
    }
  }
  fs::create_directories(fs::path(config->sqlite_path).parent_path());
  if (auto s = adapters::backup_sqlite(source.string(), config->sqlite_path); !s.is_ok()) {
    return fail(err, s.message());
  }
  out << "restored " << config->sqlite_path << "; check it with brug audit export and verify\n";
  return 0;
}

}  // namespace brug::gateway
