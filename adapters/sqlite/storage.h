// The SQLite backend's own layer under the domain stores (private to adapters/sqlite/): SQL with
// positional `?` parameters inside a transaction (Tx) that commits only when the callback
// returns ok. Schema changes are versioned migrations (migrations.cc) applied in order when the
// database opens.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/stores.h"
#include "crypto/result.h"

namespace brug::adapters {

// A SQL value: NULL, integer, real, text or blob.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;

// One result row. An accessor whose column is NULL or of another type throws BadColumn (the
// transaction then fails with kInternal): a stored value is never silently read as 0 or "".
class Row {
 public:
  explicit Row(std::vector<SqlValue> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool is_null(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  std::string text(std::size_t i) const;
  Blob blob(std::size_t i) const;
  // NULL reads as nullopt; another type throws.
  std::optional<std::string> optional_text(std::size_t i) const;
  std::optional<Blob> optional_blob(std::size_t i) const;
  const SqlValue& at(std::size_t i) const { return values_.at(i); }

 private:
  std::vector<SqlValue> values_;
};

// A transaction on one connection. Valid only inside Storage::transact/read.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs a statement; returns the number of rows it changed.
  virtual Result<std::int64_t> exec(std::string_view sql, std::vector<SqlValue> params = {}) = 0;
  virtual Result<std::vector<Row>> query(std::string_view sql,
                                         std::vector<SqlValue> params = {}) = 0;
  // Hands each result row to `row` as the statement steps to it; an error from `row` stops the
  // statement and is returned. `row` may run other statements on this transaction meanwhile,
  // but not this one, and in a write transaction none that changes the table being read.
  virtual Status query_each(std::string_view sql, std::vector<SqlValue> params,
                            const std::function<Status(Row)>& row) = 0;
  // Whether a statement failed because the database was busy or locked (worth a retry).
  virtual bool busy() const = 0;
};

// How many of `left` rows (or keys) one statement takes: up to 64, a power of two, so that a
// connection caches only a few statement shapes.
std::size_t rows_per_statement(std::size_t left);

// Inserts `rows` of `columns` values each after `head` ("INSERT INTO t (a, b)") and before
// `tail` (e.g. an upsert clause), rows_per_statement() rows per statement, which saves the
// per-statement work of one INSERT per row. `one` replaces a row's "(?, ?, ...)" where a value
// is an expression over the parameters. Returns how many rows the statements changed.
Result<std::int64_t> insert_rows(Tx& tx, const std::string& head, std::size_t columns,
                                 std::vector<std::vector<SqlValue>> rows,
                                 const std::string& tail = "", const std::string& one = "");

struct BadColumn : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Runs `fn` in one write transaction: commit if it returns ok, roll back if it returns an
  // error or throws (the exception is turned into kInternal). Nothing is ever stored half.
  virtual Status transact(const std::function<Status(Tx&)>& fn) = 0;
  // Runs `fn` in a read transaction (one consistent snapshot).
  virtual Status read(const std::function<Status(Tx&)>& fn) = 0;
  // The highest migration version applied.
  virtual int schema_version() = 0;
  virtual std::string_view backend() const = 0;
  // Copies the write-ahead log into the database and truncates it to nothing (waiting for
  // readers up to the busy timeout); with secure_delete on every connection, what was deleted
  // is then in no file. kUnavailable when a reader kept it from finishing.
  virtual Status checkpoint() = 0;
};

// Opens (or creates) the SQLite database, sets WAL, foreign keys and the busy timeout on every
// connection, and applies pending migrations. Refuses a database newer than this binary.
Result<std::unique_ptr<Storage>> open_sqlite_storage(const SqliteOptions& options);

// The migrations this binary knows, in order; version numbers start at 1 with no gaps.
struct Migration {
  int version;
  std::string_view name;
  std::vector<std::string_view> statements;
};
const std::vector<Migration>& migrations();

}  // namespace brug::adapters
