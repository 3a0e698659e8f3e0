#include "gateway/http/json_body.h"

namespace brug::gateway {

Problem validation_problem(const std::string& field, const std::string& problem) {
  return {400, "validation", "Invalid request", field + ": " + problem};
}

ParsedBody parse_object_body(const Request& request) {
  ParsedBody out;
  if (request.content_type.rfind("application/json", 0) != 0) {
    out.problem = Problem{415, "unsupported-media-type", "Unsupported media type",
                          "Send the body as application/json."};
    return out;
  }
  out.json = nlohmann::json::parse(request.body, nullptr, false);
  if (out.json.is_discarded()) {
    out.problem = Problem{400, "invalid-json", "Invalid JSON", "The body is not valid JSON."};
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
    // The key is the client's text: name it only when it is short and printable.
    const bool printable = k.size() <= 64 && std::all_of(k.begin(), k.end(), [](unsigned char c) {
                             return c >= 0x20 && c < 0x7f;
                           });
    if (!allowed.contains(k)) fail(printable ? k : "(key)", "unknown key");
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

const nlohmann::json* FieldReader::object(const std::string& key, bool required) {
  const nlohmann::json* v = member(key, required);
  if (v != nullptr && !v->is_object()) {
    fail(key, "must be an object");
    return nullptr;
  }
  return v;
}

std::string query_name(const std::string& name) {
  const bool plain =
      !name.empty() && name.size() <= 32 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  return plain ? name : "(parameter)";
}

}  // namespace brug::gateway
