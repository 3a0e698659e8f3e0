#include "gateway/identity/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "policies/json_source.h"

namespace brug::gateway {
namespace {

int line_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace

Result<nlohmann::json> parse_json_text(const std::string& file, std::string_view text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    const std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line L, column C: ".
    const auto colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Status::error(Code::kInvalidArgument, file + ":" + std::to_string(line_at(text, at)) +
                                                     ": invalid JSON: " + what);
  } catch (const nlohmann::json::out_of_range& e) {  // a number beyond a double ("1e999")
    const std::size_t at = policies_internal::overflow_offset(text, e);
    return Status::error(Code::kInvalidArgument, file + ":" + std::to_string(line_at(text, at)) +
                                                     ": invalid JSON: a number is out of range");
  }
}

int line_of_key(std::string_view text, const std::vector<std::string>& path) {
  std::size_t pos = 0;
  std::size_t found = std::string_view::npos;
  for (const auto& key : path) {
    const bool index = !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit);
    if (index) continue;  // array positions are not spelled in the text; stay at the parent
    const std::string quoted = "\"" + key + "\"";
    const std::size_t at = text.find(quoted, pos);
    if (at == std::string_view::npos) break;
    found = at;
    pos = at + quoted.size();
  }
  return found == std::string_view::npos ? 1 : line_at(text, found);
}

}  // namespace brug::gateway
