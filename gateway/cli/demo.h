// `brug demo --config FILE`: the whole exchange against a running development gateway, over real
// mutual TLS with the demo organisations' certificates, ending in a summary of who received
// which fields. Synthetic people only (gateway/synthetic.h).
#pragma once

#include <ostream>
#include <string>

namespace brug::gateway {

// Returns the exit code: 0 when the scenario ran, 1 when the gateway refused or failed.
int run_demo(const std::string& config_file, std::ostream& out);

}  // namespace brug::gateway
