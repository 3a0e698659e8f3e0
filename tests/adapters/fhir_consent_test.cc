#include "adapters/formats/fhir_consent.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

namespace brug::adapters {
namespace {

using consent::Consent;
using consent::EventKind;
using consent::EvidenceMethod;
using nlohmann::json;

constexpr const char* kPatient = "Patient/pseudo-7f3a";
constexpr const char* kNow = "2026-06-01T12:00:00.000Z";

Consent make_consent(EvidenceMethod method = EvidenceMethod::kSchriftelijk) {
  Consent c;
  c.id = "cns_abcdefghijklmnopqrstuvwxyz";
  c.participant = std::string(64, 'a');
  c.grantee = "reconnact-leusden";
  c.purpose = Purpose::kBegeleidingNaarWerk;
  c.categories = {"contact", "profiel", "segmentatie"};
  c.valid_from = *consent::Date::parse("2026-01-01");
  c.valid_until = *consent::Date::parse("2026-12-31");
  c.evidence = {method, "formulier 2026-014"};
  c.recorded_by = "gemeente-oude-ijsselstreek";
  c.recorded_at = "2026-01-01T09:00:00.000Z";
  c.events.push_back({EventKind::kGiven, c.recorded_at, c.recorded_by});
  return c;
}

json exported() { return to_fhir_consent(make_consent(), kPatient, kNow); }

json& permit(json& r) { return r["provision"]["provision"][0]; }

json load_example(const std::string& name) {
  std::ifstream in(std::string(BRUG_SOURCE_DIR) + "/tests/adapters/data/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// The path the refusal names: everything before the first ": ".
std::string refused_path(const Result<FhirConsentImport>& r) {
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.code(), Code::kInvalidArgument);
  return r.message().substr(0, r.message().find(": "));
}

TEST(FhirConsentExport, HasTheRequiredR4ElementsAndADefaultDenyRootWithOnePermit) {
  const json r = exported();
  EXPECT_EQ(r["resourceType"], "Consent");
  EXPECT_TRUE(std::regex_match(r["id"].get<std::string>(), std::regex("[A-Za-z0-9\\-.]{1,64}")));
  EXPECT_EQ(r["status"], "active");
  EXPECT_EQ(r["scope"]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/consentscope");
  EXPECT_EQ(r["scope"]["coding"][0]["code"], "patient-privacy");
  ASSERT_EQ(r["category"].size(), 1u);
  EXPECT_EQ(r["category"][0]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(r["category"][0]["coding"][0]["code"], "59284-0");
  EXPECT_EQ(r["patient"]["reference"], kPatient);            // ppc-2: privacy scope needs a patient
  EXPECT_EQ(r["policyRule"]["coding"][0]["code"], "OPTIN");  // ppc-1: policy or policyRule
  EXPECT_EQ(r["dateTime"], "2026-01-01T09:00:00.000Z");
  EXPECT_EQ(r["organization"][0]["reference"], "Organization/gemeente-oude-ijsselstreek");

  const json& root = r["provision"];
  EXPECT_EQ(root["type"], "deny");
  EXPECT_EQ(root.size(), 2u) << "the root carries no conditions of its own";
  ASSERT_EQ(root["provision"].size(), 1u);
  const json& p = root["provision"][0];
  EXPECT_EQ(p["type"], "permit");
  EXPECT_EQ(p["period"], json({{"start", "2026-01-01"}, {"end", "2026-12-31"}}));
  EXPECT_EQ(p["actor"][0]["role"]["coding"][0]["code"], "IRCP");
  EXPECT_EQ(p["actor"][0]["reference"]["reference"], "Organization/reconnact-leusden");
  EXPECT_EQ(p["purpose"], json::parse(R"([{"system":"urn:brug:purpose",
                                            "code":"begeleiding-naar-werk"}])"));
  ASSERT_EQ(p["class"].size(), 3u);
  EXPECT_EQ(p["class"][0], json({{"system", "urn:brug:category"}, {"code", "contact"}}));
}

TEST(FhirConsentExport, KeepsTheExactConsentIdInAnIdentifierBecauseFhirIdsHaveNoUnderscore) {
  const json r = exported();
  EXPECT_EQ(r["id"], "cns-abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(r["identifier"][0]["system"], "urn:brug:consent");
  EXPECT_EQ(r["identifier"][0]["value"], "cns_abcdefghijklmnopqrstuvwxyz");
}

TEST(FhirConsentExport, NeverContainsTheParticipantIndex) {
  EXPECT_EQ(exported().dump().find(std::string(64, 'a')), std::string::npos);
}

TEST(FhirConsentExport, AWithdrawnConsentIsInactiveAndCarriesTheWithdrawal) {
  Consent c = make_consent();
  c.events.push_back({EventKind::kWithdrawn, "2026-03-01T10:00:00.000Z", "reconnact-leusden"});
  const json r = to_fhir_consent(c, kPatient, kNow);
  EXPECT_EQ(r["status"], "inactive");
  ASSERT_EQ(r["extension"].size(), 1u);
  EXPECT_EQ(r["extension"][0]["url"], "urn:brug:fhir:withdrawal");
  EXPECT_EQ(r["extension"][0]["extension"][0]["valueDateTime"], "2026-03-01T10:00:00.000Z");
  EXPECT_EQ(r["extension"][0]["extension"][1]["valueReference"]["reference"],
            "Organization/reconnact-leusden");
  EXPECT_EQ(r["provision"]["provision"][0]["period"]["end"], "2026-12-31")
      << "withdrawal does not rewrite the period that was agreed";
}

TEST(FhirConsentExport, AnExpiredConsentIsInactive) {
  EXPECT_EQ(to_fhir_consent(make_consent(), kPatient, "2027-01-01T00:00:00.000Z")["status"],
            "inactive");
}

TEST(FhirConsentExport, IsActiveOnTheLastDayOfThePeriod) {
  EXPECT_EQ(to_fhir_consent(make_consent(), kPatient, "2026-12-31T23:59:59.999Z")["status"],
            "active");
}

TEST(FhirConsentExport, ANotYetValidConsentIsActiveAndItsPeriodSaysFromWhen) {
  const json r = to_fhir_consent(make_consent(), kPatient, "2025-06-01T00:00:00.000Z");
  EXPECT_EQ(r["status"], "active");
  EXPECT_EQ(r["provision"]["provision"][0]["period"]["start"], "2026-01-01");
}

TEST(FhirConsentRoundTrip, KeepsPurposeCategoriesPeriodGranteeAndEvidence) {
  for (EvidenceMethod m :
       {EvidenceMethod::kSchriftelijk, EvidenceMethod::kDigitaal, EvidenceMethod::kMondeling}) {
    const Consent c = make_consent(m);
    auto r = from_fhir_consent(to_fhir_consent(c, kPatient, kNow));
    ASSERT_TRUE(r.is_ok()) << r.message();
    const consent::NewConsent& n = r->consent;
    EXPECT_EQ(n.purpose, c.purpose);
    EXPECT_EQ(n.categories, c.categories);
    EXPECT_EQ(n.valid_from, c.valid_from);
    EXPECT_EQ(n.valid_until, c.valid_until);
    EXPECT_EQ(n.grantee, c.grantee);
    EXPECT_EQ(n.evidence.method, m);
    EXPECT_EQ(n.evidence.reference, c.evidence.reference);
    EXPECT_TRUE(n.participant.empty()) << "the caller resolves the patient reference";
    EXPECT_EQ(r->patient_reference, kPatient);
    EXPECT_EQ(r->consent_id, c.id);
    EXPECT_EQ(r->recorded_by, c.recorded_by);
    EXPECT_EQ(r->recorded_at, c.recorded_at);
    EXPECT_TRUE(r->active);
    EXPECT_FALSE(r->withdrawal.has_value());
  }
}

TEST(FhirConsentRoundTrip, AnUnnamedPatientIsDisplayedOnlyAndLeftForTheCallerToIdentify) {
  const json r = to_fhir_consent(make_consent(), "", kNow);
  EXPECT_EQ(r["patient"], json({{"display", kFhirUnnamedPatient}}));  // ppc-2 still holds
  EXPECT_EQ(r["performer"][0], r["patient"]);
  auto back = from_fhir_consent(r);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_TRUE(back->patient_reference.empty());
  EXPECT_EQ(back->consent.grantee, make_consent().grantee);
}

TEST(FhirConsentRoundTrip, KeepsTheWithdrawalOfAWithdrawnConsent) {
  Consent c = make_consent();
  c.events.push_back({EventKind::kWithdrawn, "2026-03-01T10:00:00.000Z", "reconnact-leusden"});
  auto r = from_fhir_consent(to_fhir_consent(c, kPatient, kNow));
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_FALSE(r->active);
  ASSERT_TRUE(r->withdrawal.has_value());
  EXPECT_EQ(r->withdrawal->kind, EventKind::kWithdrawn);
  EXPECT_EQ(r->withdrawal->at, "2026-03-01T10:00:00.000Z");
  EXPECT_EQ(r->withdrawal->actor, "reconnact-leusden");
}

TEST(FhirConsentRoundTrip, ImportsAnExpiredConsentAsInactiveWithoutAWithdrawal) {
  auto r = from_fhir_consent(to_fhir_consent(make_consent(), kPatient, "2027-02-01T00:00:00Z"));
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_FALSE(r->active);
  EXPECT_FALSE(r->withdrawal.has_value());
}

TEST(FhirConsentImport, IgnoresNarrativeMetaAndForeignNonModifierExtensions) {
  json r = exported();
  r["text"] = {{"status", "generated"}, {"div", "<div xmlns=\"http://www.w3.org/1999/xhtml\"/>"}};
  r["meta"] = {{"versionId", "3"}};
  r["extension"] = json::parse(R"([{"url":"http://example.org/x","valueString":"y"}])");
  EXPECT_TRUE(from_fhir_consent(r).is_ok());
}

TEST(FhirConsentImport, AcceptsTheAccessActionAndNoActionAtAll) {
  json r = exported();
  permit(r)["action"][0]["coding"][0]["code"] = "access";
  EXPECT_TRUE(from_fhir_consent(r).is_ok());
  permit(r).erase("action");
  EXPECT_TRUE(from_fhir_consent(r).is_ok());
}

TEST(FhirConsentImport, SortsAndDeduplicatesCategories) {
  json r = exported();
  permit(r)["class"] = json::parse(R"([{"system":"urn:brug:category","code":"uitkomsten"},
      {"system":"urn:brug:category","code":"contact"},
      {"system":"urn:brug:category","code":"uitkomsten"}])");
  auto i = from_fhir_consent(r);
  ASSERT_TRUE(i.is_ok()) << i.message();
  EXPECT_EQ(i->consent.categories, (std::vector<std::string>{"contact", "uitkomsten"}));
}

// One refusal: how to spoil a good export, and the element the refusal must name.
struct Refusal {
  const char* name;
  std::function<void(json&)> spoil;
  std::string path;
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }

class FhirConsentRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(FhirConsentRefusal, NamesTheOffendingElement) {
  json r = exported();
  GetParam().spoil(r);
  EXPECT_EQ(refused_path(from_fhir_consent(r)), GetParam().path);
}

const std::string kP = "Consent.provision.provision[0]";
constexpr const char* kSecret = "999999990";  // stands for a BSN smuggled into a value

const std::vector<Refusal> kRefusals = {
    {"NotAnObject", [](json& r) { r = json::array(); }, "Consent"},
    {"WrongResourceType", [](json& r) { r["resourceType"] = "Patient"; }, "Consent.resourceType"},
    {"ModifierExtension", [](json& r) { r["modifierExtension"] = json::array(); },
     "Consent.modifierExtension"},
    {"ImplicitRules", [](json& r) { r["implicitRules"] = "http://x"; }, "Consent.implicitRules"},
    {"SourceAttachment",
     [](json& r) {
       r["sourceAttachment"] = {{"title", "t"}};
     },
     "Consent.sourceAttachment"},
    {"ContainedResources", [](json& r) { r["contained"] = json::array(); }, "Consent.contained"},
    {"HostileKeyIsNotEchoed", [](json& r) { r[std::string("bsn=") + kSecret] = 1; },
     "Consent.<unrecognised element>"},
    {"MissingStatus", [](json& r) { r.erase("status"); }, "Consent.status"},
    {"DraftStatus", [](json& r) { r["status"] = "draft"; }, "Consent.status"},
    {"StatusNotAString", [](json& r) { r["status"] = 1; }, "Consent.status"},
    {"ResearchScope", [](json& r) { r["scope"]["coding"][0]["code"] = "research"; },
     "Consent.scope"},
    {"NoCategory", [](json& r) { r["category"] = json::array(); }, "Consent.category"},
    {"NoPatient", [](json& r) { r.erase("patient"); }, "Consent.patient"},
    {"PatientWithoutReferenceOrDisplay", [](json& r) { r["patient"] = json::object(); },
     "Consent.patient.reference"},
    {"PatientWithAnEmptyDisplay",
     [](json& r) {
       r["patient"] = {{"display", ""}};
     },
     "Consent.patient.reference"},
    {"NoProvision", [](json& r) { r.erase("provision"); }, "Consent.provision"},
    {"RootPermit", [](json& r) { r["provision"]["type"] = "permit"; }, "Consent.provision.type"},
    {"RootWithoutType", [](json& r) { r["provision"].erase("type"); }, "Consent.provision.type"},
    {"ConditionOnTheRoot",
     [](json& r) {
       const json purpose = permit(r)["purpose"];
       r["provision"]["purpose"] = purpose;
     },
     "Consent.provision.purpose"},
    {"NoNestedPermit", [](json& r) { r["provision"].erase("provision"); },
     "Consent.provision.provision"},
    {"TwoNestedPermits",
     [](json& r) {
       const json copy = permit(r);
       r["provision"]["provision"].push_back(copy);
     },
     "Consent.provision.provision"},
    {"NestedDeny", [](json& r) { permit(r)["type"] = "deny"; }, kP + ".type"},
    {"DenyNestedInThePermit",
     [](json& r) { permit(r)["provision"] = json::parse(R"([{"type":"deny"}])"); },
     kP + ".provision"},
    {"SecurityLabel", [](json& r) { permit(r)["securityLabel"] = json::array(); },
     kP + ".securityLabel"},
    {"DataReferences", [](json& r) { permit(r)["data"] = json::array(); }, kP + ".data"},
    {"DataPeriod", [](json& r) { permit(r)["dataPeriod"] = json::object(); }, kP + ".dataPeriod"},
    {"NoPeriod", [](json& r) { permit(r).erase("period"); }, kP + ".period"},
    {"OpenEndedPeriod", [](json& r) { permit(r)["period"].erase("end"); }, kP + ".period.end"},
    {"ImpossibleStart", [](json& r) { permit(r)["period"]["start"] = "2026-02-30"; },
     kP + ".period.start"},
    {"StartWithATime", [](json& r) { permit(r)["period"]["start"] = "2026-01-01T00:00:00Z"; },
     kP + ".period.start"},
    {"EndBeforeStart", [](json& r) { permit(r)["period"]["end"] = "2025-12-31"; },
     kP + ".period.end"},
    {"NoActor", [](json& r) { permit(r).erase("actor"); }, kP + ".actor"},
    {"TwoActors",
     [](json& r) {
       const json copy = permit(r)["actor"][0];
       permit(r)["actor"].push_back(copy);
     },
     kP + ".actor"},
    {"ActorIsNotTheRecipient",
     [](json& r) { permit(r)["actor"][0]["role"]["coding"][0]["code"] = "PRCP"; },
     kP + ".actor[0].role"},
    {"ActorIsAPractitioner",
     [](json& r) { permit(r)["actor"][0]["reference"]["reference"] = "Practitioner/13"; },
     kP + ".actor[0].reference.reference"},
    {"ActorOrganisationIdWithASlash",
     [](json& r) { permit(r)["actor"][0]["reference"]["reference"] = "Organization/a/b"; },
     kP + ".actor[0].reference.reference"},
    {"CollectAction", [](json& r) { permit(r)["action"][0]["coding"][0]["code"] = "collect"; },
     kP + ".action[0]"},
    {"NoPurpose", [](json& r) { permit(r).erase("purpose"); }, kP + ".purpose"},
    {"TwoPurposes",
     [](json& r) {
       const json copy = permit(r)["purpose"][0];
       permit(r)["purpose"].push_back(copy);
     },
     kP + ".purpose"},
    {"ForeignPurposeSystem",
     [](json& r) {
       permit(r)["purpose"][0]["system"] = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
     },
     kP + ".purpose[0].system"},
    {"UnknownPurpose", [](json& r) { permit(r)["purpose"][0]["code"] = kSecret; },
     kP + ".purpose[0].code"},
    {"NoClass", [](json& r) { permit(r)["class"] = json::array(); }, kP + ".class"},
    {"UnknownCategory", [](json& r) { permit(r)["class"][1]["code"] = kSecret; },
     kP + ".class[1].code"},
    {"CategorySystemOfTheWrongType", [](json& r) { permit(r)["class"][0]["system"] = 7; },
     kP + ".class[0].system"},
    {"NoEvidence", [](json& r) { r.erase("sourceReference"); }, "Consent.sourceReference"},
    {"EvidenceAsAPlainReference",
     [](json& r) {
       r["sourceReference"] = {{"reference", "DocumentReference/1"}};
     },
     "Consent.sourceReference.identifier"},
    {"UnknownEvidenceMethod",
     [](json& r) {
       r["sourceReference"]["identifier"]["type"]["coding"][0]["code"] = "telepathisch";
     },
     "Consent.sourceReference.identifier.type"},
    {"EmptyEvidenceReference", [](json& r) { r["sourceReference"]["identifier"]["value"] = ""; },
     "Consent.sourceReference.identifier.value"},
    {"TwoCustodians",
     [](json& r) {
       const json copy = r["organization"][0];
       r["organization"].push_back(copy);
     },
     "Consent.organization"},
    {"CustodianIsNotAnOrganisation",
     [](json& r) { r["organization"][0]["reference"] = "Patient/1"; },
     "Consent.organization[0].reference"},
    {"DateWithoutTime", [](json& r) { r["dateTime"] = "2016-05-11"; }, "Consent.dateTime"},
    {"WithdrawalOnAnActiveConsent",
     [](json& r) {
       r["extension"] = json::parse(R"([{"url":"urn:brug:fhir:withdrawal","extension":[
           {"url":"at","valueDateTime":"2026-03-01T10:00:00Z"},
           {"url":"by","valueReference":{"reference":"Organization/x1"}}]}])");
     },
     "Consent.status"},
    {"WithdrawalWithoutActor",
     [](json& r) {
       r["status"] = "inactive";
       r["extension"] = json::parse(R"([{"url":"urn:brug:fhir:withdrawal","extension":[
           {"url":"at","valueDateTime":"2026-03-01T10:00:00Z"}]}])");
     },
     "Consent.extension[0].extension"},
    {"WithdrawalAtADate",
     [](json& r) {
       r["status"] = "inactive";
       r["extension"] = json::parse(R"([{"url":"urn:brug:fhir:withdrawal","extension":[
           {"url":"at","valueDateTime":"2026-03-01"}]}])");
     },
     "Consent.extension[0].extension[0].valueDateTime"},
};

INSTANTIATE_TEST_SUITE_P(EveryPath, FhirConsentRefusal, ::testing::ValuesIn(kRefusals),
                         [](const ::testing::TestParamInfo<Refusal>& info) {
                           return std::string(info.param.name);
                         });

TEST(FhirConsentImport, NeverEchoesAValueFromTheResource) {
  for (const Refusal& refusal : kRefusals) {
    json r = exported();
    refusal.spoil(r);
    auto i = from_fhir_consent(r);
    ASSERT_FALSE(i.is_ok()) << refusal.name;
    EXPECT_EQ(i.message().find(kSecret), std::string::npos) << refusal.name;
  }
}

// The official HL7 examples (tests/adapters/data/README.md). They use vocabularies brug does not
// have, so they are refused; the test walks consent-example-basic towards brug's shape one
// element at a time to show that every refusal on the way names the right element.
TEST(FhirConsentExample, TheOfficialBasicExampleIsRefusedElementByElement) {
  json r = load_example("consent-example-basic.json");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.sourceAttachment");

  r.erase("sourceAttachment");  // brug needs the evidence method and reference
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.type")
      << "the root provision has no type: brug needs an explicit default deny";

  r["provision"]["type"] = "deny";
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.action")
      << "the root carries conditions (actor, purpose, class, ...)";

  const json period = r["provision"]["period"];
  for (const char* key :
       {"period", "actor", "action", "securityLabel", "purpose", "class", "code", "data"}) {
    r["provision"].erase(key);
  }
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.provision[0].code")
      << "the permit restricts to LOINC document codes, which brug cannot represent";

  permit(r).erase("code");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.provision[0].period");

  permit(r)["period"] = period;
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.provision[0].actor[0].role")
      << "the actor is the author (AUT), not a recipient";

  permit(r)["actor"][0]["role"]["coding"][0]["code"] = "IRCP";
  EXPECT_EQ(refused_path(from_fhir_consent(r)),
            "Consent.provision.provision[0].actor[0].reference.reference")
      << "the actor is a Practitioner, brug grants to organisations";

  permit(r)["actor"][0]["reference"]["reference"] = "Organization/f001";
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.provision[0].purpose");

  permit(r)["purpose"] = json::parse(R"([{"system":"urn:brug:purpose","code":"monitoring"}])");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.provision[0].class[0].system")
      << "the class is a MIME type (urn:ietf:bcp:13)";

  permit(r)["class"] = json::parse(R"([{"system":"urn:brug:category","code":"profiel"}])");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.sourceReference");
}

TEST(FhirConsentExample, TheOfficialEmergencyExampleIsRefusedForItsNestedDeny) {
  json r = load_example("consent-example-Emergency.json");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.sourceAttachment");
  r.erase("sourceAttachment");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.type");
  r["provision"]["type"] = "deny";
  r["provision"].erase("actor");
  r["provision"].erase("purpose");
  EXPECT_EQ(refused_path(from_fhir_consent(r)), "Consent.provision.provision[0].type")
      << "a deny inside the default deny is an exception brug cannot represent";
}

TEST(FhirConsentExample, ExportedResourcesUseOnlyElementsTheOfficialExamplesAlsoUse) {
  // A structural sanity check of the export against a resource shape brug did not write: every
  // top-level element brug writes is an R4 Consent element the examples use too (or identifier,
  // policyRule, extension, sourceReference from the same R4 element list).
  const json basic = load_example("consent-example-basic.json");
  const json mine = exported();
  for (const auto& [key, value] : mine.items()) {
    const bool in_example = basic.contains(key);
    const bool other_r4 = key == "sourceReference" || key == "extension";
    EXPECT_TRUE(in_example || other_r4) << key;
  }
  for (const auto& [key, value] : mine["provision"]["provision"][0].items()) {
    EXPECT_TRUE(basic["provision"].contains(key) ||
                basic["provision"]["provision"][0].contains(key))
        << "provision." << key;
  }
}

}  // namespace
}  // namespace brug::adapters
