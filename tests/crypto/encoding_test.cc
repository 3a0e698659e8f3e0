#include "crypto/encoding.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"

namespace brug::crypto {
namespace {

TEST(Hex, DecodesLowercaseOnly) {
  auto b = from_hex("00ff10", "x");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(*b, (std::vector<std::uint8_t>{0x00, 0xff, 0x10}));
  EXPECT_EQ(to_hex(*b), "00ff10");
  EXPECT_FALSE(from_hex("00FF10", "x").is_ok());
  EXPECT_FALSE(from_hex("0", "x").is_ok());
  EXPECT_FALSE(from_hex("zz", "x").is_ok());
}

TEST(Hex, ErrorNamesTheValueNotTheInput) {
  auto b = from_hex("secretzz", "the thing");
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.message().find("the thing"), std::string::npos);
  EXPECT_EQ(b.message().find("secret"), std::string::npos);
}

TEST(Base64url, MatchesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(to_base64url(bytes_of("")), "");
  EXPECT_EQ(to_base64url(bytes_of("f")), "Zg");
  EXPECT_EQ(to_base64url(bytes_of("fo")), "Zm8");
  EXPECT_EQ(to_base64url(bytes_of("foo")), "Zm9v");
  EXPECT_EQ(to_base64url(bytes_of("foobar")), "Zm9vYmFy");
  const std::uint8_t url[] = {0xfb, 0xff};
  EXPECT_EQ(to_base64url(url), "-_8");
}

TEST(Base64url, RoundTripsAndRejectsNonCanonicalText) {
  auto b = from_base64url("-_8", "x");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(*b, (std::vector<std::uint8_t>{0xfb, 0xff}));
  EXPECT_FALSE(from_base64url("-_9", "x").is_ok());   // non-zero trailing bits
  EXPECT_FALSE(from_base64url("+/8", "x").is_ok());   // standard alphabet
  EXPECT_FALSE(from_base64url("Zg==", "x").is_ok());  // padding
  EXPECT_FALSE(from_base64url("Z", "x").is_ok());
  EXPECT_FALSE(from_base64url("Zm 9v", "x").is_ok());
}

}  // namespace
}  // namespace brug::crypto
