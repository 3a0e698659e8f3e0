// SQLite implementation of Storage through Poco::Data.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/sqlite/storage.h"

namespace brug::adapters {

bool Row::is_null(std::size_t i) const {
  return std::holds_alternative<std::monostate>(values_.at(i));
}

namespace {
[[noreturn]] void bad_column(std::size_t i, const char* want) {
  throw BadColumn("column " + std::to_string(i) + " is not " + want);
}
}  // namespace

std::int64_t Row::integer(std::size_t i) const {
  if (const auto* p = std::get_if<std::int64_t>(&values_.at(i))) return *p;
  bad_column(i, "an integer");
}
std::string Row::text(std::size_t i) const {
  if (const auto* p = std::get_if<std::string>(&values_.at(i))) return *p;
  bad_column(i, "text");
}
Blob Row::blob(std::size_t i) const {
  if (const auto* p = std::get_if<Blob>(&values_.at(i))) return *p;
  bad_column(i, "a blob");
}
std::optional<std::string> Row::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}
std::optional<Blob> Row::optional_blob(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return blob(i);
}

namespace {

using Poco::Data::Session;

Status db_error(std::string_view what, const Poco::Exception& e) {
  return Status::error(Code::kIo, std::string(what) + ": " + e.displayText());
}

// SQLite's message may quote the SQL text but never a bound parameter value.
Status sqlite_error(std::string_view what, sqlite3* db) {
  return Status::error(Code::kIo, std::string(what) + ": " + sqlite3_errmsg(db));
}

// One pooled connection: opened and owned by Poco::Data, statements run on its sqlite3 handle
// with a cache of prepared statements (exact column types, no re-parsing on hot paths).
class Connection {
 public:
  explicit Connection(std::unique_ptr<Session> session)
      : session_(std::move(session)), db_(Poco::Data::SQLite::Utility::dbHandle(*session_)) {}
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }

  Status run_plain(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return sqlite_error(sql, db_);
    }
    return Status::ok();
  }

  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
      return sqlite_error("cannot prepare statement", db_);
    }
    if (stmt == nullptr) return Status::error(Code::kInvalidArgument, "empty statement");
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

 private:
  std::unique_ptr<Session> session_;
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

Status bind_all(sqlite3* db, sqlite3_stmt* stmt, const std::vector<SqlValue>& params) {
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
    return Status::error(Code::kInvalidArgument,
                         "statement expects " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
                             " parameters, got " + std::to_string(params.size()));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int pos = static_cast<int>(i) + 1;
    const int rc = std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            return sqlite3_bind_null(stmt, pos);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return sqlite3_bind_int64(stmt, pos, v);
          } else if constexpr (std::is_same_v<T, double>) {
            return sqlite3_bind_double(stmt, pos, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return sqlite3_bind_text64(stmt, pos, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
          } else {
            // An empty vector's data() may be null, which SQLite would store as NULL.
            if (v.empty()) return sqlite3_bind_zeroblob(stmt, pos, 0);
            return sqlite3_bind_blob64(stmt, pos, v.data(), v.size(), SQLITE_STATIC);
          }
        },
        params[i]);
    if (rc != SQLITE_OK) return sqlite_error("cannot bind parameter", db);
  }
  return Status::ok();
}

SqlValue column_value(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(stmt, col));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, col);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, col));
      return Blob(p, p + sqlite3_column_bytes(stmt, col));
    }
    default:
      return std::monostate{};
  }
}

class SqliteTx final : public Tx {
 public:
  SqliteTx(Connection& conn, bool read_only) : conn_(conn), read_only_(read_only) {}

  bool busy() const override { return busy_; }

  Result<std::int64_t> exec(std::string_view sql, std::vector<SqlValue> params) override {
    if (read_only_) return Status::error(Code::kInternal, "a read transaction cannot write");
    std::int64_t changed = 0;
    BRUG_RETURN_IF_ERROR(step_all(sql, params, {}));
    changed = sqlite3_changes64(conn_.db());
    return changed;
  }

  Result<std::vector<Row>> query(std::string_view sql, std::vector<SqlValue> params) override {
    std::vector<Row> rows;
    BRUG_RETURN_IF_ERROR(step_all(sql, params, [&](Row r) {
      rows.push_back(std::move(r));
      return Status::ok();
    }));
    return rows;
  }

  Status query_each(std::string_view sql, std::vector<SqlValue> params,
                    const std::function<Status(Row)>& row) override {
    return step_all(sql, params, row);
  }

 private:
  // Runs a cached statement to completion, handing each row to `row` when given; always resets
  // it. A statement that `row` runs meanwhile is another cached statement, unless it is this
  // one: that would reset this one under its feet, so it is refused.
  Status step_all(std::string_view sql, const std::vector<SqlValue>& params,
                  const std::function<Status(Row)>& row) {
    auto prepared = conn_.prepare(sql);
    if (!prepared) return prepared.status();
    sqlite3_stmt* stmt = *prepared;
    if (sqlite3_stmt_busy(stmt) != 0) {
      return Status::error(Code::kInternal, "a statement ran again while it was running");
    }
    // A read transaction is a snapshot: a statement that would write (even one passed to
    // query(), such as INSERT ... RETURNING) is refused before it runs.
    if (read_only_ && sqlite3_stmt_readonly(stmt) == 0) {
      return Status::error(Code::kInternal, "a read transaction cannot write");
    }
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    BRUG_RETURN_IF_ERROR(bind_all(conn_.db(), stmt, params));
    const int cols = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return Status::ok();
      if (rc != SQLITE_ROW) {
        const int primary = rc & 0xff;
        busy_ = busy_ || primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
        if (primary == SQLITE_FULL) return Status::error(Code::kUnavailable, "disk full");
        return sqlite_error("statement failed", conn_.db());
      }
      if (!row) continue;
      std::vector<SqlValue> values;
      values.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c) values.push_back(column_value(stmt, c));
      BRUG_RETURN_IF_ERROR(row(Row(std::move(values))));
    }
  }

  Connection& conn_;
  bool read_only_;
  bool busy_ = false;
};

// Lets read transactions in, except while the checkpointer restarts the WAL: close() stops new
// readers and waits (at most `patience`) for those inside to leave; open() lets them in again.
// A read that starts a nested read inside itself while the gate closes only delays the
// checkpoint by `patience`: close() then gives up and the WAL is restarted another time.
class ReaderGate {
 public:
  class Pass {
   public:
    explicit Pass(ReaderGate& gate) : gate_(gate) {
      std::unique_lock lock(gate_.mu_);
      gate_.cv_.wait(lock, [&] { return !gate_.closed_; });
      ++gate_.inside_;
    }
    ~Pass() {
      std::lock_guard lock(gate_.mu_);
      if (--gate_.inside_ == 0 && gate_.closed_) gate_.cv_.notify_all();
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    ReaderGate& gate_;
  };

  bool close(std::chrono::milliseconds patience) {
    std::unique_lock lock(mu_);
    closed_ = true;
    return cv_.wait_for(lock, patience, [&] { return inside_ == 0; });
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int inside_ = 0;
  bool closed_ = false;
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(SqliteOptions options) : options_(std::move(options)) {}
  ~SqliteStorage() override {
    {
      std::lock_guard lock(checkpoint_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
  }
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  // Writers of this process take the write lock in turn on a mutex: SQLite's own busy handler
  // would make a waiting writer sleep in steps of milliseconds while the lock is free. Other
  // processes (the CLI) still meet the busy timeout.
  Status transact(const std::function<Status(Tx&)>& fn) override {
    std::lock_guard writer(write_mu_);
    return run("BEGIN IMMEDIATE", false, fn);
  }
  Status read(const std::function<Status(Tx&)>& fn) override {
    ReaderGate::Pass pass(readers_);
    return run("BEGIN", true, fn);
  }

  int schema_version() override {
    int version = 0;
    Status s = read([&](Tx& tx) {
      auto rows = tx.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (!rows) return rows.status();
      version = static_cast<int>(rows->front().integer(0));
      return Status::ok();
    });
    return s.is_ok() ? version : -1;
  }

  std::string_view backend() const override { return "sqlite"; }

  Status checkpoint() override {
    std::lock_guard one_at_a_time(checkpointing_);
    auto taken = take();
    if (!taken) return taken.status();
    Lease lease(*this, std::move(taken).value());
    // Copy what is there first without holding writers up (the WAL may hold half the database:
    // size_checkpoints); the truncating checkpoint, which writers wait for, then copies only
    // what committed meanwhile.
    (void)sqlite3_wal_checkpoint_v2((*lease).db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                    nullptr);
    const int rc = sqlite3_wal_checkpoint_v2((*lease).db(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                             nullptr, nullptr);
    if (rc == SQLITE_OK) {
      copied_frames_.store(0, std::memory_order_relaxed);
      return Status::ok();
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      return Status::error(Code::kUnavailable, "checkpoint kept from finishing by a reader");
    }
    return sqlite_error("checkpoint", (*lease).db());
  }

  // Sizes the checkpoint cadence for the database as opened (the checkpointer keeps it up).
  Status size_checkpoints_now() {
    auto taken = take();
    if (!taken) return taken.status();
    Lease lease(*this, std::move(taken).value());
    size_checkpoints(*lease);
    return Status::ok();
  }

  Status migrate() {
    return transact([](Tx& tx) {
      auto created = tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      if (!created) return created.status();
      auto rows = tx.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (!rows) return rows.status();
      const std::int64_t current = rows->front().integer(0);
      const auto& all = migrations();
      if (current > static_cast<std::int64_t>(all.size())) {
        return Status::error(Code::kFailedPrecondition,
                             "database schema version " + std::to_string(current) +
                                 " is newer than this brug (" + std::to_string(all.size()) +
                                 "); refusing to run an older binary on it");
      }
      for (const Migration& m : all) {
        if (m.version <= current) continue;
        for (std::string_view sql : m.statements) {
          auto done = tx.exec(sql);
          if (!done) {
            return Status::error(Code::kIo, "migration " + std::to_string(m.version) + " (" +
                                                std::string(m.name) +
                                                ") failed: " + done.message());
          }
        }
        auto recorded = tx.exec(
            "INSERT INTO schema_migrations (version, name, applied_at) "
            "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            {std::int64_t{m.version}, std::string(m.name)});
        if (!recorded) return recorded.status();
      }
      return Status::ok();
    });
  }

 private:
  // A connection borrowed from the pool for one transaction.
  class Lease {
   public:
    Lease(SqliteStorage& owner, std::unique_ptr<Connection> c) : owner_(owner), c_(std::move(c)) {}
    ~Lease() { owner_.give_back(std::move(c_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() { return *c_; }

   private:
    SqliteStorage& owner_;
    std::unique_ptr<Connection> c_;
  };

  Result<std::unique_ptr<Connection>> take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    auto opened = open_connection();
    if (!opened) give_back(nullptr);
    return opened;
  }

  Result<std::unique_ptr<Connection>> open_connection() {
    std::unique_ptr<Connection> conn;
    try {
      // The login timeout is how long Poco retries a locked open: the busy timeout, not 60 s.
      const auto seconds = static_cast<std::size_t>(std::max(1, options_.busy_timeout_ms / 1000));
      conn = std::make_unique<Connection>(
          std::make_unique<Session>(Poco::Data::SQLite::Connector::KEY, options_.path, seconds));
    } catch (const Poco::Exception& e) {
      return db_error("cannot open database " + options_.path, e);
    }
    const std::string pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768; "
        "PRAGMA secure_delete=ON; "
        "PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY; PRAGMA busy_timeout=" +
        std::to_string(options_.busy_timeout_ms) +
        "; PRAGMA synchronous=" + (options_.synchronous_full ? "FULL" : "NORMAL") + ";";
    BRUG_RETURN_IF_ERROR(conn->run_plain(pragmas.c_str()));
    // The WAL keeps its size between restarts (checkpoint_loop), but not a size it reached only
    // when a restart had to wait (a reader of another process): past this the first commit after
    // a restart trims it.
    const std::string limit = "PRAGMA journal_size_limit=" + std::to_string(wal_size_limit()) + ";";
    BRUG_RETURN_IF_ERROR(conn->run_plain(limit.c_str()));
    // No checkpoint inside a commit: this hook (which replaces SQLite's automatic checkpoint)
    // hands it to the checkpointer thread, off the writers' path.
    sqlite3_wal_hook(conn->db(), &SqliteStorage::on_wal_commit, this);
    return conn;
  }

  // After each commit in WAL mode, with the number of frames in the log.
  static int on_wal_commit(void* self, sqlite3* /*db*/, const char* /*name*/, int frames) {
    auto* storage = static_cast<SqliteStorage*>(self);
    // Frames not copied yet; fewer frames than were copied means the WAL started again since.
    const int copied = storage->copied_frames_.load(std::memory_order_relaxed);
    const int waiting = frames >= copied ? frames - copied : frames;
    if (waiting >= storage->checkpoint_frames_.load(std::memory_order_relaxed)) {
      storage->request_checkpoint();
    }
    return SQLITE_OK;
  }

  // How many frames the WAL gathers, not yet copied, before the checkpointer copies them: an
  // eighth of the database's pages, between kMinCheckpointFrames and kMaxCheckpointFrames. A
  // checkpoint writes each page once however often the WAL holds it, at a random place in the
  // database file. An insert at a random key (the participants' pseudonym index) touches about
  // one page of its own; at 10^6 participants that index has about 18,000 pages, and
  // checkpointing every 1000 frames wrote each of them back once per insert. Writing back random
  // pages is slow (2000 took 59 ms to fsync on the benchmark machine: docs/PERFORMANCE.md).
  // Checkpointing after a share of the database lets many inserts land on one page before it is
  // written back. restart_frames() bounds the WAL's size, and so the time to recover it. Both
  // stay small enough for reads: a WAL of up to 1 GiB (an eighth of the pages at 10^6, restarted
  // at four times that) slowed a feed page at 10^6 by 10-20% against 256 MiB, for 5% more push
  // (docs/PERFORMANCE.md): every read looks its pages up in the WAL's index, and each frame of a
  // WAL that grows into new file space is a page the kernel allocates and zeroes first.
  void size_checkpoints(Connection& conn) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn.db(), "PRAGMA page_count", -1, &stmt, nullptr) != SQLITE_OK) return;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const std::int64_t pages = sqlite3_column_int64(stmt, 0);
      const std::int64_t frames = std::clamp<std::int64_t>(
          pages / kCheckpointShare, kMinCheckpointFrames, kMaxCheckpointFrames);
      checkpoint_frames_.store(static_cast<int>(frames), std::memory_order_relaxed);
    }
    sqlite3_finalize(stmt);
  }

  // Past this many frames the checkpointer restarts the WAL, holding writers back: the
  // configured limit, or two checkpoints' worth once the cadence has grown past its minimum.
  int restart_frames() const {
    const int cadence = checkpoint_frames_.load(std::memory_order_relaxed);
    return cadence > kMinCheckpointFrames
               ? std::max(options_.wal_restart_frames, kRestartPerCheckpoint * cadence)
               : options_.wal_restart_frames;
  }

  // Bytes: the most frames the WAL holds when restarts keep up, with a quarter more.
  std::int64_t wal_size_limit() const {
    const std::int64_t frames = std::max<std::int64_t>(
        options_.wal_restart_frames, kRestartPerCheckpoint * kMaxCheckpointFrames);
    return frames * (4096 + 24) * 5 / 4;
  }

  void request_checkpoint() {
    std::lock_guard lock(checkpoint_mu_);
    if (stopping_) return;
    checkpoint_wanted_ = true;
    if (!checkpointer_.joinable()) checkpointer_ = std::thread([this] { checkpoint_loop(); });
    checkpoint_cv_.notify_one();
  }

  // Copies committed frames into the database file without waiting for anyone (PASSIVE): it
  // never blocks readers or writers, and a writer starts the log again from its beginning once
  // everything in it is checkpointed and no reader needs it.
  void checkpoint_loop() {
    std::unique_ptr<Connection> own;
    std::unique_lock lock(checkpoint_mu_);
    for (;;) {
      checkpoint_cv_.wait(lock, [&] { return stopping_ || checkpoint_wanted_; });
      if (stopping_) return;
      checkpoint_wanted_ = false;
      lock.unlock();
      if (!own) {
        auto opened = open_connection();
        if (opened) {
          own = std::move(opened).value();
          // Another process (the CLI) may still hold the WAL while this one's writers wait:
          // check every millisecond instead of SQLite's growing sleeps, for at most about 1 s.
          sqlite3_busy_handler(
              own->db(),
              [](void*, int tries) {
                if (tries >= 1000) return 0;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                return 1;
              },
              nullptr);
        }
      }
      if (own) {
        std::lock_guard one_at_a_time(checkpointing_);
        int frames = 0;
        int copied = 0;
        (void)sqlite3_wal_checkpoint_v2(own->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames,
                                        &copied);
        copied_frames_.store(std::max(copied, 0), std::memory_order_relaxed);
        size_checkpoints(*own);
        // A writer starts the WAL again from its beginning only when everything in it is
        // copied: under writes without pause a passive checkpoint never catches up, and the WAL
        // grew to 13 GB in a load run of 10^6 referrals. Past the limit, this process's writers
        // and new readers wait while the running readers finish and the rest is copied, so
        // that the next writer starts the WAL again (tens of milliseconds). Waiting on SQLite's
        // busy handler alone is not enough: readers that overlap without pause keep an old read
        // mark in use and the checkpoint never finishes. The file keeps its size (RESTART, not
        // TRUNCATE): a WAL frame (24 + 4096 bytes) covers parts of two file blocks, and growing
        // the file again made the filesystem zero and allocate each new block as a frame first
        // reached it (11% of a first feed delivery's CPU at 10^6); over blocks the file already
        // has, a frame is only copied. An erasure still truncates (scrub).
        if (frames >= restart_frames()) {
          std::lock_guard writers(write_mu_);
          if (readers_.close(std::chrono::seconds(1)) &&
              sqlite3_wal_checkpoint_v2(own->db(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr,
                                        nullptr) == SQLITE_OK) {
            copied_frames_.store(0, std::memory_order_relaxed);
            // The WAL starts again at the next commit; until then a passive checkpoint still
            // counts the old frames, so a request made meanwhile would restart it once more.
            std::lock_guard requests(checkpoint_mu_);
            checkpoint_wanted_ = false;
          }
          readers_.open();
        }
      }
      lock.lock();
    }
  }

  void give_back(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu_);
    if (c) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  Status run(const char* begin, bool read_only, const std::function<Status(Tx&)>& fn) {
    auto taken = take();
    if (!taken) return taken.status();
    Lease lease(*this, std::move(taken).value());
    Connection& conn = *lease;
    if (Status begun = conn.run_plain(begin); !begun.is_ok()) {
      return (sqlite3_errcode(conn.db()) & 0xff) == SQLITE_BUSY
                 ? Status::error(Code::kUnavailable, "database busy")
                 : begun;
    }
    SqliteTx tx(conn, read_only);
    Status result;
    try {
      result = fn(tx);
    } catch (const std::exception& e) {
      result = Status::error(Code::kInternal, std::string("transaction aborted: ") + e.what());
    } catch (...) {
      result = Status::error(Code::kInternal, "transaction aborted by an unknown exception");
    }
    // The callback must leave its transaction open: a statement that ended it (COMMIT,
    // ROLLBACK) would make the COMMIT below a no-op error and the callback's work
    // half-committed, so it is refused as an internal error.
    if (result.is_ok() && sqlite3_get_autocommit(conn.db()) != 0) {
      result = Status::error(Code::kInternal, "the transaction was ended inside its callback");
    }
    if (result.is_ok()) {
      Status committed = conn.run_plain("COMMIT");
      if (committed.is_ok()) return result;
      const int primary = sqlite3_errcode(conn.db()) & 0xff;
      result = primary == SQLITE_FULL   ? Status::error(Code::kUnavailable, "disk full")
               : primary == SQLITE_BUSY ? Status::error(Code::kUnavailable, "database busy")
                                        : committed;
    } else if (tx.busy()) {
      result = Status::error(Code::kUnavailable, "database busy: " + result.message());
    }
    // A failed COMMIT can leave the transaction open; roll back so the connection is clean.
    if (sqlite3_get_autocommit(conn.db()) == 0) (void)conn.run_plain("ROLLBACK");
    return result;
  }

  // The checkpoint cadence (size_checkpoints). SQLite's own automatic checkpoint runs at 1000
  // frames: so does ours on a small database.
  static constexpr std::int64_t kMinCheckpointFrames = 1000;
  static constexpr std::int64_t kMaxCheckpointFrames = 1 << 15;  // 128 MiB of WAL
  static constexpr std::int64_t kCheckpointShare = 8;
  static constexpr int kRestartPerCheckpoint = 2;

  SqliteOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
  std::mutex write_mu_;
  ReaderGate readers_;
  // One checkpoint at a time in this process (a second one would fail with SQLITE_BUSY).
  std::mutex checkpointing_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  std::atomic<int> checkpoint_frames_{kMinCheckpointFrames};
  std::atomic<int> copied_frames_{0};  // of the WAL's frames, as the last checkpoint left them
  std::thread checkpointer_;
};

}  // namespace

std::size_t rows_per_statement(std::size_t left) {
  constexpr std::size_t kMaxRows = 64;
  std::size_t n = 1;
  while (n * 2 <= left && n * 2 <= kMaxRows) n *= 2;
  return n;
}

Result<std::int64_t> insert_rows(Tx& tx, const std::string& head, std::size_t columns,
                                 std::vector<std::vector<SqlValue>> rows, const std::string& tail,
                                 const std::string& row) {
  std::string one = row;
  if (one.empty()) {
    one = "(";
    for (std::size_t c = 0; c < columns; ++c) one += c == 0 ? "?" : ", ?";
    one += ")";
  }
  std::int64_t changed = 0;
  for (std::size_t start = 0, n = 0; start < rows.size(); start += n) {
    n = rows_per_statement(rows.size() - start);
    std::string sql = head;
    std::vector<SqlValue> params;
    params.reserve(n * columns);
    for (std::size_t i = 0; i < n; ++i) {
      sql += i == 0 ? " VALUES " : ", ";
      sql += one;
      for (SqlValue& v : rows[start + i]) params.push_back(std::move(v));
    }
    if (!tail.empty()) sql += " " + tail;
    auto done = tx.exec(sql, std::move(params));
    if (!done) return done.status();
    changed += *done;
  }
  return changed;
}

Result<std::unique_ptr<Storage>> open_sqlite_storage(const SqliteOptions& options) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  if (options.path.empty()) return Status::error(Code::kInvalidArgument, "no database path");
  // SQLite would create the file but not its folder; say so at once instead of retrying.
  const auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    return Status::error(Code::kIo, "cannot open database " + options.path + ": folder " +
                                        parent.string() + " does not exist");
  }
  if (options.max_connections < 1) {
    return Status::error(Code::kInvalidArgument, "max_connections must be at least 1");
  }
  auto storage = std::make_unique<SqliteStorage>(options);
  BRUG_RETURN_IF_ERROR(storage->migrate());
  BRUG_RETURN_IF_ERROR(storage->size_checkpoints_now());
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace brug::adapters
