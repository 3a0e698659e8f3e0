#include "adapters/formats/csv.h"

#include <cstdint>

namespace brug::adapters {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

Status error_at(std::string_view name, int line, const std::string& problem) {
  return Status::error(Code::kInvalidArgument,
                       std::string(name) + ":" + std::to_string(line) + ": " + problem);
}

// The length of the UTF-8 sequence at `s[i]`, or 0 if it is not well formed (overlong forms,
// surrogates and code points above U+10FFFF included).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
  const std::uint8_t c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

// Checks the whole text once, so the parser below can work byte by byte.
Status check_bytes(std::string_view text, std::string_view name) {
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\0') return error_at(name, line, "NUL byte (is this a UTF-16 or binary file?)");
    if (c == '\n' || (c == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++line;
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return error_at(name, line, "invalid UTF-8 (save the export as UTF-8)");
    i += n;
  }
  return Status::ok();
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view name, const CsvLimits& limits)
      : s_(text), name_(name), limits_(limits) {}

  Result<std::vector<CsvRow>> run() {
    while (pos_ < s_.size()) {
      if (at_line_end()) {  // an empty line
        skip_line_end();
        continue;
      }
      if (rows_.size() >= limits_.max_rows) {
        return error_at(name_, line_, "more than " + std::to_string(limits_.max_rows) + " rows");
      }
      CsvRow row{.line = line_, .fields = {}};
      while (true) {
        if (row.fields.size() >= limits_.max_columns) {
          return error_at(name_, row.line,
                          "more than " + std::to_string(limits_.max_columns) + " columns");
        }
        auto field = pos_ < s_.size() && s_[pos_] == '"' ? quoted() : unquoted(row.line);
        if (!field) return field.status();
        row.fields.push_back(std::move(field).value());
        if (pos_ < s_.size() && s_[pos_] == ';') {
          ++pos_;
          continue;
        }
        break;  // end of line or of text
      }
      if (pos_ < s_.size()) skip_line_end();
      rows_.push_back(std::move(row));
    }
    return std::move(rows_);
  }

 private:
  bool at_line_end() const { return s_[pos_] == '\n' || s_[pos_] == '\r'; }
  void skip_line_end() {
    if (s_[pos_] == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  Status too_long(int line) const {
    return error_at(name_, line,
                    "a field is longer than " + std::to_string(limits_.max_field_bytes) + " bytes");
  }

  Result<std::string> unquoted(int row_line) {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ';' && !at_line_end()) ++pos_;
    if (pos_ - start > limits_.max_field_bytes) return too_long(row_line);
    return std::string(s_.substr(start, pos_ - start));
  }

  Result<std::string> quoted() {
    const int opened = line_;
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) {
        return error_at(name_, opened, "a quoted field opened on this line is never closed");
      }
      const char c = s_[pos_];
      if (c == '"') {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
          out.push_back('"');
          pos_ += 2;
        } else {
          ++pos_;
          break;
        }
      } else if (c == '\r' || c == '\n') {
        skip_line_end();
        out.push_back('\n');
      } else {
        out.push_back(c);
        ++pos_;
      }
      if (out.size() > limits_.max_field_bytes) return too_long(opened);
    }
    // Spaces after the closing quote are tolerated; anything else is a broken field.
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    if (pos_ < s_.size() && s_[pos_] != ';' && !at_line_end()) {
      return error_at(name_, line_, "text after the closing quote of a field");
    }
    return out;
  }

  std::string_view s_;
  std::string_view name_;
  const CsvLimits& limits_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::vector<CsvRow> rows_;
};

}  // namespace

Result<std::vector<CsvRow>> parse_csv(std::string_view text, std::string_view name,
                                      const CsvLimits& limits) {
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  BRUG_RETURN_IF_ERROR(check_bytes(text, name));
  return Parser(text, name, limits).run();
}

}  // namespace brug::adapters
