// The store conformance suite (adapters/testing/conformance.h) on PostgreSQL: each test gets a
// fresh database on the test server (tests/support/postgres.h), dropped afterwards.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "adapters/stores.h"
#include "adapters/testing/conformance.h"
#include "tests/support/postgres.h"

namespace brug::adapters {
namespace {

using testing::Backend;
using testing::StoreConformance;

// A PostgreSQL database that drops itself when destroyed.
class TempPgDatabase final : public Database {
 public:
  TempPgDatabase() {
    auto opened = open_postgres({.url = pg_.url()});
    if (!opened) throw std::runtime_error("cannot open PostgreSQL: " + opened.status().to_string());
    db_ = std::move(opened).value();
  }
  Status write(const std::function<Status(Stores&)>& fn) override { return db_->write(fn); }
  Status read(const std::function<Status(Stores&)>& fn) override { return db_->read(fn); }
  int schema_version() override { return db_->schema_version(); }
  std::string_view backend() const override { return db_->backend(); }

 private:
  brug::testing::TempPostgres pg_;  // declared first: dropped after the pool closes
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
                         ::testing::Values(Backend{
                             "postgresql",
                             [] { return std::unique_ptr<Database>(new TempPgDatabase()); }}),
                         testing::backend_name);

}  // namespace
}  // namespace brug::adapters
