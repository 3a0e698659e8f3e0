#include "crypto/sign.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace brug::crypto {
namespace {

TEST(Signing, SignatureVerifiesUnderItsOwnKey) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key.is_ok());
  Signature sig = key->sign(bytes_of("checkpoint 42"));
  EXPECT_EQ(sig.key_id(), key->key_id());
  EXPECT_TRUE(key->verify_key().verify(bytes_of("checkpoint 42"), sig).is_ok());
}

TEST(Signing, AlteredMessageFails) {
  auto key = SigningKey::generate();
  Signature sig = key->sign(bytes_of("checkpoint 42"));
  auto st = key->verify_key().verify(bytes_of("checkpoint 43"), sig);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
}

TEST(Signing, FlippedSignatureBitFails) {
  auto key = SigningKey::generate();
  Signature sig = key->sign(bytes_of("m"));
  for (std::size_t i = 0; i < Signature::kSize; i += 7) {
    auto bytes = sig.bytes();
    bytes[i] ^= 0x01;
    auto bad = Signature::from_bytes(sig.key_id(), bytes);
    ASSERT_TRUE(bad.is_ok());
    EXPECT_FALSE(key->verify_key().verify(bytes_of("m"), *bad).is_ok()) << "byte " << i;
  }
}

TEST(Signing, WrongKeyIdIsRejectedBeforeTheCheck) {
  auto key = SigningKey::generate();
  Signature sig = key->sign(bytes_of("m"));
  auto other_id = KeyId::parse("0123456789abcdef");
  ASSERT_TRUE(other_id.is_ok());
  auto relabelled = Signature::from_bytes(*other_id, sig.bytes());
  auto st = key->verify_key().verify(bytes_of("m"), *relabelled);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_NE(st.message().find("0123456789abcdef"), std::string::npos);
}

TEST(Signing, WrongKeyFailsEvenWithAMatchingId) {
  auto a = SigningKey::generate();
  auto b = SigningKey::generate();
  Signature sig = a->sign(bytes_of("m"));
  EXPECT_NE(a->key_id(), b->key_id());
  EXPECT_FALSE(b->verify_key().verify(bytes_of("m"), sig).is_ok());
  auto forged_label = Signature::from_bytes(b->key_id(), sig.bytes());
  EXPECT_FALSE(b->verify_key().verify(bytes_of("m"), *forged_label).is_ok());
}

TEST(Signing, SameSeedGivesTheSameKeyAndId) {
  auto seed = SigningSeed::generate();
  auto a = SigningKey::from_seed(*seed);
  auto b = SigningKey::from_seed(*seed);
  EXPECT_EQ(a->verify_key(), b->verify_key());
  EXPECT_EQ(a->key_id(), b->key_id());
  EXPECT_EQ(a->key_id().text().size(), KeyId::kHexSize);
}

TEST(Signing, Rfc8032TestVector1) {
  // RFC 8032 §7.1 TEST 1: empty message.
  auto seed_bytes =
      from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "seed");
  auto seed = SigningSeed::from_bytes(*seed_bytes);
  auto key = SigningKey::from_seed(*seed);
  EXPECT_EQ(key->verify_key().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(key->sign({}).to_hex(),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(VerifyKey, RoundTripsThroughHex) {
  auto key = SigningKey::generate();
  auto back = VerifyKey::from_hex(key->verify_key().to_hex());
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, key->verify_key());
  EXPECT_EQ(back->key_id(), key->key_id());
}

TEST(VerifyKey, RejectsMalformedInput) {
  EXPECT_FALSE(VerifyKey::from_hex("abcd").is_ok());
  EXPECT_FALSE(VerifyKey::from_hex(std::string(64, 'g')).is_ok());
  EXPECT_FALSE(VerifyKey::from_hex(std::string(64, 'A')).is_ok());
}

TEST(KeyId, AcceptsOnlySixteenLowercaseHexDigits) {
  EXPECT_TRUE(KeyId::parse("0123456789abcdef").is_ok());
  EXPECT_FALSE(KeyId::parse("0123456789ABCDEF").is_ok());
  EXPECT_FALSE(KeyId::parse("0123456789abcde").is_ok());
  EXPECT_FALSE(KeyId::parse("0123456789abcdefa").is_ok());
  EXPECT_FALSE(KeyId::parse("").is_ok());
}

TEST(Signature, RejectsTheWrongLength) {
  auto id = KeyId::parse("0123456789abcdef");
  EXPECT_FALSE(Signature::from_bytes(*id, std::vector<std::uint8_t>(63)).is_ok());
  EXPECT_FALSE(Signature::from_hex(*id, "00").is_ok());
}

}  // namespace
}  // namespace brug::crypto
