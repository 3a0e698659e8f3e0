// Lists of keys that a backend passes as one parameter (a JSON array on SQLite, a separated
// text on PostgreSQL): one statement whatever the number of keys.
#pragma once

#include <string>
#include <vector>

#include "crypto/result.h"

namespace brug::adapters {

// Keys are printable: a key holding a control character (a separator, or the NUL at which
// SQLite's json_each cuts a value) would find the rows of its parts, so it is refused
// (kInvalidArgument) before any statement runs.
Status refuse_control_characters(const std::vector<std::string>& keys);

}  // namespace brug::adapters
