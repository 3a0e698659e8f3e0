#include "gateway/portal/local_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace brug::portal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSchema = R"sql(
PRAGMA secure_delete = ON;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS people (
  ref TEXT PRIMARY KEY,
  pseudonym TEXT UNIQUE,
  origin TEXT,
  record TEXT,
  received_at TEXT NOT NULL,
  deleted_at TEXT,
  outcome_status TEXT,
  outcome_date TEXT
);
CREATE TABLE IF NOT EXISTS outcomes_received (
  cursor TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  origin TEXT NOT NULL,
  record TEXT NOT NULL,
  received_at TEXT NOT NULL
);
)sql";

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return s_ != nullptr ? sqlite3_step(s_) : SQLITE_ERROR; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
  }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

Person person_from(const Stmt& s) {
  Person p;
  p.ref = s.text(0);
  p.record = s.is_null(1) ? json() : json::parse(s.text(1), nullptr, false);
  p.from = s.text(2);
  p.received_at = s.text(3);
  p.deleted_at = s.text(4);
  p.outcome_status = s.text(5);
  p.outcome_date = s.text(6);
  return p;
}

constexpr const char* kPersonColumns =
    "SELECT ref, record, origin, received_at, deleted_at, outcome_status, outcome_date FROM "
    "people";

}  // namespace

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::unique_ptr<LocalStore>> LocalStore::open(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::exists(dir)) {
    fs::create_directories(dir, ec);
    if (ec || ::chmod(dir.c_str(), 0700) != 0) {
      return Status::error(Code::kIo, dir.string() + ": cannot create the portal's folder");
    }
  }
  // Create the file with its final mode before SQLite opens it; SQLite gives its journal the
  // database file's mode.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(Code::kIo, path + ": cannot open the portal's local copy");
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (!stat_ok || (st.st_mode & 077) != 0) {
    return Status::error(Code::kPermissionDenied,
                         path + ": others may read it; chmod 600 it (it holds personal data)");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return Status::error(Code::kIo, path + ": cannot open the portal's local copy");
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<LocalStore> store(new LocalStore(db));
  BRUG_RETURN_IF_ERROR(store->exec(kSchema));
  return store;
}

LocalStore::~LocalStore() { sqlite3_close(db_); }

Status LocalStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Status::error(Code::kIo, "portal.db: " + why);
  }
  return Status::ok();
}

std::string LocalStore::cursor() {
  auto c = meta("cursor");
  return c ? *c : "0";
}

std::optional<std::string> LocalStore::meta(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return s.text(0);
}

Status LocalStore::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = "
         "excluded.value");
  s.bind(1, key).bind(2, value);
  if (s.step() != SQLITE_DONE) return Status::error(Code::kIo, "portal.db: cannot write");
  return Status::ok();
}

Result<ApplyCounts> LocalStore::apply(const std::vector<FeedItem>& items,
                                      const std::string& next_cursor) {
  std::lock_guard lock(mu_);
  BRUG_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  ApplyCounts counts;
  const std::string now = utc_now();
  const auto fail = [&](const char* what) {
    (void)exec("ROLLBACK");
    return Status::error(Code::kIo, std::string("portal.db: cannot store ") + what);
  };
  for (const FeedItem& item : items) {
    if (item.kind == "referral") {
      // A person referred again (the same pseudonym) keeps their reference; the record is new.
      Stmt existing(db_, "SELECT ref FROM people WHERE pseudonym = ?");
      existing.bind(1, item.subject);
      if (existing.step() == SQLITE_ROW) {
        Stmt u(db_, "UPDATE people SET record = ?, origin = ? WHERE ref = ?");
        u.bind(1, item.record.dump()).bind(2, item.from).bind(3, existing.text(0));
        if (u.step() != SQLITE_DONE) return fail("a referral");
      } else {
        Stmt n(db_, "SELECT COUNT(*) FROM people");
        n.step();
        char ref[32];
        std::snprintf(ref, sizeof ref, "D%04lld", std::stoll(n.text(0)) + 1);
        Stmt ins(
            db_,
            "INSERT INTO people(ref, pseudonym, origin, record, received_at) VALUES(?,?,?,?,?)");
        ins.bind(1, ref).bind(2, item.subject).bind(3, item.from).bind(4, item.record.dump());
        ins.bind(5, now);
        if (ins.step() != SQLITE_DONE) return fail("a referral");
      }
      ++counts.referrals;
    } else if (item.kind == "deletion") {
      Stmt find(db_, "SELECT ref FROM people WHERE pseudonym = ?");
      find.bind(1, item.subject);
      if (find.step() == SQLITE_ROW) {
        const std::string ref = find.text(0);
        Stmt del(db_,
                 "UPDATE people SET pseudonym = NULL, origin = NULL, record = NULL, "
                 "outcome_status = NULL, outcome_date = NULL, deleted_at = ? WHERE ref = ?");
        del.bind(1, now.substr(0, 10)).bind(2, ref);
        if (del.step() != SQLITE_DONE) return fail("a deletion");
        counts.deleted_refs.push_back(ref);
      }
      Stmt out(db_, "DELETE FROM outcomes_received WHERE subject = ?");
      out.bind(1, item.subject);
      if (out.step() != SQLITE_DONE) return fail("a deletion");
      ++counts.deletions;
    } else if (item.kind == "outcome") {
      Stmt ins(db_,
               "INSERT OR IGNORE INTO outcomes_received(cursor, subject, origin, record, "
               "received_at) VALUES(?,?,?,?,?)");
      ins.bind(1, item.cursor).bind(2, item.subject).bind(3, item.from);
      ins.bind(4, item.record.dump()).bind(5, now);
      if (ins.step() != SQLITE_DONE) return fail("an outcome");
      ++counts.outcomes;
    }
  }
  Stmt c(db_,
         "INSERT INTO meta(key, value) VALUES('cursor', ?) ON CONFLICT(key) DO UPDATE SET "
         "value = excluded.value");
  c.bind(1, next_cursor);
  if (c.step() != SQLITE_DONE) return fail("the cursor");
  BRUG_RETURN_IF_ERROR(exec("COMMIT"));
  return counts;
}

std::vector<Person> LocalStore::people() {
  std::lock_guard lock(mu_);
  std::vector<Person> out;
  Stmt s(db_, (std::string(kPersonColumns) + " ORDER BY ref").c_str());
  while (s.step() == SQLITE_ROW) out.push_back(person_from(s));
  return out;
}

std::optional<Person> LocalStore::person(const std::string& ref) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string(kPersonColumns) + " WHERE ref = ?").c_str());
  s.bind(1, ref);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return person_from(s);
}

std::optional<std::string> LocalStore::pseudonym_of(const std::string& ref) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT pseudonym FROM people WHERE ref = ? AND pseudonym IS NOT NULL");
  s.bind(1, ref);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return s.text(0);
}

Status LocalStore::note_outcome(const std::string& ref, const std::string& status,
                                const std::string& date) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "UPDATE people SET outcome_status = ?, outcome_date = ? WHERE ref = ? AND deleted_at IS "
         "NULL");
  s.bind(1, status).bind(2, date).bind(3, ref);
  if (s.step() != SQLITE_DONE) return Status::error(Code::kIo, "portal.db: cannot write");
  return Status::ok();
}

std::vector<json> LocalStore::outcomes_received() {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  Stmt s(db_,
         "SELECT subject, origin, record, received_at FROM outcomes_received ORDER BY "
         "CAST(cursor AS INTEGER)");
  while (s.step() == SQLITE_ROW) {
    out.push_back({{"bsn", s.text(0)},
                   {"from", s.text(1)},
                   {"record", json::parse(s.text(2), nullptr, false)},
                   {"received_at", s.text(3)}});
  }
  return out;
}

}  // namespace brug::portal
