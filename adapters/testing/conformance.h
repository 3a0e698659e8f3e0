// The conformance suite of the domain stores (adapters/stores.h): what every backend must do,
// checked against a real database through the interfaces only. Modelled on Trillian's
// storage/testonly: the suite is a set of value-parameterised GoogleTest cases; a backend's test
// file instantiates them with a factory that makes a fresh, empty, migrated database:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
//                            ::testing::Values(Backend{"sqlite", make_database}), backend_name);
//
// The suite needs a backend whose read transaction may stay open while a write commits (a
// snapshot), with at least two connections. Every test that expects a store call to fail ends
// its transaction there: on some backends (PostgreSQL) a failed statement aborts the transaction.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "adapters/stores.h"

namespace brug::adapters::testing {

// Makes a fresh, empty, migrated database for one test; the database owns whatever it needs
// (e.g. its temporary folder) and removes it when destroyed.
using DatabaseFactory = std::function<std::unique_ptr<Database>()>;

struct Backend {
  std::string name;  // shows in the test names: letters, digits and underscores
  DatabaseFactory make;
};

void PrintTo(const Backend& backend, std::ostream* os);
// The name generator for INSTANTIATE_TEST_SUITE_P: the backend's name.
std::string backend_name(const ::testing::TestParamInfo<Backend>& info);

// The fixture of every conformance test: one fresh database per test.
class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  Database& db() { return *db_; }

 private:
  std::unique_ptr<Database> db_;
};

}  // namespace brug::adapters::testing
