#include "policies/json_source.h"

#include <fstream>
#include <sstream>

namespace brug {

std::string Diagnostic::to_string() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

std::string to_string(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

namespace policies_internal {
namespace {

constexpr int kMaxDepth = 64;

// Walks JSON text that nlohmann has already accepted and records the line of every member
// (its key) and array element (its first character). Also finds duplicate keys, which
// nlohmann silently collapses to the last one.
class LineScanner {
 public:
  LineScanner(std::string_view text, std::unordered_map<std::string, int>& lines)
      : text_(text), lines_(lines) {}

  // False if the text is nested deeper than kMaxDepth (or, defensively, malformed).
  bool scan() {
    skip_space();
    lines_[""] = line_;
    return value("", 0);
  }
  const std::vector<std::pair<std::string, int>>& duplicates() const { return duplicates_; }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  bool value(const std::string& pointer, int depth) {
    if (depth > kMaxDepth) return false;
    switch (peek()) {
      case '{':
        return object(pointer, depth);
      case '[':
        return array(pointer, depth);
      case '"':
        return string(nullptr);
      default:
        while (!at_end() && std::string_view(",]} \t\r\n").find(peek()) == std::string_view::npos) {
          ++pos_;
        }
        return true;
    }
  }

  bool object(const std::string& pointer, int depth) {
    ++pos_;  // '{'
    skip_space();
    if (peek() == '}') return ++pos_, true;
    while (true) {
      skip_space();
      const int key_line = line_;
      std::string key;
      if (!string(&key)) return false;
      std::string member = pointer_join(pointer, key);
      if (!lines_.emplace(member, key_line).second) duplicates_.emplace_back(member, key_line);
      skip_space();
      if (peek() != ':') return false;
      ++pos_;
      skip_space();
      if (!value(member, depth + 1)) return false;
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') return false;
      ++pos_;
      return true;
    }
  }

  bool array(const std::string& pointer, int depth) {
    ++pos_;  // '['
    skip_space();
    if (peek() == ']') return ++pos_, true;
    for (int index = 0;; ++index) {
      skip_space();
      std::string element = pointer + "/" + std::to_string(index);
      lines_.emplace(element, line_);
      if (!value(element, depth + 1)) return false;
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ']') return false;
      ++pos_;
      return true;
    }
  }

  // A string token; decodes simple escapes into *out (keys are plain ASCII in practice).
  bool string(std::string* out) {
    if (peek() != '"') return false;
    ++pos_;
    while (!at_end()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end()) return false;
        char e = text_[pos_++];
        if (e == 'u') {
          pos_ += 4;  // kept out of the decoded key: no policy name needs it
          continue;
        }
        if (out) out->push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        continue;
      }
      if (out) out->push_back(c);
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::unordered_map<std::string, int>& lines_;
  std::vector<std::pair<std::string, int>> duplicates_;
};

int line_of_offset(std::string_view text, std::size_t offset) {
  int line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 3,
// column 5: " prefix: the position is ours to print.
std::string syntax_message(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  if (auto colon = what.find(": ", what.find("parse error")); colon != std::string::npos) {
    what = what.substr(colon + 2);
  }
  return "invalid JSON: " + what;
}

}  // namespace

std::size_t overflow_offset(std::string_view text, const nlohmann::json::out_of_range& e) {
  const std::string_view what = e.what();
  const std::size_t open = what.find('\''), close = what.rfind('\'');
  if (open == std::string_view::npos || close <= open) return 0;
  const std::size_t at = text.find(what.substr(open + 1, close - open - 1));
  return at == std::string_view::npos ? 0 : at;
}

std::string pointer_join(std::string_view parent, std::string_view name) {
  std::string out(parent);
  out.push_back('/');
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> read_text(const std::filesystem::path& path,
                                     std::vector<Diagnostic>& diagnostics) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics.push_back({path.string(), 0, "cannot read the file"});
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::optional<JsonSource> JsonSource::read(const std::filesystem::path& path,
                                           std::vector<Diagnostic>& diagnostics) {
  auto text = read_text(path, diagnostics);
  if (!text) return std::nullopt;
  return parse(*text, path.string(), diagnostics);
}

std::optional<JsonSource> JsonSource::parse(std::string_view text, std::string file,
                                            std::vector<Diagnostic>& diagnostics) {
  JsonSource source;
  source.file_ = std::move(file);
  try {
    source.root_ = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    diagnostics.push_back({source.file_, line_of_offset(text, offset), syntax_message(e)});
    return std::nullopt;
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double ("1e999"): nlohmann throws this even though it is a syntax
    // problem of the file, and names the number instead of its position.
    diagnostics.push_back({source.file_, line_of_offset(text, overflow_offset(text, e)),
                           "invalid JSON: a number is out of range"});
    return std::nullopt;
  }
  LineScanner scanner(text, source.lines_);
  if (!scanner.scan()) {
    diagnostics.push_back({source.file_, 1, "JSON nested deeper than 64 levels"});
    return std::nullopt;
  }
  if (!scanner.duplicates().empty()) {
    for (const auto& [pointer, line] : scanner.duplicates()) {
      diagnostics.push_back(
          {source.file_, line, "duplicate key '" + pointer.substr(pointer.rfind('/') + 1) + "'"});
    }
    return std::nullopt;
  }
  return source;
}

int JsonSource::line_of(std::string_view pointer) const {
  std::string p(pointer);
  while (true) {
    if (auto it = lines_.find(p); it != lines_.end()) return it->second;
    if (p.empty()) return 1;
    p.resize(p.rfind('/'));
  }
}

void JsonSource::report(std::vector<Diagnostic>& diagnostics, std::string_view pointer,
                        std::string message) const {
  diagnostics.push_back({file_, line_of(pointer), std::move(message)});
}

}  // namespace policies_internal
}  // namespace brug

namespace brug::policies_internal {

ObjectReader::ObjectReader(const JsonSource& source, const nlohmann::json& object,
                           std::string pointer, std::string what,
                           std::vector<Diagnostic>& diagnostics)
    : source_(source),
      object_(object),
      pointer_(std::move(pointer)),
      what_(std::move(what)),
      diagnostics_(diagnostics) {
  if (!object_.is_object()) error_here(what_ + " must be a JSON object");
}

void ObjectReader::reject_unknown(std::initializer_list<std::string_view> allowed) {
  if (!is_object()) return;
  for (const auto& [key, value] : object_.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) error(key, "unknown key '" + key + "' in " + what_);
  }
}

const nlohmann::json* ObjectReader::get(std::string_view key) const {
  if (!is_object()) return nullptr;
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

bool ObjectReader::present(std::string_view key, bool required, std::string_view type) {
  if (get(key)) return true;
  if (required && is_object()) {
    error_here(what_ + " lacks '" + std::string(key) + "' (" + std::string(type) + ")");
  }
  return false;
}

std::optional<std::string> ObjectReader::string(std::string_view key, bool required) {
  if (!present(key, required, "a string")) return std::nullopt;
  const nlohmann::json& v = *get(key);
  if (!v.is_string()) {
    mistyped(key, "a string");
    return std::nullopt;
  }
  return v.get<std::string>();
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, bool required) {
  if (!present(key, required, "an integer")) return std::nullopt;
  const nlohmann::json& v = *get(key);
  if (!v.is_number_integer()) {
    mistyped(key, "an integer");
    return std::nullopt;
  }
  return v.get<std::int64_t>();
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  if (!present(key, false, "true or false")) return std::nullopt;
  const nlohmann::json& v = *get(key);
  if (!v.is_boolean()) {
    mistyped(key, "true or false");
    return std::nullopt;
  }
  return v.get<bool>();
}

std::optional<std::vector<std::string>> ObjectReader::strings(std::string_view key, bool required) {
  if (!present(key, required, "a list of strings")) return std::nullopt;
  const nlohmann::json& v = *get(key);
  std::vector<std::string> out;
  for (const nlohmann::json& item : v.is_array() ? v : nlohmann::json::array({nullptr})) {
    if (!item.is_string()) {
      mistyped(key, "a list of strings");
      return std::nullopt;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

void ObjectReader::mistyped(std::string_view key, std::string_view expected) {
  // Built by appending: GCC 12 -O3 gives a false -Wrestrict on "'" + std::string(...).
  std::string message = "'";
  message.append(key).append("' in ").append(what_).append(" must be ").append(expected);
  error(key, std::move(message));
}

void ObjectReader::error(std::string_view key, std::string message) {
  source_.report(diagnostics_, pointer(key), std::move(message));
}

void ObjectReader::error_here(std::string message) {
  source_.report(diagnostics_, pointer_, std::move(message));
}

}  // namespace brug::policies_internal
