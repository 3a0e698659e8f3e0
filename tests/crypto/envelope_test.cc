#include "crypto/envelope.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace brug::crypto {
namespace {

std::string text_of(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

ParticipantIndex random_participant() {
  auto k = ParticipantIndexKey::generate();
  return participant_index(*k, *Bsn::parse("111222333"));
}

KekRing ring_with(std::initializer_list<std::uint32_t> versions) {
  KekRing ring;
  for (std::uint32_t v : versions) EXPECT_TRUE(ring.add(v, Kek::generate().value()).is_ok());
  return ring;
}

class Envelope : public ::testing::Test {
 protected:
  KekRing keks_ = ring_with({1});
  ParticipantIndex alice_ = random_participant();
  ParticipantIndex bob_ = random_participant();
  DataKey key_ = DataKey::generate().value();
};

TEST_F(Envelope, SealedRecordOpensWithTheSameKeyAndBinding) {
  RecordBinding row{"rec-1", alice_, "referral"};
  auto sealed = seal_record(key_, row, bytes_of("{\"voornaam\":\"Anna\"}"));
  ASSERT_TRUE(sealed.is_ok());
  EXPECT_EQ(sealed->size(), kSealOverhead + 19);
  EXPECT_EQ(text_of(*sealed).find("Anna"), std::string::npos);
  auto opened = open_record(key_, row, *sealed);
  ASSERT_TRUE(opened.is_ok()) << opened.message();
  EXPECT_EQ(text_of(*opened), "{\"voornaam\":\"Anna\"}");
}

TEST_F(Envelope, SealingTwiceGivesDifferentCiphertexts) {
  RecordBinding row{"rec-1", alice_, "referral"};
  EXPECT_NE(*seal_record(key_, row, bytes_of("x")), *seal_record(key_, row, bytes_of("x")));
}

TEST_F(Envelope, EmptyRecordRoundTrips) {
  RecordBinding row{"rec-1", alice_, "referral"};
  auto sealed = seal_record(key_, row, {});
  auto opened = open_record(key_, row, *sealed);
  ASSERT_TRUE(opened.is_ok());
  EXPECT_TRUE(opened->empty());
}

TEST_F(Envelope, ARecordReaddressedToAnotherRecipientSenderOrPurposeDoesNotOpen) {
  RecordBinding row{"rec-1", alice_, "referral", "gemeente-a", "project-a", "begeleiding"};
  auto sealed = seal_record(key_, row, bytes_of("secret"));
  ASSERT_TRUE(open_record(key_, row, *sealed).is_ok());
  // (sender, recipient, purpose) changed one at a time; the last moves a field boundary.
  const std::vector<std::array<std::string_view, 3>> others = {
      {"gemeente-a", "project-b", "begeleiding"},
      {"gemeente-b", "project-a", "begeleiding"},
      {"gemeente-a", "project-a", "monitoring"},
      {"gemeente-ap", "roject-a", "begeleiding"}};
  for (const auto& [sender, recipient, purpose] : others) {
    EXPECT_EQ(open_record(key_, {"rec-1", alice_, "referral", sender, recipient, purpose}, *sealed)
                  .code(),
              Code::kCorrupt)
        << sender << " " << recipient << " " << purpose;
  }
}

// Format 1, as builds before the full binding sealed: id, participant and type only.
std::vector<std::uint8_t> seal_format_1(const DataKey& key, const std::string& id,
                                        const ParticipantIndex& p, const std::string& type,
                                        const std::string& plain) {
  std::string ad = "brug/record/v1";
  ad.push_back(1);
  auto field = [&](const std::string& f) {
    for (int shift = 24; shift >= 0; shift -= 8) ad.push_back(static_cast<char>(f.size() >> shift));
    ad += f;
  };
  field(id);
  ad.append(reinterpret_cast<const char*>(p.bytes().data()), p.bytes().size());
  field(type);
  std::vector<std::uint8_t> out(kSealOverhead + plain.size());
  out[0] = 1;
  randombytes_buf(out.data() + 1, 24);
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + 25, nullptr, reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size(),
      reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size(), nullptr, out.data() + 1,
      key.expose().data());
  return out;
}

TEST_F(Envelope, ARecordOfFormat1StillOpensByItsIdentity) {
  const auto sealed = seal_format_1(key_, "rec-1", alice_, "referral", "oud");
  auto opened = open_record(key_, {"rec-1", alice_, "referral", "g", "p", "begeleiding"}, sealed);
  ASSERT_TRUE(opened.is_ok()) << opened.message();
  EXPECT_EQ(text_of(*opened), "oud");
  EXPECT_EQ(open_record(key_, {"rec-2", alice_, "referral"}, sealed).code(), Code::kCorrupt);
  // A new seal is format 2: its first byte says so.
  EXPECT_EQ(seal_record(key_, {"rec-1", alice_, "referral"}, bytes_of("x"))->front(), 2);
}

TEST_F(Envelope, CiphertextMovedToAnotherRowDoesNotOpen) {
  auto sealed = seal_record(key_, {"rec-1", alice_, "referral"}, bytes_of("secret"));
  EXPECT_EQ(open_record(key_, {"rec-2", alice_, "referral"}, *sealed).code(), Code::kCorrupt);
  EXPECT_EQ(open_record(key_, {"rec-1", bob_, "referral"}, *sealed).code(), Code::kCorrupt);
  EXPECT_EQ(open_record(key_, {"rec-1", alice_, "intake"}, *sealed).code(), Code::kCorrupt);
  // Field boundaries are part of the binding: ("rec-1", "referral") != ("rec-1r", "eferral").
  EXPECT_EQ(open_record(key_, {"rec-1r", alice_, "eferral"}, *sealed).code(), Code::kCorrupt);
}

TEST_F(Envelope, WrongKeyDoesNotOpen) {
  RecordBinding row{"rec-1", alice_, "referral"};
  auto sealed = seal_record(key_, row, bytes_of("secret"));
  EXPECT_EQ(open_record(*DataKey::generate(), row, *sealed).code(), Code::kCorrupt);
}

TEST_F(Envelope, EveryFlippedBitIsDetected) {
  RecordBinding row{"rec-1", alice_, "referral"};
  auto sealed = seal_record(key_, row, bytes_of("some record content"));
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = *sealed;
      bad[i] ^= static_cast<std::uint8_t>(1 << bit);
      EXPECT_EQ(open_record(key_, row, bad).code(), Code::kCorrupt) << i << ":" << bit;
    }
  }
}

TEST_F(Envelope, TruncatedRecordIsRefused) {
  RecordBinding row{"rec-1", alice_, "referral"};
  auto sealed = seal_record(key_, row, bytes_of("some record content"));
  for (std::size_t n = 0; n < sealed->size(); ++n) {
    std::span<const std::uint8_t> part(sealed->data(), n);
    EXPECT_EQ(open_record(key_, row, part).code(), Code::kCorrupt) << n;
  }
}

TEST_F(Envelope, BindingNeedsAnIdAndAType) {
  EXPECT_EQ(seal_record(key_, {"", alice_, "referral"}, bytes_of("x")).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(seal_record(key_, {"rec", alice_, ""}, bytes_of("x")).code(), Code::kInvalidArgument);
}

TEST_F(Envelope, WrappedDataKeyUnwrapsForItsParticipantOnly) {
  auto wrapped = wrap_data_key(keks_, alice_, key_);
  ASSERT_TRUE(wrapped.is_ok());
  EXPECT_EQ(wrapped->kek_version(), 1u);
  auto back = unwrap_data_key(keks_, alice_, *wrapped);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_TRUE(*back == key_);
  EXPECT_EQ(unwrap_data_key(keks_, bob_, *wrapped).code(), Code::kCorrupt);
}

TEST_F(Envelope, WrappedDataKeyNeedsTheRightKek) {
  auto wrapped = wrap_data_key(keks_, alice_, key_);
  KekRing other = ring_with({1});
  EXPECT_EQ(unwrap_data_key(other, alice_, *wrapped).code(), Code::kCorrupt);
  KekRing empty;
  EXPECT_EQ(unwrap_data_key(empty, alice_, *wrapped).code(), Code::kNotFound);
  EXPECT_EQ(wrap_data_key(empty, alice_, key_).code(), Code::kFailedPrecondition);
}

TEST_F(Envelope, FlippedBitInAWrappedKeyIsDetected) {
  auto wrapped = wrap_data_key(keks_, alice_, key_);
  for (std::size_t i = 0; i < WrappedDataKey::kSize; ++i) {
    auto bytes = wrapped->bytes();
    bytes[i] ^= 0x10;
    auto bad = WrappedDataKey::from_bytes(bytes);
    if (!bad.is_ok()) continue;  // version became 0
    auto r = unwrap_data_key(keks_, alice_, *bad);
    EXPECT_FALSE(r.is_ok()) << i;
  }
  EXPECT_EQ(WrappedDataKey::from_bytes(std::vector<std::uint8_t>(75)).code(), Code::kCorrupt);
}

TEST_F(Envelope, RewrapMovesToTheNewKekWithoutTouchingRecords) {
  RecordBinding row{"rec-1", alice_, "referral"};
  auto sealed = seal_record(key_, row, bytes_of("before rotation"));
  auto wrapped_v1 = wrap_data_key(keks_, alice_, key_);
  ASSERT_TRUE(keks_.add(2, Kek::generate().value()).is_ok());

  // Old wraps stay readable after the new version is added.
  EXPECT_TRUE(unwrap_data_key(keks_, alice_, *wrapped_v1).is_ok());
  auto wrapped_v2 = rewrap_data_key(keks_, alice_, *wrapped_v1);
  ASSERT_TRUE(wrapped_v2.is_ok()) << wrapped_v2.message();
  EXPECT_EQ(wrapped_v2->kek_version(), 2u);
  auto key = unwrap_data_key(keks_, alice_, *wrapped_v2);
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(text_of(*open_record(*key, row, *sealed)), "before rotation");

  // Rewrapping a current wrap changes nothing.
  EXPECT_EQ(*rewrap_data_key(keks_, alice_, *wrapped_v2), *wrapped_v2);
  // A version-2 wrap needs version 2: a ring with only version 1 says so.
  KekRing only_v1;
  ASSERT_TRUE(only_v1.add(1, keks_.find(1)->clone().value()).is_ok());
  EXPECT_EQ(unwrap_data_key(only_v1, alice_, *wrapped_v2).code(), Code::kNotFound);
}

TEST_F(Envelope, DestroyingTheDataKeyShredsAllRecords) {
  std::vector<std::vector<std::uint8_t>> sealed;
  std::optional<WrappedDataKey> stored;
  {
    auto key = DataKey::generate();
    stored = *wrap_data_key(keks_, alice_, *key);
    for (int i = 0; i < 5; ++i) {
      sealed.push_back(*seal_record(*key, {"rec-" + std::to_string(i), alice_, "referral"},
                                    bytes_of("record " + std::to_string(i))));
    }
    // Before erasure the stored wrap gives access to every record.
    auto unwrapped = unwrap_data_key(keks_, alice_, *stored);
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(
          open_record(*unwrapped, {"rec-" + std::to_string(i), alice_, "referral"}, sealed[i])
              .is_ok());
    }
  }
  stored.reset();  // erasure: the only copy of the wrapped key is deleted

  // What remains (KEKs, a new data key for the same participant, other participants' keys)
  // opens none of the records.
  auto fresh = DataKey::generate();
  auto bobs_wrapped = wrap_data_key(keks_, bob_, *DataKey::generate());
  auto bobs_key = unwrap_data_key(keks_, bob_, *bobs_wrapped);
  for (int i = 0; i < 5; ++i) {
    const std::string id = "rec-" + std::to_string(i);
    RecordBinding row{id, alice_, "referral"};
    EXPECT_EQ(open_record(*fresh, row, sealed[i]).code(), Code::kCorrupt);
    EXPECT_EQ(open_record(*bobs_key, row, sealed[i]).code(), Code::kCorrupt);
    // Nor can a KEK be used as the data key.
    auto kek_as_data_key = DataKey::from_bytes(keks_.find(1)->expose());
    EXPECT_EQ(open_record(*kek_as_data_key, row, sealed[i]).code(), Code::kCorrupt);
  }
}

TEST(BoxSeal, OnlyTheRecipientOpens) {
  auto alice = BoxKeyPair::generate();
  auto eve = BoxKeyPair::generate();
  ASSERT_TRUE(alice.is_ok() && eve.is_ok());
  auto sealed = seal_to(alice->public_key(), bytes_of("delivery"));
  ASSERT_TRUE(sealed.is_ok());
  EXPECT_EQ(sealed->size(), 8 + kBoxSealOverhead);
  auto opened = open_sealed(*alice, *sealed);
  ASSERT_TRUE(opened.is_ok());
  EXPECT_EQ(text_of(*opened), "delivery");
  EXPECT_EQ(open_sealed(*eve, *sealed).code(), Code::kCorrupt);
}

TEST(BoxSeal, AlteredOrTruncatedDeliveryIsRefused) {
  auto alice = BoxKeyPair::generate();
  auto sealed = seal_to(alice->public_key(), bytes_of("delivery"));
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    auto bad = *sealed;
    bad[i] ^= 0x01;
    EXPECT_EQ(open_sealed(*alice, bad).code(), Code::kCorrupt) << i;
  }
  EXPECT_EQ(open_sealed(*alice, std::span(sealed->data(), kBoxSealOverhead - 1)).code(),
            Code::kCorrupt);
}

TEST(BoxSeal, KeyPairRebuildsFromItsSecretAndPublicKeyRoundTripsHex) {
  auto a = BoxKeyPair::generate();
  auto b = BoxKeyPair::from_secret(a->secret_key().clone().value());
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(a->public_key(), b->public_key());
  auto pk = BoxPublicKey::from_hex(a->public_key().to_hex());
  ASSERT_TRUE(pk.is_ok());
  EXPECT_EQ(*pk, a->public_key());
  EXPECT_FALSE(BoxPublicKey::from_hex("00").is_ok());
  auto sealed = seal_to(*pk, bytes_of("x"));
  EXPECT_EQ(text_of(*open_sealed(*b, *sealed)), "x");
}

}  // namespace
}  // namespace brug::crypto
