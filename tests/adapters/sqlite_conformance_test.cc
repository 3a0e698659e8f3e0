// The store conformance suite (adapters/testing/conformance.h) on SQLite: each test gets a fresh
// database file in its own temporary folder.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "adapters/stores.h"
#include "adapters/testing/conformance.h"
#include "tests/support/temp_dir.h"

namespace brug::adapters {
namespace {

using testing::Backend;
using testing::StoreConformance;

// A SQLite database that removes its folder when destroyed.
class TempSqlite final : public Database {
 public:
  TempSqlite() {
    auto opened = open_sqlite({.path = dir_.file("brug.db")});
    if (!opened) throw std::runtime_error("cannot open SQLite: " + opened.status().to_string());
    db_ = std::move(opened).value();
  }
  Status write(const std::function<Status(Stores&)>& fn) override { return db_->write(fn); }
  Status read(const std::function<Status(Stores&)>& fn) override { return db_->read(fn); }
  int schema_version() override { return db_->schema_version(); }
  std::string_view backend() const override { return db_->backend(); }
  Status scrub() override { return db_->scrub(); }

 private:
  brug::testing::TempDir dir_;  // declared first: removed after the database closes
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(Backend{
                             "sqlite", [] { return std::unique_ptr<Database>(new TempSqlite()); }}),
                         testing::backend_name);

}  // namespace
}  // namespace brug::adapters
