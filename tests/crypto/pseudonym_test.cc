#include "crypto/pseudonym.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/encoding.h"

namespace brug::crypto {
namespace {

class Pseudonyms : public ::testing::Test {
 protected:
  ParticipantIndex index_of(const char* bsn) {
    return participant_index(pidx_key_, *Bsn::parse(bsn));
  }
  PseudonymKey key_ = PseudonymKey::generate().value();
  ParticipantIndexKey pidx_key_ = ParticipantIndexKey::generate().value();
  ParticipantIndex alice_ = index_of("111222333");
  ParticipantIndex bob_ = index_of("123456782");
};

TEST_F(Pseudonyms, AreStableWithinAnOrganisation) {
  auto a = pseudonym(key_, "gemeente-utrecht", alice_);
  auto b = pseudonym(key_, "gemeente-utrecht", alice_);
  ASSERT_TRUE(a.is_ok()) << a.message();
  EXPECT_EQ(*a, *b);
}

TEST_F(Pseudonyms, DifferBetweenOrganisationsAndParticipants) {
  auto a = pseudonym(key_, "gemeente-utrecht", alice_);
  auto b = pseudonym(key_, "project-werkfit", alice_);
  auto c = pseudonym(key_, "gemeente-utrecht", bob_);
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, *c);
  // Org ids that differ only by a prefix/suffix do not share keys either.
  EXPECT_NE(*pseudonym(key_, "org", alice_), *pseudonym(key_, "org1", alice_));
}

TEST_F(Pseudonyms, ResolveBackToTheParticipantInsideTheGateway) {
  auto p = pseudonym(key_, "project-werkfit", alice_);
  auto back = resolve(key_, "project-werkfit", *p);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(*back, alice_);
}

TEST_F(Pseudonyms, PresentedByAnotherOrganisationAreRefused) {
  auto p = pseudonym(key_, "project-werkfit", alice_);
  auto other = resolve(key_, "project-andere", *p);
  EXPECT_EQ(other.code(), Code::kPermissionDenied);
  EXPECT_EQ(other.message().find(p->text()), std::string::npos);
}

TEST_F(Pseudonyms, CannotBeResolvedWithAnotherGatewaysKey) {
  auto p = pseudonym(key_, "org", alice_);
  auto other_key = PseudonymKey::generate();
  EXPECT_EQ(resolve(*other_key, "org", *p).code(), Code::kPermissionDenied);
}

TEST_F(Pseudonyms, AnyChangedCharacterIsDetected) {
  auto p = pseudonym(key_, "org", alice_);
  const std::string text = p->text();
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string changed = text;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    auto parsed = Pseudonym::parse(changed);
    if (!parsed.is_ok()) continue;  // non-canonical last character: refused at parse
    EXPECT_EQ(resolve(key_, "org", *parsed).code(), Code::kPermissionDenied) << "position " << i;
  }
}

TEST_F(Pseudonyms, TextIsUrlSafeAndFixedLength) {
  std::set<std::string> seen;
  for (int n = 0; n < 200; ++n) {
    auto idx = ParticipantIndex::from_bytes(std::vector<std::uint8_t>(32, std::uint8_t(n)));
    auto p = pseudonym(key_, "org", *idx);
    ASSERT_EQ(p->text().size(), Pseudonym::kTextSize);
    for (char c : p->text()) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
    }
    seen.insert(p->text());
    auto reparsed = Pseudonym::parse(p->text());
    ASSERT_TRUE(reparsed.is_ok());
    EXPECT_EQ(*resolve(key_, "org", *reparsed), *idx);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(Pseudonyms, DoNotContainTheParticipantIndex) {
  auto p = pseudonym(key_, "org", alice_);
  EXPECT_EQ(p->text().find(alice_.to_hex().substr(0, 8)), std::string::npos);
}

TEST(Pseudonym, ParseRejectsWrongShapes) {
  EXPECT_EQ(Pseudonym::parse("").code(), Code::kInvalidArgument);
  EXPECT_EQ(Pseudonym::parse(std::string(95, 'A')).code(), Code::kInvalidArgument);
  EXPECT_EQ(Pseudonym::parse(std::string(97, 'A')).code(), Code::kInvalidArgument);
  EXPECT_EQ(Pseudonym::parse(std::string(95, 'A') + "+").code(), Code::kInvalidArgument);
  EXPECT_EQ(Pseudonym::parse(std::string(95, 'A') + "=").code(), Code::kInvalidArgument);
  EXPECT_TRUE(Pseudonym::parse(std::string(96, 'A')).is_ok());
}

TEST_F(Pseudonyms, WellFormedButForgedAreRefused) {
  auto forged = Pseudonym::parse(std::string(96, 'A'));
  EXPECT_EQ(resolve(key_, "org", *forged).code(), Code::kPermissionDenied);
}

TEST_F(Pseudonyms, RequireAnOrganisationId) {
  EXPECT_EQ(pseudonym(key_, "", alice_).code(), Code::kInvalidArgument);
  EXPECT_EQ(pseudonym(key_, std::string(256, 'x'), alice_).code(), Code::kInvalidArgument);
  EXPECT_TRUE(pseudonym(key_, std::string(255, 'x'), alice_).is_ok());
  auto p = pseudonym(key_, "org", alice_);
  EXPECT_EQ(resolve(key_, "", *p).code(), Code::kInvalidArgument);
}

TEST_F(Pseudonyms, ADomainGivesTheSameAnswersAsTheOneOffFunctions) {
  auto domain = PseudonymDomain::open(key_, "project-werkfit");
  ASSERT_TRUE(domain.is_ok());
  EXPECT_EQ(domain->org(), "project-werkfit");
  auto p = domain->pseudonym(alice_);
  EXPECT_EQ(*p, *pseudonym(key_, "project-werkfit", alice_));
  EXPECT_EQ(*domain->resolve(*p), alice_);
  auto other = PseudonymDomain::open(key_, "project-andere");
  EXPECT_EQ(other->resolve(*p).code(), Code::kPermissionDenied);
  EXPECT_EQ(PseudonymDomain::open(key_, "").code(), Code::kInvalidArgument);
}

TEST_F(Pseudonyms, SplicedPseudonymsAreRefused) {
  // The nonce of one valid pseudonym with the ciphertext of another.
  auto a = *from_base64url(pseudonym(key_, "org", alice_)->text(), "p");
  auto b = *from_base64url(pseudonym(key_, "org", bob_)->text(), "p");
  std::copy(b.begin(), b.begin() + 24, a.begin());
  auto mixed = Pseudonym::parse(to_base64url(a));
  ASSERT_TRUE(mixed.is_ok());
  EXPECT_EQ(resolve(key_, "org", *mixed).code(), Code::kPermissionDenied);
}

TEST_F(Pseudonyms, AuditPseudonymsAreStableOneWayAndSeparate) {
  auto audit_key = AuditPseudonymKey::generate();
  AuditPseudonym a = audit_pseudonym(*audit_key, alice_);
  EXPECT_EQ(a, audit_pseudonym(*audit_key, alice_));
  EXPECT_NE(a, audit_pseudonym(*audit_key, bob_));
  EXPECT_NE(a, audit_pseudonym(*AuditPseudonymKey::generate(), alice_));
  EXPECT_EQ(a.text().size(), AuditPseudonym::kTextSize);
  EXPECT_NE(a.text(), pseudonym(key_, "org", alice_)->text().substr(0, AuditPseudonym::kTextSize));
  auto parsed = AuditPseudonym::parse(a.text());
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, a);
  EXPECT_FALSE(AuditPseudonym::parse(a.text() + "A").is_ok());
  EXPECT_FALSE(AuditPseudonym::parse(std::string(43, '*')).is_ok());
}

}  // namespace
}  // namespace brug::crypto
