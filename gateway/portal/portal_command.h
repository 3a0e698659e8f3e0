// The portal's commands: `brug portal` (the web app), `brug feed pull` and `brug outcomes push`
// (the same jobs for scripts and scheduled tasks, on the same local copy).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brug::portal {

extern const char* const kPortalUsage;
extern const char* const kFeedUsage;
extern const char* const kOutcomesUsage;

// Each returns the exit code: 0 success, 1 the work failed, 2 wrong usage.
int run_portal(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int run_feed(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int run_outcomes(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::portal
