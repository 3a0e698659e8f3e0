// `brug audit pubkey|export|verify`: what an auditor and an operator do offline.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brug::gateway {

extern const char* const kAuditUsage;

int run_audit(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::gateway
