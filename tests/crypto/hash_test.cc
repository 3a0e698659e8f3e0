#include "crypto/hash.h"

#include <gtest/gtest.h>

namespace brug::crypto {
namespace {

TEST(Sha256, MatchesTheFips180Vector) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, OfNothingIsTheEmptyDigest) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace brug::crypto
