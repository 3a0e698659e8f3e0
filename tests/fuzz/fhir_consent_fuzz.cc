// Fuzz target for FHIR Consent import (adapters/formats/fhir_consent): any bytes as the
// resource. A refusal must name the FHIR element it refuses; a resource that imports must
// export (to_fhir_consent) and import again to the same consent.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/formats/fhir_consent.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using brug::fuzz::require;

brug::consent::Consent as_consent(const brug::adapters::FhirConsentImport& in) {
  brug::consent::Consent c;
  c.id = in.consent_id.empty() ? "cns_abcdefghijklmnopqrstuvwxyz" : in.consent_id;
  c.participant = std::string(64, 'a');
  c.grantee = in.consent.grantee;
  c.purpose = in.consent.purpose;
  c.categories = in.consent.categories;
  c.valid_from = in.consent.valid_from;
  c.valid_until = in.consent.valid_until;
  c.evidence = in.consent.evidence;
  c.recorded_by = in.recorded_by.empty() ? "gemeente-oude-ijsselstreek" : in.recorded_by;
  c.recorded_at = in.recorded_at.empty() ? "2026-01-01T09:00:00.000Z" : in.recorded_at;
  c.events.push_back({brug::consent::EventKind::kGiven, c.recorded_at, c.recorded_by});
  if (in.withdrawal) c.events.push_back(*in.withdrawal);
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto resource = nlohmann::json::parse(data, data + size, nullptr, false);
  if (resource.is_discarded()) return 0;
  auto imported = brug::adapters::from_fhir_consent(resource);
  if (!imported) {
    require(imported.code() == brug::Code::kInvalidArgument, "fhir: error of another kind");
    require(imported.message().rfind("Consent", 0) == 0, "fhir: refusal names no element");
    return 0;
  }
  const brug::consent::Consent c = as_consent(*imported);
  auto again = brug::adapters::from_fhir_consent(
      brug::adapters::to_fhir_consent(c, imported->patient_reference, c.recorded_at));
  require(again.is_ok(), "fhir: an imported consent does not import again after export");
  const auto& a = imported->consent;
  const auto& b = again->consent;
  require(a.grantee == b.grantee && a.purpose == b.purpose && a.categories == b.categories &&
              a.valid_from == b.valid_from && a.valid_until == b.valid_until &&
              a.evidence.method == b.evidence.method &&
              a.evidence.reference == b.evidence.reference,
          "fhir: export and import again changed the consent");
  require(again->withdrawal.has_value() == imported->withdrawal.has_value(),
          "fhir: the withdrawal did not survive export");
  return 0;
}
