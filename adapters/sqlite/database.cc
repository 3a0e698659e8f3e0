// The SQLite Database: one transaction of sqlite_storage.cc, seen through the domain stores.
#include <chrono>
#include <thread>

#include "adapters/sqlite/sqlite_stores.h"

namespace brug::adapters {
namespace {

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(std::unique_ptr<Storage> storage) : storage_(std::move(storage)) {}

  Status write(const std::function<Status(Stores&)>& fn) override {
    // The busy timeout already waits for the write lock; a transaction that still finds the
    // database busy (e.g. a checkpoint holding it) is run again from the start, a few times.
    constexpr int kAttempts = 4;
    Status s;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      s = storage_->transact([&](Tx& tx) { return run(tx, fn); });
      if (s.code() != Code::kUnavailable || s.message().find("busy") == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
    }
    return s;
  }

  Status read(const std::function<Status(Stores&)>& fn) override {
    return storage_->read([&](Tx& tx) { return run(tx, fn); });
  }

  int schema_version() override { return storage_->schema_version(); }
  std::string_view backend() const override { return "sqlite"; }
  Status scrub() override { return storage_->checkpoint(); }

 private:
  static Status run(Tx& tx, const std::function<Status(Stores&)>& fn) {
    SqliteOrgStore orgs(tx);
    SqliteExchangeStore exchange(tx);
    SqliteConsentStore consents(tx);
    SqliteAuditStore audit(tx);
    Stores stores{orgs, exchange, consents, audit};
    return fn(stores);
  }

  std::unique_ptr<Storage> storage_;
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options) {
  auto storage = open_sqlite_storage(options);
  if (!storage) return storage.status();
  return std::unique_ptr<Database>(std::make_unique<SqliteDatabase>(std::move(storage).value()));
}

}  // namespace brug::adapters
