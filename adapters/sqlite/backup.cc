#include <sqlite3.h>

#include <filesystem>

#include "adapters/stores.h"

namespace brug::adapters {

Status backup_sqlite(const std::string& from, const std::string& to) {
  if (std::filesystem::exists(to)) {
    return Status::error(Code::kAlreadyExists, to + ": exists already");
  }
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto fail = [&](sqlite3* db, const std::string& what) {
    Status s = Status::error(Code::kIo, what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(src);
    sqlite3_close(dst);
    return s;
  };
  if (sqlite3_open_v2(from.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    return fail(src, from);
  }
  sqlite3_busy_timeout(src, 5000);
  if (sqlite3_open_v2(to.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    return fail(dst, to);
  }
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (b == nullptr) return fail(dst, "backup");
  // All pages in one step: one read snapshot of the source, so the copy is consistent.
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(b, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return fail(dst, "backup");
  if (sqlite3_exec(dst, "PRAGMA integrity_check", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail(dst, "integrity check of the copy");
  }
  sqlite3_close(src);
  sqlite3_close(dst);
  return Status::ok();
}

}  // namespace brug::adapters
