// `brug audit witness`: a second party that makes a split view of the audit log detectable. It
// keeps the last checkpoint it cosigned, verifies that the log's new checkpoint is signed by the
// log's key and consistent with it (an RFC 6962 consistency proof), and only then adds its own
// C2SP tlog-cosignature, which the gateway stores and serves with the checkpoint. A shrunk or
// rewritten history is refused and the kept checkpoint stays. docs/AUDIT.md.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brug::gateway {

extern const char* const kWitnessUsage;

// argv after "audit": "witness-key ..." or "witness ...".
int run_witness(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::gateway
