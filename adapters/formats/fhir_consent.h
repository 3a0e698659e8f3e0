// Import and export of a consent as an HL7 FHIR R4 Consent resource (docs/FHIR.md has the
// mapping). Export writes one shape: a root `deny` provision with one nested `permit` provision
// that carries the grantee, purpose, categories and period. Import accepts that shape only and
// refuses, naming the FHIR element, anything it cannot represent faithfully; messages never
// echo values from the resource.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "consent/consent.h"
#include "crypto/result.h"

namespace brug::adapters {

// The code systems brug defines for the codes FHIR has no value set for.
inline constexpr std::string_view kFhirPurposeSystem = "urn:brug:purpose";
inline constexpr std::string_view kFhirCategorySystem = "urn:brug:category";
inline constexpr std::string_view kFhirEvidenceMethodSystem = "urn:brug:evidence-method";
inline constexpr std::string_view kFhirEvidenceSystem = "urn:brug:evidence";
inline constexpr std::string_view kFhirConsentIdSystem = "urn:brug:consent";
inline constexpr std::string_view kFhirWithdrawalExtension = "urn:brug:fhir:withdrawal";

// What Consent.patient (and performer) displays when the answer names nobody: FHIR R4 requires
// a patient under the patient-privacy scope (invariant ppc-2), and a reader that may not learn
// who it is gets a Reference with this display only.
inline constexpr std::string_view kFhirUnnamedPatient = "the participant (not named here)";

// The FHIR R4 Consent for `c` as it stands at `now_rfc3339`: `active`, or `inactive` once
// withdrawn or expired. `patient_reference` names the participant (a pseudonymous reference such
// as "Patient/<pseudonym>"; never a BSN) and is copied as given; empty: the patient is a
// Reference with the display kFhirUnnamedPatient only.
nlohmann::json to_fhir_consent(const consent::Consent& c, std::string_view patient_reference,
                               std::string_view now_rfc3339);

// What a FHIR Consent says, in brug's terms. The caller resolves `patient_reference` to a
// participant index (consent.participant is left empty) and checks that the organisations exist.
struct FhirConsentImport {
  consent::NewConsent consent;
  std::string patient_reference;  // Consent.patient.reference; empty: a display-only patient
  std::string consent_id;         // Consent.identifier with system urn:brug:consent, or empty
  std::string recorded_by;        // Consent.organization, or empty
  std::string recorded_at;        // Consent.dateTime, or empty
  bool active = true;             // Consent.status: active (true) or inactive (false)
  std::optional<consent::ConsentEvent> withdrawal;  // the brug withdrawal extension, if any
};

// Parses a FHIR R4 Consent of the shape to_fhir_consent writes. Any other shape is refused with
// kInvalidArgument and a message that starts with the offending element's path, e.g.
// "Consent.provision.provision[0].period.end: ...".
Result<FhirConsentImport> from_fhir_consent(const nlohmann::json& resource);

}  // namespace brug::adapters
