// Reads the gateway's database beside the running gateway (a second pool on the same database), for
// tests that check what a request left behind: its data and its audit events.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "adapters/stores.h"
#include "gateway/app/config.h"

namespace brug::testing {

class DatabaseObserver {
 public:
  // The database of the configuration, SQLite or PostgreSQL.
  explicit DatabaseObserver(const gateway::Config& config) {
    auto db = gateway::open_database(config);
    EXPECT_TRUE(db) << db.message();
    if (db) db_ = std::move(db).value();
  }

  // What `f(stores)` returns, read in one snapshot.
  template <class F>
  auto observe(F f) {
    decltype(f(std::declval<adapters::Stores&>())) out{};
    EXPECT_TRUE(db_->read([&](adapters::Stores& s) {
                     out = f(s);
                     return Status::ok();
                   })
                    .is_ok());
    return out;
  }

  std::uint64_t audit_size() {
    return observe([](adapters::Stores& s) {
      auto size = s.audit.size();
      EXPECT_TRUE(size) << size.message();
      return size ? *size : std::uint64_t{0};
    });
  }

 private:
  std::unique_ptr<adapters::Database> db_;
};

}  // namespace brug::testing
