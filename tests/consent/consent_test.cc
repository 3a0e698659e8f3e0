#include "consent/consent.h"

#include <gtest/gtest.h>

namespace brug::consent {
namespace {

Consent make(const std::string& id, const char* from, const char* until,
             std::vector<std::string> categories = {"contact", "profiel"}) {
  Consent c;
  c.id = id;
  c.participant = std::string(64, 'a');
  c.grantee = "reconnact-leusden";
  c.purpose = Purpose::kBegeleidingNaarWerk;
  c.categories = std::move(categories);
  c.valid_from = *Date::parse(from);
  c.valid_until = *Date::parse(until);
  c.evidence = {EvidenceMethod::kSchriftelijk, "formulier 1"};
  c.recorded_by = "gemeente-oude-ijsselstreek";
  c.recorded_at = "2026-01-01T09:00:00.000Z";
  c.events.push_back({EventKind::kGiven, c.recorded_at, c.recorded_by});
  return c;
}

TEST(ConsentEvaluation, PermitsOnTheFirstAndLastDayOfThePeriod) {
  const std::vector<Consent> cs = {make("c1", "2026-01-01", "2026-12-31")};
  EXPECT_TRUE(evaluate(cs, "2026-01-01T00:00:00.000Z").permitted);
  EXPECT_TRUE(evaluate(cs, "2026-12-31T23:59:59.999Z").permitted);
}

TEST(ConsentEvaluation, DeniesTheDayBeforeAsNotYetValid) {
  const auto d = evaluate({make("c1", "2026-01-01", "2026-12-31")}, "2025-12-31T23:59:59.999Z");
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.reason, DenyReason::kNotYetValid);
}

TEST(ConsentEvaluation, DeniesTheDayAfterAsExpiredWithoutAnyBackgroundJob) {
  const auto d = evaluate({make("c1", "2026-01-01", "2026-12-31")}, "2027-01-01T00:00:00.000Z");
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.reason, DenyReason::kExpired);
}

TEST(ConsentEvaluation, WithdrawnConsentStopsDisclosureImmediately) {
  Consent c = make("c1", "2026-01-01", "2026-12-31");
  c.events.push_back({EventKind::kWithdrawn, "2026-06-01T10:00:00.000Z", "gemeente-x"});
  // Even an evaluation whose clock reads earlier than the withdrawal: it has committed.
  const auto d = evaluate({c}, "2026-06-01T09:59:59.000Z");
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.reason, DenyReason::kWithdrawn);
  EXPECT_EQ(c.status_at("2026-06-01T10:00:00.000Z"), ConsentStatus::kWithdrawn);
  EXPECT_EQ(c.status_at("2026-05-01T10:00:00.000Z"), ConsentStatus::kActive);
}

TEST(ConsentEvaluation, AnUncoveredCategoryIsDeniedAsSuch) {
  const auto d =
      evaluate({make("c1", "2026-01-01", "2026-12-31")}, "2026-03-01T00:00:00.000Z", "uitkomsten");
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.reason, DenyReason::kCategoryNotCovered);
  EXPECT_TRUE(
      evaluate({make("c1", "2026-01-01", "2026-12-31")}, "2026-03-01T00:00:00.000Z", "profiel")
          .permitted);
}

TEST(ConsentEvaluation, NoCandidatesMeansNoConsent) {
  const auto d = evaluate({}, "2026-03-01T00:00:00.000Z");
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.reason, DenyReason::kNoConsent);
}

TEST(ConsentEvaluation, SeveralActiveConsentsCoverTheUnionOfTheirCategories) {
  const auto d = evaluate({make("c1", "2026-01-01", "2026-12-31", {"contact"}),
                           make("c2", "2026-01-01", "2026-12-31", {"profiel", "segmentatie"}),
                           make("c3", "2020-01-01", "2020-12-31", {"uitkomsten"})},
                          "2026-03-01T00:00:00.000Z");
  EXPECT_TRUE(d.permitted);
  EXPECT_EQ(d.consent_ids, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(d.categories, (std::vector<std::string>{"contact", "profiel", "segmentatie"}));
}

TEST(ConsentEvaluation, WithdrawalIsReportedBeforeExpiry) {
  Consent w = make("c1", "2026-01-01", "2026-12-31");
  w.events.push_back({EventKind::kWithdrawn, "2026-02-01T00:00:00.000Z", "g"});
  const auto d = evaluate({make("c0", "2020-01-01", "2020-12-31"), w}, "2026-03-01T00:00:00.000Z");
  EXPECT_EQ(d.reason, DenyReason::kWithdrawn);
}

TEST(ConsentEvaluation, AnUnreadableClockDeniesRatherThanPermits) {
  EXPECT_FALSE(evaluate({make("c1", "2026-01-01", "2026-12-31")}, "garbage").permitted);
}

TEST(ConsentId, IsRandomAndWellFormed) {
  const std::string a = new_consent_id(), b = new_consent_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 30u);
  EXPECT_EQ(a.rfind("cns_", 0), 0u);
}

}  // namespace
}  // namespace brug::consent
