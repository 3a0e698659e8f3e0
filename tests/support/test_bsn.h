// Synthetic BSNs for tests: the demo's generator (valid by the elfproef, from 9999xxxxx).
#pragma once

#include <string>

#include "gateway/cli/synthetic.h"

namespace brug::testing {

inline std::string test_bsn(int n) { return gateway::synthetic_bsn(n); }

}  // namespace brug::testing
