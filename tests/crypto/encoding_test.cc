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

TEST(Hex, EveryByteValueIsADigitOrRefusedInEitherPlace) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    for (const std::string& hex : {std::string{ch, '0'}, std::string{'0', ch}}) {
      std::array<std::uint8_t, 1> one{};
      EXPECT_EQ(hex_into(hex, one), digit) << "byte " << c;
      EXPECT_EQ(from_hex(hex, "x").is_ok(), digit) << "byte " << c;
      if (digit) {
        const int v = c <= '9' ? c - '0' : c - 'a' + 10;
        EXPECT_EQ(one[0], hex[0] == '0' ? v : v << 4) << "byte " << c;
      }
    }
  }
}

TEST(Hex, FixedSizeDecodingSaysWhatIsWrong) {
  const auto ok = fixed_from_hex<2>("a0ff", "key");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(*ok, (std::array<std::uint8_t, 2>{0xa0, 0xff}));
  const auto bad_digit = fixed_from_hex<2>("a0fG", "key");
  ASSERT_FALSE(bad_digit.is_ok());
  EXPECT_NE(bad_digit.message().find("key is not valid lowercase hex"), std::string::npos);
  const auto short_one = fixed_from_hex<2>("a0", "key");
  ASSERT_FALSE(short_one.is_ok());
  EXPECT_NE(short_one.message().find("key must be 2 bytes"), std::string::npos);
  std::array<std::uint8_t, 2> out{};
  EXPECT_FALSE(hex_into("a0f", out));
  EXPECT_FALSE(hex_into("a0ff00", out));
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
