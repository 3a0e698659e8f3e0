// Writing JSON text directly, for the hot paths (feed pages, audit leaves) where building a
// nlohmann::json tree only to serialise it costs more than the rest of the work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace brug::gateway {

// Appends `s` as a JSON string literal, escaped exactly as nlohmann::json::dump(-1, ' ', false,
// error_handler_t::replace) does: `"` `\` and control characters escaped, other UTF-8 as is,
// invalid UTF-8 replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view s);

// A compact JSON text built front to back. The caller keeps the nesting right; members and
// elements get their commas automatically.
class JsonWriter {
 public:
  explicit JsonWriter(std::size_t reserve = 256) { out_.reserve(reserve); }

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // The key of the next member of the enclosing object.
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(bool b);
  JsonWriter& value(const std::vector<std::string>& list);

  // Appends elements written elsewhere (a comma-separated list of JSON values, possibly empty)
  // to the enclosing array, as if each had been written here.
  JsonWriter& elements(std::string_view list);
  // The elements of a writer that wrote one array and nothing else: its text without the
  // brackets.
  std::string_view array_elements() const;
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void separate();

  std::string out_;
  bool first_ = true;  // nothing written yet in the innermost object or array
  bool after_key_ = false;
};

}  // namespace brug::gateway
