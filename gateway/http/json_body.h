// Reading a JSON request body as hostile input: one place that turns every malformed body,
// wrong type and unknown key into a 400 problem naming the field (never echoing a value).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/http.h"

namespace brug::gateway {

// A 400 problem of type urn:brug:problem:validation; `field` is a dotted path ("evidence.method").
Problem validation_problem(const std::string& field, const std::string& problem);

// A query parameter's name as it may appear in a problem: itself when it is a short name of
// [a-z0-9_], else "(parameter)", so that no client bytes (invalid UTF-8 included) are echoed.
std::string query_name(const std::string& name);
// The same for an unknown member of a body: itself or "(member)".
std::string member_name(const std::string& name);

// True for a Content-Type of exactly application/json: type and subtype in any case, with
// parameters (charset=utf-8) or without.
bool is_json_media_type(std::string_view content_type);

// Parses JSON text as nlohmann::json would (discarded when invalid) and tells whether any
// object, at any depth, names a member twice (nlohmann::json would keep the last silently).
nlohmann::json parse_json_without_duplicates(std::string_view text, bool& duplicate);

// The body as a JSON object, or the problem to answer with (invalid-json / validation).
struct ParsedBody {
  nlohmann::json json;
  std::optional<Problem> problem;
};
ParsedBody parse_object_body(const Request& request);

// Typed access to one object's members; the first failure is kept and later calls do nothing.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string prefix = "")
      : obj_(object), prefix_(std::move(prefix)) {}

  // Every member must be one of `allowed`.
  FieldReader& only(const std::set<std::string>& allowed);
  std::string text(const std::string& key, bool required = true, std::size_t max_length = 200);
  std::vector<std::string> texts(const std::string& key, std::size_t max_items = 32);
  const nlohmann::json* object(const std::string& key, bool required = true);
  // A whole number from `min` to `max`; `fallback` when absent.
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max,
                       std::int64_t fallback);

  void fail(const std::string& key, const std::string& problem);
  const std::optional<Problem>& problem() const { return problem_; }
  std::string path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }

 private:
  const nlohmann::json* member(const std::string& key, bool required);

  const nlohmann::json& obj_;
  std::string prefix_;
  std::optional<Problem> problem_;
};

}  // namespace brug::gateway
