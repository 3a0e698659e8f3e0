// An outcome as a coordinator fills it in (a web form or a CSV row, in plain words or wire
// values) turned into the catalogue's outcome record, and pushed under the person's pseudonym,
// which the coordinator never types or sees.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/result.h"
#include "gateway/http/client.h"
#include "gateway/portal/local_store.h"
#include "policies/catalogue.h"

namespace brug::portal {

// The form's inputs by catalogue field: status, date, uren_per_week, reden_gestopt,
// participatieladder, contract. Empty inputs are left out. Dates are YYYY-MM-DD or
// DD-MM-YYYY; choices match their wire value or Dutch label ignoring case. The error names
// every field that is wrong, never its value.
Result<nlohmann::json> outcome_record(const Catalogue& catalogue,
                                      const std::map<std::string, std::string>& inputs);

struct OutcomeToPush {
  std::string ref;  // the portal's local reference
  nlohmann::json record;
};

// Pushes the outcomes in one request; per item the gateway's id or why it was not accepted.
// A reference the local copy does not hold (never referred, or deleted) is refused locally.
std::vector<Result<std::string>> push_outcomes(gateway::GatewayClient& client, LocalStore& store,
                                               const std::vector<OutcomeToPush>& outcomes);

}  // namespace brug::portal
