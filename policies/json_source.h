// Private to policies/: a JSON file parsed together with the line of each member, so that
// semantic errors can be reported as file:line although nlohmann::json keeps no positions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/diagnostic.h"

namespace brug::policies_internal {

// The offset in `text` of the number an out_of_range.406 names ("number overflow parsing
// '1e999'"), which nlohmann throws for a number beyond a double even with a parse that reports
// syntax errors as parse_error; 0 when it cannot be placed.
std::size_t overflow_offset(std::string_view text, const nlohmann::json::out_of_range& e);

// A JSON pointer for `parent` extended by one member name (escaping '~' and '/').
std::string pointer_join(std::string_view parent, std::string_view name);

class JsonSource {
 public:
  // Reads and parses a file. Syntax errors, duplicate keys and unreadable files become
  // diagnostics and the result is nullopt.
  static std::optional<JsonSource> read(const std::filesystem::path& path,
                                        std::vector<Diagnostic>& diagnostics);
  static std::optional<JsonSource> parse(std::string_view text, std::string file,
                                         std::vector<Diagnostic>& diagnostics);

  const nlohmann::json& root() const { return root_; }
  const std::string& file() const { return file_; }
  // The line of the member at a JSON pointer ("/fields/postcode"), or of its nearest ancestor.
  int line_of(std::string_view pointer) const;
  // Adds `file:line: message` for the member at `pointer`.
  void report(std::vector<Diagnostic>& diagnostics, std::string_view pointer,
              std::string message) const;

 private:
  JsonSource() = default;
  std::string file_;
  nlohmann::json root_;
  std::unordered_map<std::string, int> lines_;
};

// Reads the members of one JSON object, reporting missing, mistyped and unknown members at
// their lines. `what` names the object in messages ("policy", "field 'postcode'").
class ObjectReader {
 public:
  ObjectReader(const JsonSource& source, const nlohmann::json& object, std::string pointer,
               std::string what, std::vector<Diagnostic>& diagnostics);

  // False (and reported) if the value is not a JSON object.
  bool is_object() const { return object_.is_object(); }
  // Reports each member whose key is not in `allowed`.
  void reject_unknown(std::initializer_list<std::string_view> allowed);

  const nlohmann::json* get(std::string_view key) const;
  std::optional<std::string> string(std::string_view key, bool required);
  std::optional<std::int64_t> integer(std::string_view key, bool required);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::vector<std::string>> strings(std::string_view key, bool required);

  std::string pointer(std::string_view key) const { return pointer_join(pointer_, key); }
  void error(std::string_view key, std::string message);
  void error_here(std::string message);

 private:
  bool present(std::string_view key, bool required, std::string_view type);
  void mistyped(std::string_view key, std::string_view expected);

  const JsonSource& source_;
  const nlohmann::json& object_;
  std::string pointer_;
  std::string what_;
  std::vector<Diagnostic>& diagnostics_;
};

// The whole file, or nullopt and a diagnostic.
std::optional<std::string> read_text(const std::filesystem::path& path,
                                     std::vector<Diagnostic>& diagnostics);

}  // namespace brug::policies_internal
