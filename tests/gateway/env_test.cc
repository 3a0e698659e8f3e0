// The Env seam: whatever stamps a time or makes an id asks it, so a fixed clock and a fixed
// random source make them exactly predictable.
#include "crypto/env.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/stores.h"
#include "crypto/keydir.h"
#include "gateway/audit/audit_log.h"
#include "gateway/disclosure/flow.h"
#include "tests/support/temp_dir.h"

namespace brug::gateway {
namespace {

class FixedEnv final : public crypto::Env {
 public:
  explicit FixedEnv(std::chrono::system_clock::time_point t) : t_(t) {}
  std::chrono::system_clock::time_point now() override { return t_; }
  void random_bytes(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }
  void advance(std::chrono::milliseconds d) { t_ += d; }

 private:
  std::chrono::system_clock::time_point t_;
  std::uint8_t next_ = 0;
};

std::chrono::system_clock::time_point at(long long ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

TEST(Env, RecordIdsComeFromTheClockAndTheRandomSource) {
  FixedEnv env(at(1'764'547'200'123));  // 2025-12-01T00:00:00.123Z
  const std::string a = new_record_id(env, "ref_");
  FixedEnv again(at(1'764'547'200'123));
  EXPECT_EQ(new_record_id(again, "ref_"), a);  // same clock, same random bytes: same id
  ASSERT_EQ(a.size(), 4U + 9 + 17);
  EXPECT_EQ(a.substr(4 + 9), "234567abcdefghijk");  // random bytes 0..16 as base32 digits
  env.advance(std::chrono::milliseconds(1));
  const std::string b = new_record_id(env, "ref_");
  EXPECT_LT(a.substr(0, 13), b.substr(0, 13));  // a later clock sorts later
  EXPECT_EQ(crypto::rfc3339(at(1'764'547'200'123)), "2025-12-01T00:00:00.123Z");
}

TEST(Env, AuditEventsAndCheckpointsAreStampedByTheInjectedClock) {
  brug::testing::TempDir dir;
  auto db = adapters::open_sqlite({.path = dir.file("brug.db")});
  ASSERT_TRUE(db) << db.message();
  auto keys = crypto::KeyDir::ephemeral();
  ASSERT_TRUE(keys);
  FixedEnv env(at(1'764'547'200'123));
  AuditLog log(**db, keys->signing_key(), AuditOptions{}, env);
  AuditEvent e;
  e.action = "policy.load";
  e.decision = "permit";
  ASSERT_TRUE(log.append({e}).is_ok());
  auto leaves = log.entries(0, 1);
  ASSERT_TRUE(leaves && leaves->size() == 1);
  EXPECT_EQ(nlohmann::json::parse(leaves->front())["time"], "2025-12-01T00:00:00.123Z");
  auto c = log.checkpoint(true);
  ASSERT_TRUE(c && c->has_value());
  EXPECT_EQ((*c)->time, "2025-12-01T00:00:00.123Z");
}

}  // namespace
}  // namespace brug::gateway
