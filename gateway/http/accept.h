// Content negotiation on the Accept header (RFC 9110, section 12.5.1), for the routes that can
// answer in more than one media type.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace brug::gateway {

// The media type of `offers` (type/subtype, lower case; offers[0] is the default) that `accept`
// prefers, or none when it allows none of them (answer 406). An absent or empty Accept is
// offers[0]. Each offer takes the q of the most specific range that matches it (type/subtype
// before type/* before */*); q=0 excludes. The highest q wins; at equal q, a range that names
// the type exactly beats a wildcard, and of two types named exactly the later offer (the more
// specialised, e.g. application/fhir+json after application/json) wins, so a wildcard alone
// gives the default. A range with a parameter other than q, charset=utf-8 or fhirVersion=4.0
// (FHIR R4) matches nothing; a malformed range is ignored.
std::optional<std::string> negotiate(const std::string& accept,
                                     const std::vector<std::string>& offers);

}  // namespace brug::gateway
