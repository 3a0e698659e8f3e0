// `brug consent import --fhir FILE`: records a consent given as an HL7 FHIR R4 Consent resource
// (the shape of adapters/formats/fhir_consent, docs/FHIR.md) through the gateway's
// POST /v1/consents, over mutual TLS, audited like any other.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brug::gateway {

extern const char* const kConsentUsage;

int run_consent(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::gateway
