#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "crypto/keys.h"
#include "tests/support/streamable.h"

namespace brug::crypto {
namespace {

using testing::Streamable;

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
static_assert(!Streamable<SecretBytes>);
static_assert(!Streamable<Kek>);
static_assert(!std::is_copy_constructible_v<DataKey>);
static_assert(!std::is_convertible_v<Kek, std::string>);
// Keys for different purposes are different types.
static_assert(!std::is_same_v<Kek, DataKey>);
static_assert(!std::is_convertible_v<const Kek&, const DataKey&>);

TEST(SecretBytes, CopiesItsInputAndComparesByContent) {
  const std::uint8_t raw[] = {1, 2, 3, 4};
  auto a = SecretBytes::copy_of(raw);
  auto b = SecretBytes::copy_of(raw);
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(a->size(), 4u);
  EXPECT_TRUE(*a == *b);
  b->expose_mutable()[3] ^= 1;
  EXPECT_FALSE(*a == *b);
}

TEST(SecretBytes, OfDifferentSizesAreNotEqual) {
  const std::uint8_t raw[] = {1, 2, 3, 4};
  auto a = SecretBytes::copy_of(raw);
  auto b = SecretBytes::copy_of(std::span(raw, 3));
  EXPECT_FALSE(*a == *b);
}

TEST(SecretBytes, RandomDrawsDiffer) {
  auto a = SecretBytes::random(32);
  auto b = SecretBytes::random(32);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_FALSE(*a == *b);
}

TEST(SecretBytes, MoveLeavesTheSourceEmpty) {
  auto a = SecretBytes::random(16);
  SecretBytes b = std::move(a).value();
  EXPECT_EQ(b.size(), 16u);
  auto c = SecretBytes::zeroed(0);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->size(), 0u);
  *c = std::move(b);
  EXPECT_EQ(c->size(), 16u);
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

TEST(SecretBytes, CloneIsEqualButIndependent) {
  auto a = SecretBytes::random(8);
  auto b = a->clone();
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(*a == *b);
  b->expose_mutable()[0] ^= 0xff;
  EXPECT_FALSE(*a == *b);
}

TEST(SecretKey, RejectsTheWrongSizeWithoutEchoingTheBytes) {
  const std::uint8_t raw[31] = {0x5a};
  auto k = Kek::from_bytes(raw);
  ASSERT_FALSE(k.is_ok());
  EXPECT_EQ(k.code(), Code::kInvalidArgument);
  EXPECT_NE(k.message().find("key-encryption key must be 32 bytes"), std::string::npos);
  EXPECT_EQ(k.message().find("5a"), std::string::npos);
}

TEST(SecretKey, FromBytesKeepsTheBytes) {
  std::uint8_t raw[32];
  for (int i = 0; i < 32; ++i) raw[i] = static_cast<std::uint8_t>(i);
  auto k = DataKey::from_bytes(raw);
  ASSERT_TRUE(k.is_ok());
  EXPECT_TRUE(std::equal(k->expose().begin(), k->expose().end(), raw));
  auto generated = DataKey::generate();
  ASSERT_TRUE(generated.is_ok());
  EXPECT_FALSE(*k == *generated);
  auto copy = k->clone();
  EXPECT_TRUE(*k == *copy);
}

TEST(Init, IsIdempotent) {
  EXPECT_TRUE(init().is_ok());
  EXPECT_TRUE(init().is_ok());
}

}  // namespace
}  // namespace brug::crypto
