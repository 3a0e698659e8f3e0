#include "policies/policy_set.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing.h"

namespace brug {
namespace {

using nlohmann::json;
using testing::date;
using testing::policy_set_from;

const Flow kGemeenteToProject{{Role::kGemeente, "oude-ijsselstreek"},
                              {Role::kProject, "jhm-soest"},
                              RecordType::kReferral,
                              Purpose::kBegeleidingNaarWerk};
const CategorySet kAll{Category::kContact, Category::kProfiel, Category::kSegmentatie};

std::string permit(std::string_view id, std::string_view fields,
                   std::string_view extra = R"("to": "project", "basis": "consent")") {
  return R"({"id": ")" + std::string(id) + R"(", "version": 1, "from": "gemeente", )" +
         std::string(extra) +
         R"(, "record": "referral", "purpose": "begeleiding-naar-werk", "fields": )" +
         std::string(fields) + "}";
}

json view_of(const PolicySet& set, const Flow& flow, const json& record,
             CategorySet consent = kAll) {
  const Decision d = set.view_for(flow, record, consent, date("2026-05-01"));
  if (!d.permitted()) return json("refused: " + d.refusal().reason);
  return d.view().to_json();
}

TEST(PolicySet, UnlistedFieldsAreDropped) {
  auto set = policy_set_from({permit("p", R"({"doelgroep": {}})")});
  EXPECT_EQ(view_of(set, kGemeenteToProject,
                    {{"doelgroep", "zorg"}, {"voornaam", "Anna"}, {"onbekend", 1}}),
            json({{"doelgroep", "zorg"}}));
}

TEST(PolicySet, UnlistedFlowIsRefused) {
  auto set = policy_set_from({permit("p", R"({"doelgroep": {}})")});
  Flow other = kGemeenteToProject;
  other.purpose = Purpose::kMonitoring;
  const Decision d = set.view_for(other, {{"doelgroep", "zorg"}}, kAll, date("2026-05-01"));
  ASSERT_FALSE(d.permitted());
  EXPECT_EQ(d.refusal().kind, Refusal::Kind::kNoPolicy);
  EXPECT_EQ(d.refusal().reason,
            "no policy permits this flow: gemeente:oude-ijsselstreek -> project:jhm-soest "
            "referral monitoring");
}

TEST(PolicySet, ViewListsDisclosedFieldsAndPolicies) {
  auto set = policy_set_from(
      {permit("p", R"({"geboortedatum": {"transform": "age_band"}, "doelgroep": {}})")});
  const Decision d =
      set.view_for(kGemeenteToProject, {{"geboortedatum", "1971-03-02"}, {"doelgroep", "zorg"}},
                   kAll, date("2026-05-01"));
  ASSERT_TRUE(d.permitted());
  EXPECT_EQ(d.view().disclosed(), (std::vector<std::string>{"doelgroep", "leeftijdsgroep"}));
  EXPECT_EQ(d.view().policies, std::vector<std::string>{"p@1"});
  ASSERT_TRUE(d.view().find("leeftijdsgroep"));
  EXPECT_EQ(std::get<std::string>(*d.view().find("leeftijdsgroep")), "55-59");
}

TEST(PolicySet, ConsentBasisDisclosesOnlyConsentedCategories) {
  auto set = policy_set_from({permit("p", R"({"voornaam": {}, "doelgroep": {}})")});
  json record = {{"voornaam", "Anna"}, {"doelgroep", "zorg"}};
  EXPECT_EQ(view_of(set, kGemeenteToProject, record, {Category::kSegmentatie}),
            json({{"doelgroep", "zorg"}}));
  EXPECT_EQ(view_of(set, kGemeenteToProject, record, {}), json::object());
}

TEST(PolicySet, PublicTaskBasisNeedsNoConsent) {
  auto set = policy_set_from({permit("p", R"({"voornaam": {}, "bsn": {}})",
                                     R"("to": "participatiebedrijf", "basis": "public-task")")});
  Flow flow = kGemeenteToProject;
  flow.to = {Role::kParticipatiebedrijf, "laborijn"};
  EXPECT_EQ(view_of(set, flow, {{"voornaam", "Anna"}, {"bsn", "123456782"}}, {}),
            json({{"bsn", "123456782"}, {"voornaam", "Anna"}}));
}

TEST(PolicySet, DenyOfAFieldBeatsAPermit) {
  auto set = policy_set_from(
      {permit("p", R"({"voornaam": {}, "doelgroep": {}})"),
       R"({"id": "d", "version": 2, "from": "*", "to": "project", "record": "referral",
           "purpose": "begeleiding-naar-werk", "effect": "deny", "fields": {"voornaam": {}}})"});
  const Decision d = set.view_for(kGemeenteToProject, {{"voornaam", "Anna"}, {"doelgroep", "zorg"}},
                                  kAll, date("2026-05-01"));
  ASSERT_TRUE(d.permitted());
  EXPECT_EQ(d.view().to_json(), json({{"doelgroep", "zorg"}}));
  EXPECT_EQ(d.view().policies, (std::vector<std::string>{"d@2", "p@1"}));
  EXPECT_EQ(set.plan_for(kGemeenteToProject).withheld,
            (std::vector<std::pair<std::string, std::string>>{{"voornaam", "d@2"}}));
}

TEST(PolicySet, DenyOfTheWholeFlowRefusesIt) {
  auto set = policy_set_from(
      {permit("p", R"({"doelgroep": {}})"),
       R"({"id": "stop", "version": 1, "from": "gemeente", "to": "*", "record": "referral",
           "purpose": "begeleiding-naar-werk", "effect": "deny"})"});
  const Decision d =
      set.view_for(kGemeenteToProject, {{"doelgroep", "zorg"}}, kAll, date("2026-05-01"));
  ASSERT_FALSE(d.permitted());
  EXPECT_EQ(d.refusal().kind, Refusal::Kind::kDenied);
  EXPECT_EQ(d.refusal().policy, "stop@1");
}

TEST(PolicySet, TwoPermitsListingTheSameFieldAlikeAreFine) {
  auto set = policy_set_from({permit("a", R"({"doelgroep": {}, "voornaam": {}})"),
                              permit("b", R"({"doelgroep": {}, "taalniveau": {}})")});
  EXPECT_EQ(view_of(set, kGemeenteToProject,
                    {{"doelgroep", "zorg"}, {"voornaam", "Anna"}, {"taalniveau", "B1"}}),
            json({{"doelgroep", "zorg"}, {"taalniveau", "B1"}, {"voornaam", "Anna"}}));
}

TEST(PolicySet, OrganisationSpecificPolicyAppliesOnlyToThatOrganisation) {
  auto set = policy_set_from(
      {permit("all-projects", R"({"doelgroep": {}})"),
       permit("soest-only", R"({"taalniveau": {}})",
              R"("to": {"role": "project", "org": "jhm-soest"}, "basis": "consent")")});
  json record = {{"doelgroep", "zorg"}, {"taalniveau", "B1"}};
  EXPECT_EQ(view_of(set, kGemeenteToProject, record),
            json({{"doelgroep", "zorg"}, {"taalniveau", "B1"}}));
  Flow leusden = kGemeenteToProject;
  leusden.to.org = "reconnact-leusden";
  EXPECT_EQ(view_of(set, leusden, record), json({{"doelgroep", "zorg"}}));
}

TEST(PolicySet, ValueThatDoesNotFitItsTypeIsWithheld) {
  auto set = policy_set_from(
      {permit("p", R"({"geboortedatum": {"transform": "age_band"}, "participatieladder": {},
                       "postcode": {"transform": "postcode4"}, "doelgroep": {}})")});
  EXPECT_EQ(view_of(set, kGemeenteToProject,
                    {{"geboortedatum", "2030-01-01"},  // born after today
                     {"participatieladder", "drie"},
                     {"postcode", "nowhere"},
                     {"doelgroep", "zorg"}}),
            json({{"doelgroep", "zorg"}}));
}

TEST(PolicySet, NonObjectRecordGivesAnEmptyView) {
  auto set = policy_set_from({permit("p", R"({"doelgroep": {}})")});
  EXPECT_EQ(view_of(set, kGemeenteToProject, json::array({1, 2})), json::object());
}

TEST(PolicySet, ContentHashIgnoresFormattingButNotMeaning) {
  auto a = policy_set_from({permit("p", R"({"doelgroep": {}})")});
  auto b = policy_set_from({permit("p", R"({
      "doelgroep":   {}
  })")});
  auto c = policy_set_from({permit("p", R"({"doelgroep": {}, "voornaam": {}})")});
  EXPECT_EQ(a.content_hash().size(), 64u);
  EXPECT_EQ(a.content_hash(), b.content_hash());
  EXPECT_NE(a.content_hash(), c.content_hash());
}

TEST(PolicySet, ShippedPoliciesNeverSendABsnToAProject) {
  const PolicySet& set = testing::shipped_policies();
  for (Role from : {Role::kGemeente, Role::kParticipatiebedrijf, Role::kProject}) {
    for (Purpose purpose : {Purpose::kBegeleidingNaarWerk, Purpose::kResultaatverantwoording,
                            Purpose::kMonitoring, Purpose::kUitvoeringParticipatiewet}) {
      for (RecordType record : {RecordType::kReferral, RecordType::kOutcome}) {
        const FlowPlan plan = set.plan_for({{from, ""}, {Role::kProject, "x"}, record, purpose});
        for (const PlannedField& f : plan.fields) {
          EXPECT_NE(f.category, Category::kIdentificatie) << f.field;
          EXPECT_FALSE(is_special(f.category)) << f.field;
        }
      }
    }
  }
}

}  // namespace
}  // namespace brug
