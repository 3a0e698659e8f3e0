#include "gateway/http/json_body.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "gateway/http/tokens.h"

namespace brug::gateway {
namespace {

using http_tokens::is_token;
using http_tokens::is_token_char;
using http_tokens::trim;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 8.3.1: type "/" subtype *( OWS ";" OWS parameter ); parameter values are a token
// or a quoted string. Parameters are allowed and ignored.
bool parameters_are_well_formed(std::string_view rest) {
  while (!rest.empty()) {
    if (rest.front() != ';') return false;
    rest = trim(rest.substr(1));
    if (rest.empty()) return true;  // a trailing ';' is tolerated
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos || !is_token(rest.substr(0, eq))) return false;
    rest = rest.substr(eq + 1);
    std::size_t end = 0;
    if (!rest.empty() && rest.front() == '"') {
      for (end = 1; end < rest.size() && rest[end] != '"'; ++end) {
        if (rest[end] == '\\') ++end;
      }
      if (end >= rest.size()) return false;
      ++end;
    } else {
      while (end < rest.size() && is_token_char(static_cast<unsigned char>(rest[end]))) ++end;
      if (end == 0) return false;
    }
    rest = trim(rest.substr(end));
  }
  return true;
}

}  // namespace

bool is_json_media_type(std::string_view content_type) {
  std::string_view s = trim(content_type);
  const std::size_t end = std::min(s.find(';'), s.size());
  const std::string_view type = trim(s.substr(0, end));
  const std::size_t slash = type.find('/');
  if (slash == std::string_view::npos || !is_token(type.substr(0, slash)) ||
      !is_token(type.substr(slash + 1))) {
    return false;
  }
  return equals_ignoring_case(type, "application/json") &&
         parameters_are_well_formed(s.substr(end));
}

nlohmann::json parse_json_without_duplicates(std::string_view text, bool& duplicate) {
  duplicate = false;
  // The members seen so far in each object being parsed, innermost last.
  std::vector<std::unordered_set<std::string>> open;
  auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case nlohmann::json::parse_event_t::key: {
        if (open.empty()) break;
        if (!open.back().insert(parsed.get<std::string>()).second) duplicate = true;
        break;
      }
      default:
        break;
    }
    return true;
  };
  return nlohmann::json::parse(text.begin(), text.end(), check, false);
}

Problem validation_problem(const std::string& field, const std::string& problem) {
  return {400, "validation", "Invalid request", field + ": " + problem};
}

ParsedBody parse_object_body(const Request& request) {
  ParsedBody out;
  if (!is_json_media_type(request.content_type)) {
    out.problem = Problem{415, "unsupported-media-type", "Unsupported media type",
                          "Send the body as application/json."};
    return out;
  }
  bool duplicate = false;
  out.json = parse_json_without_duplicates(request.body, duplicate);
  if (out.json.is_discarded()) {
    out.problem = Problem{400, "invalid-json", "Invalid JSON", "The body is not valid JSON."};
  } else if (duplicate) {
    out.problem = validation_problem("(body)", "an object names a member twice");
  } else if (!out.json.is_object()) {
    out.problem = validation_problem("(body)", "must be a JSON object");
  }
  return out;
}

void FieldReader::fail(const std::string& key, const std::string& problem) {
  if (!problem_) problem_ = validation_problem(path(key), problem);
}

FieldReader& FieldReader::only(const std::set<std::string>& allowed) {
  for (const auto& [k, v] : obj_.items()) {
    // The key is the client's text: named only when it has the shape of a member name.
    if (!allowed.contains(k)) fail(member_name(k), "unknown key");
  }
  return *this;
}

const nlohmann::json* FieldReader::member(const std::string& key, bool required) {
  if (problem_) return nullptr;
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) {
    if (required) fail(key, "is required");
    return nullptr;
  }
  return &*it;
}

std::string FieldReader::text(const std::string& key, bool required, std::size_t max_length) {
  const nlohmann::json* v = member(key, required);
  if (v == nullptr) return {};
  if (!v->is_string()) {
    fail(key, "must be a string");
    return {};
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_length) {
    fail(key, "must be at most " + std::to_string(max_length) + " characters");
    return {};
  }
  if (required && s.empty()) fail(key, "must not be empty");
  return s;
}

std::vector<std::string> FieldReader::texts(const std::string& key, std::size_t max_items) {
  const nlohmann::json* v = member(key, true);
  if (v == nullptr) return {};
  if (!v->is_array() || v->size() > max_items) {
    fail(key, "must be an array of at most " + std::to_string(max_items) + " strings");
    return {};
  }
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string() || e.get_ref<const std::string&>().size() > 64) {
      fail(key, "must hold strings of at most 64 characters");
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::int64_t FieldReader::integer(const std::string& key, std::int64_t min, std::int64_t max,
                                  std::int64_t fallback) {
  const nlohmann::json* v = member(key, false);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer() || v->get<std::int64_t>() < min || v->get<std::int64_t>() > max) {
    fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return fallback;
  }
  return v->get<std::int64_t>();
}

const nlohmann::json* FieldReader::object(const std::string& key, bool required) {
  const nlohmann::json* v = member(key, required);
  if (v != nullptr && !v->is_object()) {
    fail(key, "must be an object");
    return nullptr;
  }
  return v;
}

namespace {

bool is_plain_name(const std::string& name) {
  return !name.empty() && name.size() <= 32 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
}

}  // namespace

std::string query_name(const std::string& name) {
  return is_plain_name(name) ? name : "(parameter)";
}

std::string member_name(const std::string& name) { return is_plain_name(name) ? name : "(member)"; }

}  // namespace brug::gateway
