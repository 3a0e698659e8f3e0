// The PostgreSQL backend's own layer under the domain stores (private to adapters/postgres/):
// libpq directly, prepared statements with binary parameters and results, a small pool of
// connections, and transactions that are run again after a transient failure.
//
// SQL is written with positional `?` parameters (the statement cache turns them into $1, $2,
// ...); a statement's parameter and column types come from the server (PQdescribePrepared and
// the result's column types), so an integer goes out as int8/int4 and a blob as bytea, both in
// binary.
//
// Ordering across processes: every write transaction first takes the audit tree's state row
// (`audit_head`) FOR UPDATE, at READ COMMITTED. Writers are therefore serialised (as SQLite's
// BEGIN IMMEDIATE serialises them), and every statement after the lock sees everything
// committed before it: audit indexes and feed positions are handed out in commit order, so a
// reader that has seen position n will never later see a position below n appear. Reads are
// REPEATABLE READ READ ONLY snapshots and take no lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/stores.h"
#include "crypto/result.h"

namespace brug::adapters::pg {

// A parameter or column value: NULL, integer, text or bytea.
using Value = std::variant<std::monostate, std::int64_t, std::string, Blob>;

// One result row; an accessor whose column is NULL or of another type throws BadColumn (the
// transaction then fails with kInternal), as in the SQLite backend.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  bool is_null(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  std::string text(std::size_t i) const;
  Blob blob(std::size_t i) const;
  std::optional<std::string> optional_text(std::size_t i) const;
  std::optional<Blob> optional_blob(std::size_t i) const;

 private:
  std::vector<Value> values_;
};

struct BadColumn : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Tx {
 public:
  virtual ~Tx() = default;
  // Runs a statement; the number of rows it changed.
  virtual Result<std::int64_t> exec(std::string_view sql, std::vector<Value> params = {}) = 0;
  virtual Result<std::vector<Row>> query(std::string_view sql, std::vector<Value> params = {}) = 0;
  // Appends rows with COPY ... FROM STDIN in binary: `into` is "table (column, ...)", `types`
  // the columns' types in that order. All rows or none; the number stored. For large appends,
  // where one INSERT of many rows costs PostgreSQL far more per row.
  enum class Column { kInt4, kInt8, kText, kBytea };
  virtual Result<std::int64_t> copy_in(std::string_view into, const std::vector<Column>& types,
                                       const std::vector<std::vector<Value>>& rows) = 0;
  // As copy_in, but returns once the rows are sent, before PostgreSQL has stored them: the
  // server works through them while the caller makes the next part of a long append. The
  // outcome comes with the next statement (or the commit), which fails, and with it the
  // transaction, if the COPY failed.
  virtual Status copy_in_behind(std::string_view into, const std::vector<Column>& types,
                                const std::vector<std::vector<Value>>& rows) = 0;
  virtual bool read_only() const = 0;
};

struct Options {
  std::string url;
  int max_connections = 8;
  // How often a transaction is tried when PostgreSQL reports a serialization failure, a
  // deadlock or a lost connection, with growing pauses between (about 3 s in all).
  int attempts = 10;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual Status transact(const std::function<Status(Tx&)>& fn) = 0;
  virtual Status read(const std::function<Status(Tx&)>& fn) = 0;
  virtual int schema_version() = 0;
};

// Connects, applies pending migrations (under an advisory lock, so gateways starting together
// migrate once) and refuses a schema newer than this binary.
Result<std::unique_ptr<Storage>> open_storage(const Options& options);

struct Migration {
  int version;
  std::string_view name;
  std::vector<std::string_view> statements;
};
const std::vector<Migration>& migrations();

}  // namespace brug::adapters::pg
