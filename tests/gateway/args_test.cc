#include "gateway/app/args.h"

#include <gtest/gtest.h>

namespace brug::gateway {
namespace {

TEST(Args, ReadsPositionalsOptionsAndFlags) {
  auto a = parse_args({"dir", "--port", "9000", "--host=::1", "--csv"}, {"port", "host"}, {"csv"});
  ASSERT_TRUE(a) << a.message();
  EXPECT_EQ(a->positional, std::vector<std::string>{"dir"});
  EXPECT_EQ(a->get("port"), "9000");
  EXPECT_EQ(a->get("host"), "::1");
  EXPECT_TRUE(a->has("csv"));
  EXPECT_EQ(a->get("missing", "fallback"), "fallback");
}

TEST(Args, AnUnknownOptionIsAnError) {
  auto a = parse_args({"--prot", "9000"}, {"port"}, {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.message(), "unknown option --prot");
  EXPECT_FALSE(parse_args({"-x"}, {}, {}));
}

TEST(Args, AnOptionWithoutItsValueIsAnError) {
  auto a = parse_args({"--config"}, {"config"}, {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.message(), "--config needs a value");
}

TEST(Args, AFlagWithAValueIsAnError) { EXPECT_FALSE(parse_args({"--csv=yes"}, {}, {"csv"})); }

TEST(Args, DoubleDashEndsOptions) {
  auto a = parse_args({"--", "--not-an-option"}, {}, {});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->positional, std::vector<std::string>{"--not-an-option"});
}

}  // namespace
}  // namespace brug::gateway
