#include "crypto/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace brug {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Status::error(Code::kInvalidArgument, "not positive");
  return v;
}

Status chain(int v) {
  BRUG_RETURN_IF_ERROR(parse_positive(v).status());
  return Status::ok();
}

TEST(Result, CarriesValueOrStatus) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().to_string(), "invalid-argument: not positive");
}

TEST(Result, ReturnIfErrorStopsAtTheFirstFailure) {
  EXPECT_TRUE(chain(1).is_ok());
  EXPECT_EQ(chain(0).code(), Code::kInvalidArgument);
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace brug
