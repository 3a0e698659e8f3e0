// The PostgreSQL Database: one transaction of pg_storage.cc, seen through the domain stores.
// The storage runs a callback again after a transient failure; by the rule of stores.h the
// callback keeps no state across runs.
#include "adapters/postgres/pg_stores.h"

namespace brug::adapters {
namespace {

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(std::unique_ptr<pg::Storage> storage) : storage_(std::move(storage)) {}

  Status write(const std::function<Status(Stores&)>& fn) override {
    return storage_->transact([&](pg::Tx& tx) { return run(tx, fn); });
  }
  Status read(const std::function<Status(Stores&)>& fn) override {
    return storage_->read([&](pg::Tx& tx) { return run(tx, fn); });
  }
  int schema_version() override { return storage_->schema_version(); }
  std::string_view backend() const override { return "postgresql"; }
  // PostgreSQL keeps overwritten rows as dead tuples until VACUUM and in its WAL segments, its
  // archive and its standbys until they are recycled; no statement of a client makes them
  // unrecoverable at once. Erasure on PostgreSQL therefore rests on crypto-shredding alone
  // (docs/CRYPTO.md, "Erasure on PostgreSQL"): nothing to do here.
  Status scrub() override { return Status::ok(); }

 private:
  static Status run(pg::Tx& tx, const std::function<Status(Stores&)>& fn) {
    pg::PgOrgStore orgs(tx);
    pg::PgExchangeStore exchange(tx);
    pg::PgConsentStore consents(tx);
    pg::PgAuditStore audit(tx);
    Stores stores{orgs, exchange, consents, audit};
    return fn(stores);
  }

  std::unique_ptr<pg::Storage> storage_;
};

}  // namespace

Result<std::unique_ptr<Database>> open_postgres(const PostgresOptions& options) {
  auto storage = pg::open_storage({.url = options.url,
                                   .max_connections = options.max_connections,
                                   .attempts = options.attempts});
  if (!storage) return storage.status();
  return std::unique_ptr<Database>(std::make_unique<PgDatabase>(std::move(storage).value()));
}

}  // namespace brug::adapters
