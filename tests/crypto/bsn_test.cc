#include "crypto/bsn.h"

#include <gtest/gtest.h>

#include <set>
#include <type_traits>

#include "tests/support/streamable.h"

namespace brug::crypto {
namespace {

using testing::Streamable;
static_assert(!Streamable<Bsn>);
static_assert(!std::is_convertible_v<Bsn, std::string>);

TEST(Bsn, AcceptsAValidNineDigitNumber) {
  auto b = Bsn::parse("111222333");
  ASSERT_TRUE(b.is_ok()) << b.message();
  EXPECT_EQ(b->digits(), "111222333");
  EXPECT_TRUE(Bsn::parse("123456782").is_ok());
}

TEST(Bsn, EightDigitsGetALeadingZero) {
  auto b = Bsn::parse("12345672");
  ASSERT_TRUE(b.is_ok()) << b.message();
  EXPECT_EQ(b->digits(), "012345672");
  EXPECT_EQ(*b, *Bsn::parse("012345672"));
}

TEST(Bsn, RejectsAFailedElfproef) {
  auto b = Bsn::parse("123456789");
  EXPECT_EQ(b.code(), Code::kInvalidArgument);
  EXPECT_NE(b.message().find("elfproef"), std::string::npos);
}

TEST(Bsn, RejectsAllZeros) {
  EXPECT_EQ(Bsn::parse("000000000").code(), Code::kInvalidArgument);
  EXPECT_EQ(Bsn::parse("00000000").code(), Code::kInvalidArgument);
}

TEST(Bsn, RejectsWrongLengthsAndNonDigits) {
  for (const char* bad : {"", "1", "1234567", "1112223330", "11122233a", "111 22333", " 11122233",
                          "-11222333", "111222333\n", "１１１２２２３３３"}) {
    EXPECT_EQ(Bsn::parse(bad).code(), Code::kInvalidArgument)
        << "input of length " << std::string_view(bad).size();
  }
}

TEST(Bsn, ErrorMessagesNeverContainTheInput) {
  for (const char* bad :
       {"123456789", "987654321", "12345678x", "1234567890", "00000000", "000000000", "4455667"}) {
    auto b = Bsn::parse(bad);
    ASSERT_FALSE(b.is_ok());
    EXPECT_EQ(b.message().find(bad), std::string::npos) << b.message();
    // Not even a run of four of its digits.
    std::string s = bad;
    for (std::size_t i = 0; i + 4 <= s.size(); ++i) {
      EXPECT_EQ(b.message().find(s.substr(i, 4)), std::string::npos) << b.message();
    }
  }
}

TEST(Bsn, EverySingleDigitChangeOfAValidNumberIsCaught) {
  const std::string good = "123456782";
  ASSERT_TRUE(Bsn::parse(good).is_ok());
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == good[i]) continue;
      std::string changed = good;
      changed[i] = d;
      EXPECT_FALSE(Bsn::parse(changed).is_ok()) << "position " << i;
    }
  }
}

TEST(Bsn, AtMostOneCheckDigitFitsEachPrefix) {
  for (int prefix = 10000000; prefix < 10000200; ++prefix) {
    int valid = 0;
    for (int d = 0; d <= 9; ++d) valid += Bsn::parse(std::to_string(prefix * 10 + d)).is_ok();
    EXPECT_LE(valid, 1) << "prefix " << prefix;
  }
}

TEST(ParticipantIndex, IsAKeyedHashOfTheBsn) {
  auto k1 = ParticipantIndexKey::generate();
  auto k2 = ParticipantIndexKey::generate();
  auto a = *Bsn::parse("111222333");
  auto b = *Bsn::parse("123456782");
  EXPECT_EQ(participant_index(*k1, a), participant_index(*k1, a));
  EXPECT_NE(participant_index(*k1, a), participant_index(*k1, b));
  EXPECT_NE(participant_index(*k1, a), participant_index(*k2, a));
}

TEST(ParticipantIndex, HexFormRoundTrips) {
  auto k = ParticipantIndexKey::generate();
  auto p = participant_index(*k, *Bsn::parse("111222333"));
  std::string hex = p.to_hex();
  EXPECT_EQ(hex.size(), ParticipantIndex::kHexSize);
  EXPECT_EQ(hex.find("111222333"), std::string::npos);
  auto back = ParticipantIndex::from_hex(hex);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, p);
}

TEST(ParticipantIndex, RejectsMalformedHex) {
  EXPECT_FALSE(ParticipantIndex::from_hex("").is_ok());
  EXPECT_FALSE(ParticipantIndex::from_hex(std::string(63, 'a')).is_ok());
  EXPECT_FALSE(ParticipantIndex::from_hex(std::string(64, 'G')).is_ok());
  EXPECT_FALSE(ParticipantIndex::from_hex(std::string(64, 'A')).is_ok());
  EXPECT_FALSE(ParticipantIndex::from_bytes(std::vector<std::uint8_t>(31)).is_ok());
}

}  // namespace
}  // namespace brug::crypto
