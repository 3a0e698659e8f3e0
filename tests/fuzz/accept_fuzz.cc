// Fuzz target for content negotiation (gateway/http/accept.h): any bytes as the Accept header of
// a route that answers application/json or application/fhir+json. The answer is one of the
// offers or none, the same every time; whatever follows an exact application/json (q=1) cannot
// make the answer none (at most FHIR named exactly at q=1 wins over it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/http/accept.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using brug::fuzz::require;
  const std::vector<std::string> offers = {"application/json", "application/fhir+json"};
  const std::string accept(reinterpret_cast<const char*>(data), size);
  const auto chosen = brug::gateway::negotiate(accept, offers);
  require(!chosen || *chosen == offers[0] || *chosen == offers[1], "accept: not an offer");
  require(brug::gateway::negotiate(accept, offers) == chosen, "accept: not deterministic");
  // An element that does not parse is ignored, never fatal to the elements before it.
  const auto with_json = brug::gateway::negotiate("application/json, " + accept, offers);
  require(with_json.has_value(), "accept: an exact application/json was not acceptable");
  return 0;
}
