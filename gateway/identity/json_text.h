// Reading JSON files from outside with errors that name file and line.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace brug::gateway {

// Parses `text`; a syntax error reads "FILE:LINE: invalid JSON: ...".
Result<nlohmann::json> parse_json_text(const std::string& file, std::string_view text);

// The 1-based line where the key path (object keys, array indexes as decimal strings) appears,
// found by scanning for each key in turn; 1 when it cannot be placed.
int line_of_key(std::string_view text, const std::vector<std::string>& path);

}  // namespace brug::gateway
