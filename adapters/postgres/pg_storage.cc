// PostgreSQL Storage over libpq (pg_storage.h).
//
// libpq rather than Poco::Data::PostgreSQL: Poco 1.11's PostgreSQL connector binds every value
// as text and returns every column through its own type mapping (bytea as Poco::Data::BLOB after
// a text round trip, integers by the column's declared size), prepares a statement per
// Statement object, and does not expose the SQLSTATE of a failure, which is what tells a
// serialization failure or a lost connection (retry) from a constraint violation (do not).
#include <endian.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/postgres/pg_storage.h"

namespace brug::adapters::pg {

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

// Type OIDs of pg_type (stable since PostgreSQL 7).
constexpr Oid kBool = 16, kBytea = 17, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
              kBpchar = 1042, kVarchar = 1043;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Whether a SQLSTATE says "run the transaction again": serialization failure, deadlock, a
// connection exception, the server shutting down or starting, too many connections.
bool transient_state(std::string_view state) {
  return state == "40001" || state == "40P01" || state.substr(0, 2) == "08" || state == "57P01" ||
         state == "57P02" || state == "57P03" || state == "53300";
}

// `?` placeholders become $1, $2, ... (outside string literals).
std::string numbered(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  bool quoted = false;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// What a failed statement or connection says, without any bound value: the primary message
// (PostgreSQL puts key values in the detail, which is left out) and the SQLSTATE.
struct Failure {
  Status status;
  bool transient = false;
};

Failure failure_of(PGconn* conn, const PGresult* res, std::string_view what) {
  const bool lost = PQstatus(conn) != CONNECTION_OK;
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? primary : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const std::string sqlstate = state != nullptr ? state : "";
  const bool transient = lost || transient_state(sqlstate);
  // lock_not_available: the write lock was not free within lock_timeout (a writer hangs):
  // unavailable, but running the transaction again would only wait as long once more.
  const bool busy = sqlstate == "55P03";
  std::string text = std::string(what) + ": " + message;
  if (!sqlstate.empty()) text += " (SQLSTATE " + sqlstate + ")";
  return {Status::error(transient || busy ? Code::kUnavailable : Code::kIo, text), transient};
}

class Connection {
 public:
  struct Prepared {
    std::string name;
    std::vector<Oid> types;
  };

  explicit Connection(PGconn* conn) : conn_(conn) {
    // Server notices ("already exists, skipping") are not errors: no line on standard error.
    if (conn_ != nullptr)
      PQsetNoticeProcessor(
          conn_, [](void*, const char*) {}, nullptr);
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* get() const { return conn_; }
  bool healthy() const {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

  // The prepared statement of `sql`, prepared on first use.
  const Prepared* prepare(std::string_view sql, Failure& failure) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return &it->second;
    Prepared p{"brug_" + std::to_string(cache_.size()), {}};
    const std::string text = numbered(sql);
    PgResult res(PQprepare(conn_, p.name.c_str(), text.c_str(), 0, nullptr));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      failure = failure_of(conn_, res.get(), "cannot prepare statement");
      return nullptr;
    }
    PgResult described(PQdescribePrepared(conn_, p.name.c_str()));
    if (PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
      failure = failure_of(conn_, described.get(), "cannot describe statement");
      return nullptr;
    }
    for (int i = 0; i < PQnparams(described.get()); ++i) {
      p.types.push_back(PQparamtype(described.get(), i));
    }
    return &cache_.emplace(std::string(sql), std::move(p)).first->second;
  }

  // A statement without parameters through the simple protocol (BEGIN, COMMIT, migrations).
  PgResult plain(const char* sql) { return PgResult(PQexec(conn_, sql)); }

 private:
  PGconn* conn_;
  std::map<std::string, Prepared, std::less<>> cache_;
};

// One parameter in the form PostgreSQL wants for its type (binary).
Status encode(const Value& v, Oid type, std::string& buffer, bool& null) {
  null = false;
  buffer.clear();
  if (std::holds_alternative<std::monostate>(v)) {
    null = true;
    return Status::ok();
  }
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    switch (type) {
      case kInt8: {
        const std::uint64_t be = htobe64(static_cast<std::uint64_t>(*i));
        buffer.assign(reinterpret_cast<const char*>(&be), 8);
        return Status::ok();
      }
      case kInt4: {
        if (*i < INT32_MIN || *i > INT32_MAX) break;
        const std::uint32_t be = htobe32(static_cast<std::uint32_t>(static_cast<std::int32_t>(*i)));
        buffer.assign(reinterpret_cast<const char*>(&be), 4);
        return Status::ok();
      }
      case kInt2: {
        if (*i < INT16_MIN || *i > INT16_MAX) break;
        const std::uint16_t be = htobe16(static_cast<std::uint16_t>(static_cast<std::int16_t>(*i)));
        buffer.assign(reinterpret_cast<const char*>(&be), 2);
        return Status::ok();
      }
      case kBool:
        buffer.assign(1, *i != 0 ? '\1' : '\0');
        return Status::ok();
      default:
        break;
    }
    return Status::error(Code::kInvalidArgument,
                         "an integer parameter for a column of type " + std::to_string(type));
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    if (type == kText || type == kVarchar || type == kBpchar || type == kName) {
      buffer = *s;
      return Status::ok();
    }
    return Status::error(Code::kInvalidArgument,
                         "a text parameter for a column of type " + std::to_string(type));
  }
  const Blob& b = std::get<Blob>(v);
  if (type != kBytea) {
    return Status::error(Code::kInvalidArgument,
                         "a blob parameter for a column of type " + std::to_string(type));
  }
  buffer.assign(reinterpret_cast<const char*>(b.data()), b.size());
  return Status::ok();
}

Result<Value> decode(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return Value(std::monostate{});
  const char* p = PQgetvalue(res, row, col);
  const auto n = static_cast<std::size_t>(PQgetlength(res, row, col));
  switch (PQftype(res, col)) {
    case kInt8: {
      std::uint64_t be = 0;
      if (n != 8) break;
      std::memcpy(&be, p, 8);
      return Value(static_cast<std::int64_t>(be64toh(be)));
    }
    case kInt4: {
      std::uint32_t be = 0;
      if (n != 4) break;
      std::memcpy(&be, p, 4);
      return Value(std::int64_t{static_cast<std::int32_t>(be32toh(be))});
    }
    case kInt2: {
      std::uint16_t be = 0;
      if (n != 2) break;
      std::memcpy(&be, p, 2);
      return Value(std::int64_t{static_cast<std::int16_t>(be16toh(be))});
    }
    case kBool:
      if (n != 1) break;
      return Value(std::int64_t{p[0] != 0});
    case kText:
    case kVarchar:
    case kBpchar:
    case kName:
      return Value(std::string(p, n));
    case kBytea:
      return Value(Blob(reinterpret_cast<const std::uint8_t*>(p),
                        reinterpret_cast<const std::uint8_t*>(p) + n));
    default:
      return Status::error(Code::kInternal,
                           "column of unsupported type " + std::to_string(PQftype(res, col)));
  }
  return Status::error(Code::kCorrupt, "column value of the wrong size");
}

class PgTx final : public Tx {
 public:
  PgTx(Connection& conn, bool read_only) : conn_(conn), read_only_(read_only) {}

  bool read_only() const override { return read_only_; }
  // Whether a statement failed: PostgreSQL has then aborted the transaction.
  bool failed() const { return failure_.has_value(); }
  const Failure& failure() const { return *failure_; }

  Result<std::int64_t> exec(std::string_view sql, std::vector<Value> params) override {
    if (read_only_) return Status::error(Code::kInternal, "a read transaction cannot write");
    auto res = run(sql, params);
    if (!res) return res.status();
    const char* tuples = PQcmdTuples(res->get());
    return tuples[0] == '\0' ? std::int64_t{0} : std::stoll(tuples);
  }

  Result<std::int64_t> copy_in(std::string_view into, const std::vector<Column>& types,
                               const std::vector<std::vector<Value>>& rows) override {
    BRUG_RETURN_IF_ERROR(send_copy(into, types, rows));
    return settle();
  }

  Status copy_in_behind(std::string_view into, const std::vector<Column>& types,
                        const std::vector<std::vector<Value>>& rows) override {
    return send_copy(into, types, rows);
  }

  // The outcome of a COPY sent behind, if one is outstanding: the rows it stored.
  Result<std::int64_t> settle() {
    if (!copying_) return std::int64_t{0};
    copying_ = false;
    PGconn* c = conn_.get();
    // The outcome, then whatever else the server has to say, so the connection is ready again.
    PgResult res(PQgetResult(c));
    for (PgResult more(PQgetResult(c)); more; more.reset(PQgetResult(c))) {
    }
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      return fail(failure_of(c, res.get(), "copy failed"));
    }
    const char* tuples = PQcmdTuples(res.get());
    return tuples[0] == '\0' ? std::int64_t{0} : std::stoll(tuples);
  }

 private:
  // Starts a COPY of `rows` and sends them all; its outcome is read by settle().
  Status send_copy(std::string_view into, const std::vector<Column>& types,
                   const std::vector<std::vector<Value>>& rows) {
    if (read_only_) return Status::error(Code::kInternal, "a read transaction cannot write");
    BRUG_RETURN_IF_ERROR(settle().status());
    if (failure_) return failure_->status;
    if (rows.empty()) return Status::ok();
    // The binary COPY format: signature, flags, header extension length; per row the number of
    // fields, then each as a length (-1: NULL) and its bytes; -1 at the end.
    std::string data("PGCOPY\n\xff\r\n\0", 11);
    auto put32 = [&](std::uint32_t v) {
      const std::uint32_t be = htobe32(v);
      data.append(reinterpret_cast<const char*>(&be), 4);
    };
    auto put16 = [&](std::uint16_t v) {
      const std::uint16_t be = htobe16(v);
      data.append(reinterpret_cast<const char*>(&be), 2);
    };
    put32(0);
    put32(0);
    std::string field;
    for (const auto& row : rows) {
      if (row.size() != types.size()) {
        return Status::error(Code::kInvalidArgument, "a row of another width than its columns");
      }
      put16(static_cast<std::uint16_t>(row.size()));
      for (std::size_t c = 0; c < row.size(); ++c) {
        static constexpr Oid kOids[] = {kInt4, kInt8, kText, kBytea};
        bool null = false;
        BRUG_RETURN_IF_ERROR(encode(row[c], kOids[static_cast<int>(types[c])], field, null));
        if (null) {
          put32(0xffffffffu);
        } else {
          put32(static_cast<std::uint32_t>(field.size()));
          data += field;
        }
      }
    }
    put16(0xffff);
    PGconn* c = conn_.get();
    const std::string sql = "COPY " + std::string(into) + " FROM STDIN (FORMAT binary)";
    PgResult started(PQexec(c, sql.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
      return fail(failure_of(c, started.get(), "copy failed"));
    }
    const bool sent = PQputCopyData(c, data.data(), static_cast<int>(data.size())) == 1;
    const bool ended = PQputCopyEnd(c, sent ? nullptr : "brug: sending the rows failed") == 1;
    copying_ = true;
    if (!sent || !ended) {
      auto settled = settle();
      return settled ? fail(failure_of(c, nullptr, "copy failed")) : settled.status();
    }
    return Status::ok();
  }

 public:
  // One statement without parameters through the simple protocol (migrations).
  Status script(const std::string& sql) {
    BRUG_RETURN_IF_ERROR(settle().status());
    if (failure_) return failure_->status;
    PgResult res = conn_.plain(sql.c_str());
    const ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return fail(failure_of(conn_.get(), res.get(), "statement failed"));
    }
    return Status::ok();
  }

  Result<std::vector<Row>> query(std::string_view sql, std::vector<Value> params) override {
    auto res = run(sql, params);
    if (!res) return res.status();
    const PGresult* r = res->get();
    const int rows = PQntuples(r), cols = PQnfields(r);
    std::vector<Row> out;
    out.reserve(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        auto v = decode(r, i, c);
        if (!v) return v.status();
        values.push_back(std::move(v).value());
      }
      out.emplace_back(std::move(values));
    }
    return out;
  }

 private:
  Result<PgResult> run(std::string_view sql, const std::vector<Value>& params) {
    BRUG_RETURN_IF_ERROR(settle().status());
    if (failure_) return failure_->status;  // the transaction is aborted already
    Failure f;
    const Connection::Prepared* p = conn_.prepare(sql, f);
    if (p == nullptr) return fail(std::move(f));
    if (p->types.size() != params.size()) {
      return Status::error(Code::kInvalidArgument,
                           "statement expects " + std::to_string(p->types.size()) +
                               " parameters, got " + std::to_string(params.size()));
    }
    const std::size_t n = params.size();
    std::vector<std::string> buffers(n);
    std::vector<const char*> values(n);
    std::vector<int> lengths(n), formats(n, 1);
    for (std::size_t i = 0; i < n; ++i) {
      bool null = false;
      BRUG_RETURN_IF_ERROR(encode(params[i], p->types[i], buffers[i], null));
      values[i] = null ? nullptr : buffers[i].data();
      lengths[i] = static_cast<int>(buffers[i].size());
    }
    PgResult res(PQexecPrepared(conn_.get(), p->name.c_str(), static_cast<int>(n), values.data(),
                                lengths.data(), formats.data(), 1));
    const ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return fail(failure_of(conn_.get(), res.get(), "statement failed"));
    }
    return res;
  }

  Status fail(Failure f) {
    failure_ = std::move(f);
    return failure_->status;
  }

  Connection& conn_;
  bool read_only_;
  std::optional<Failure> failure_;
  bool copying_ = false;  // a COPY was sent behind and its outcome not yet read
};

class PgStorage final : public Storage {
 public:
  explicit PgStorage(Options options) : options_(std::move(options)) {}

  Status transact(const std::function<Status(Tx&)>& fn) override { return run(kWrite, fn); }
  Status read(const std::function<Status(Tx&)>& fn) override { return run(kRead, fn); }

  int schema_version() override {
    int version = -1;
    Status s = read([&](Tx& tx) {
      auto rows = tx.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (!rows) return rows.status();
      version = static_cast<int>(rows->front().integer(0));
      return Status::ok();
    });
    return s.is_ok() ? version : -1;
  }

  Status migrate() {
    return run(kMigrate, [](Tx& tx) -> Status {
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
          // DDL through the simple protocol: no parameters, nothing worth caching.
          const Status done = static_cast<PgTx&>(tx).script(std::string(sql));
          if (!done.is_ok()) {
            return Status::error(done.code(), "migration " + std::to_string(m.version) + " (" +
                                                  std::string(m.name) +
                                                  ") failed: " + done.message());
          }
        }
        BRUG_RETURN_IF_ERROR(tx.exec("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                                     {std::int64_t{m.version}, std::string(m.name)})
                                 .status());
      }
      return Status::ok();
    });
  }

 private:
  enum Kind { kRead, kWrite, kMigrate };

  // A connection borrowed for one transaction; one that is broken or still inside a transaction
  // is closed instead of going back to the pool.
  class Lease {
   public:
    Lease(PgStorage& owner, std::unique_ptr<Connection> c) : owner_(owner), c_(std::move(c)) {}
    ~Lease() { owner_.give_back(std::move(c_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() { return *c_; }

   private:
    PgStorage& owner_;
    std::unique_ptr<Connection> c_;
  };

  struct Outcome {
    Status status;
    bool retry = false;
  };

  Status run(Kind kind, const std::function<Status(Tx&)>& fn) {
    Status last;
    for (int attempt = 0; attempt < options_.attempts; ++attempt) {
      if (attempt > 0) {
        const int ms = std::min(10 << std::min(attempt - 1, 5), 500);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      }
      Outcome o = once(kind, fn);
      if (!o.retry) return o.status;
      last = o.status;
    }
    return Status::error(Code::kUnavailable, "database unavailable after " +
                                                 std::to_string(options_.attempts) +
                                                 " attempts: " + last.message());
  }

  Outcome once(Kind kind, const std::function<Status(Tx&)>& fn) {
    Failure f;
    auto taken = take(f);
    if (!taken) return {f.status, f.transient};
    Lease lease(*this, std::move(taken));
    Connection& conn = *lease;
    const char* begin = kind == kRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                      : "BEGIN ISOLATION LEVEL READ COMMITTED";
    if (PgResult r = conn.plain(begin); PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      f = failure_of(conn.get(), r.get(), "cannot begin a transaction");
      return {f.status, f.transient};
    }
    PgTx tx(conn, kind == kRead);
    Status result;
    if (kind == kWrite) {
      // The write lock: the audit tree's state row (see pg_storage.h).
      result = tx.query("SELECT size FROM audit_head WHERE id = 1 FOR UPDATE", {}).status();
    } else if (kind == kMigrate) {
      result = migration_lock(conn);
    }
    if (result.is_ok()) {
      try {
        result = fn(tx);
      } catch (const std::exception& e) {
        result = Status::error(Code::kInternal, std::string("transaction aborted: ") + e.what());
      } catch (...) {
        result = Status::error(Code::kInternal, "transaction aborted by an unknown exception");
      }
    }
    // A COPY sent behind is settled first: its failure fails the transaction.
    if (result.is_ok()) (void)tx.settle();
    if (result.is_ok() && !tx.failed()) {
      PgResult r = conn.plain("COMMIT");
      if (PQresultStatus(r.get()) == PGRES_COMMAND_OK &&
          std::strcmp(PQcmdStatus(r.get()), "COMMIT") == 0) {
        return {Status::ok(), false};
      }
      f = failure_of(conn.get(), r.get(), "commit failed");
      if (PQstatus(conn.get()) != CONNECTION_OK) {
        // The commit may or may not have happened: never run the callback twice over it.
        return {Status::error(Code::kUnavailable, "connection lost during commit"), false};
      }
      (void)conn.plain("ROLLBACK");
      return {f.status, f.transient};
    }
    if (PQstatus(conn.get()) == CONNECTION_OK) (void)conn.plain("ROLLBACK");
    if (tx.failed()) {
      if (tx.failure().transient) return {tx.failure().status, true};
      if (result.is_ok()) return {tx.failure().status, false};
    }
    return {result, false};
  }

  // Creates schema_migrations and takes a transaction-level advisory lock, so that gateways
  // starting together apply each migration once.
  static Status migration_lock(Connection& conn) {
    for (const char* sql :
         {"SELECT pg_advisory_xact_lock(2026111301)",
          "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
          "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"}) {
      PgResult r = conn.plain(sql);
      const ExecStatusType st = PQresultStatus(r.get());
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        return failure_of(conn.get(), r.get(), "cannot prepare migrations").status;
      }
    }
    return Status::ok();
  }

  std::unique_ptr<Connection> take(Failure& failure) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    while (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (c->healthy()) return c;
      --open_;  // dropped while idle (e.g. the server restarted)
    }
    ++open_;
    lock.unlock();
    // Keywords before the URL's: the URL may override them (expand_dbname).
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"5", "brug", options_.url.c_str(), nullptr};
    PGconn* raw = PQconnectdbParams(keys, values, 1);
    auto conn = std::make_unique<Connection>(raw);
    if (raw != nullptr && PQstatus(raw) == CONNECTION_OK) {
      // No wait for the write lock without end (a hung writer, a nested write), and no
      // transaction left open by a stuck process holds it for more than two minutes. No
      // parallel workers and no JIT: brug's statements are index look-ups of at most a page,
      // for which starting a worker process (17-19 ms here) or compiling costs more than the
      // query (a feed page of 1000 items: 48-67 ms with one worker, 6.5 ms without).
      PgResult set = conn->plain(
          "SET lock_timeout = '60s'; SET idle_in_transaction_session_timeout = '120s'; "
          "SET max_parallel_workers_per_gather = 0; SET jit = off");
      if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
        failure = failure_of(raw, set.get(), "cannot set up the connection");
        give_back(nullptr);
        return nullptr;
      }
      return conn;
    }
    std::string why = raw != nullptr ? PQerrorMessage(raw) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    failure = {Status::error(Code::kUnavailable, "cannot connect to PostgreSQL: " + why), true};
    give_back(nullptr);
    return nullptr;
  }

  void give_back(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu_);
    if (c && c->healthy()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_storage(const Options& options) {
  BRUG_RETURN_IF_ERROR(check_postgres_url(options.url));
  if (options.max_connections < 1) {
    return Status::error(Code::kInvalidArgument, "max_connections must be at least 1");
  }
  if (options.attempts < 1) return Status::error(Code::kInvalidArgument, "attempts must be >= 1");
  auto storage = std::make_unique<PgStorage>(options);
  BRUG_RETURN_IF_ERROR(storage->migrate());
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace brug::adapters::pg

namespace brug::adapters {

Status check_postgres_url(std::string_view url) {
  if (url.substr(0, 13) != "postgresql://" && url.substr(0, 11) != "postgres://") {
    return Status::error(Code::kInvalidArgument, "must be a URL that starts with postgresql://");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &error);
  if (options == nullptr) {
    // libpq's message may quote the URL: say only that it is malformed.
    PQfreemem(error);
    return Status::error(Code::kInvalidArgument, "is not a valid PostgreSQL connection URL");
  }
  bool password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && o->val[0] != '\0') {
      password = true;
    }
  }
  PQconninfoFree(options);
  if (password) {
    return Status::error(Code::kInvalidArgument,
                         "must not contain a password: use PGPASSWORD, ~/.pgpass or passfile");
  }
  return Status::ok();
}

}  // namespace brug::adapters
