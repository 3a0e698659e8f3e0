// Reads the gateway's database beside the running gateway (a second pool on the same file), for
// tests that check what a request left behind: its data and its audit events.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "adapters/stores.h"

namespace brug::testing {

class DatabaseObserver {
 public:
  explicit DatabaseObserver(const std::string& sqlite_path) {
    auto db = adapters::open_sqlite({.path = sqlite_path});
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
