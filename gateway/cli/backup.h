// `brug backup` and `brug restore`: a consistent online copy of the database while the gateway
// serves (the SQLite backup API), and, separately and only when asked, of the key directory.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brug::gateway {

extern const char* const kBackupUsage;
extern const char* const kRestoreUsage;

int run_backup(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int run_restore(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::gateway
