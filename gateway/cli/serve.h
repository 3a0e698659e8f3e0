// `brug serve --config FILE`: runs the gateway until SIGTERM or SIGINT.
#pragma once

#include <string>
#include <vector>

namespace brug::gateway {

// Exit code: 0 after a clean stop, 1 when the gateway cannot start, 2 on wrong usage.
int serve_command(const std::vector<std::string>& argv, const char* usage);

}  // namespace brug::gateway
