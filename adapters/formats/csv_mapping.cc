#include "adapters/formats/csv_mapping.h"

#include <algorithm>
#include <map>
#include <optional>

// The loader that gives every policy file `file:line` errors; reused so that a mapping file
// reports its problems exactly like the catalogue and the policies do.
#include "policies/json_source.h"

namespace brug::adapters {
namespace {

using policies_internal::JsonSource;
using policies_internal::ObjectReader;
using policies_internal::pointer_join;

constexpr std::size_t kMaxSourceRef = 128;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool same_text(std::string_view a, std::string_view b) { return lower(trim(a)) == lower(trim(b)); }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// True if `format` holds DD, MM and YYYY once each; the rest is literal separators.
bool valid_date_format(std::string_view format) {
  auto count = [&](std::string_view token) {
    std::size_t n = 0;
    for (auto at = format.find(token); at != std::string_view::npos;
         at = format.find(token, at + token.size())) {
      ++n;
    }
    return n;
  };
  return count("DD") == 1 && count("MM") == 1 && count("YYYY") == 1;
}

// "02-03-1971" with "DD-MM-YYYY" -> "1971-03-02". DD and MM take one or two digits; whether
// the day exists is left to the catalogue.
std::optional<std::string> convert_date(std::string_view text, std::string_view format) {
  if (format.empty()) format = "YYYY-MM-DD";
  std::string day, month, year;
  std::size_t t = 0;
  for (std::size_t f = 0; f < format.size();) {
    auto digits = [&](std::string& out, std::size_t min, std::size_t max) {
      while (out.size() < max && t < text.size() && text[t] >= '0' && text[t] <= '9') {
        out.push_back(text[t++]);
      }
      return out.size() >= min;
    };
    if (format.substr(f, 4) == "YYYY") {
      if (!digits(year, 4, 4)) return std::nullopt;
      f += 4;
    } else if (format.substr(f, 2) == "DD") {
      if (!digits(day, 1, 2)) return std::nullopt;
      f += 2;
    } else if (format.substr(f, 2) == "MM") {
      if (!digits(month, 1, 2)) return std::nullopt;
      f += 2;
    } else {
      if (t >= text.size() || text[t] != format[f]) return std::nullopt;
      ++t;
      ++f;
    }
  }
  if (t != text.size()) return std::nullopt;
  auto pad = [](const std::string& s) { return s.size() == 1 ? "0" + s : s; };
  return year + "-" + pad(month) + "-" + pad(day);
}

std::optional<bool> default_boolean(std::string_view text) {
  const std::string t = lower(text);
  for (const char* yes : {"ja", "j", "yes", "y", "true", "waar", "1", "x"}) {
    if (t == yes) return true;
  }
  for (const char* no : {"nee", "n", "no", "false", "onwaar", "0"}) {
    if (t == no) return false;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

// Whether a mapped (JSON) value suits the field; empty when it does.
std::string check_mapped_value(const FieldSpec& spec, const nlohmann::json& v) {
  const bool is_text = v.is_string();
  switch (spec.type) {
    case FieldType::kEnum:
      if (!is_text || std::find(spec.values.begin(), spec.values.end(), v.get<std::string>()) ==
                          spec.values.end()) {
        return "is not a value of field '" + spec.name + "'";
      }
      return {};
    case FieldType::kList:
      if (!is_text) return "must be a string";
      if (!spec.free_items && std::find(spec.values.begin(), spec.values.end(),
                                        v.get<std::string>()) == spec.values.end()) {
        return "is not in the vocabulary of field '" + spec.name + "'";
      }
      return {};
    case FieldType::kInteger:
      return v.is_number_integer() ? std::string() : "must be an integer";
    case FieldType::kBoolean:
      return v.is_boolean() ? std::string() : "must be true or false";
    default:
      return is_text ? std::string() : "must be a string";
  }
}

std::optional<ColumnMapping> read_column(const JsonSource& source, const std::string& pointer,
                                         const std::string& column, const nlohmann::json& entry,
                                         const Catalogue& catalogue,
                                         std::vector<Diagnostic>& diagnostics) {
  ColumnMapping m{.column = column, .field = {}, .values = {}, .date_format = {}};
  const std::string what = "column " + in_quotes(column);
  std::optional<ObjectReader> r;
  if (entry.is_string()) {
    m.field = entry.get<std::string>();
  } else if (entry.is_object()) {
    r.emplace(source, entry, pointer, what, diagnostics);
    r->reject_unknown({"field", "values", "date_format", "separator"});
    m.field = r->string("field", true).value_or("");
    if (m.field.empty()) return std::nullopt;
  } else {
    source.report(diagnostics, pointer, what + ": must be a field name or an object");
    return std::nullopt;
  }
  const FieldSpec* spec = catalogue.find(RecordType::kReferral, m.field);
  if (spec == nullptr) {
    source.report(diagnostics, pointer,
                  what + ": " + in_quotes(m.field) + " is not a field of a referral");
    return std::nullopt;
  }
  if (spec->type == FieldType::kBsn) {
    source.report(diagnostics, pointer, what + ": the BSN column goes in \"bsn\", not here");
    return std::nullopt;
  }
  if (!r) return m;
  const std::size_t before = diagnostics.size();
  if (auto format = r->string("date_format", false)) {
    if (spec->type != FieldType::kDate) {
      r->error("date_format", what + ": date_format applies to date fields only");
    } else if (!valid_date_format(*format)) {
      r->error("date_format", what + ": date_format needs DD, MM and YYYY once each");
    }
    m.date_format = *format;
  }
  if (auto separator = r->string("separator", false)) {
    if (spec->type != FieldType::kList) {
      r->error("separator", what + ": separator applies to list fields only");
    } else if (separator->empty()) {
      r->error("separator", what + ": separator must not be empty");
    }
    m.separator = *separator;
  }
  if (const nlohmann::json* values = r->get("values")) {
    const std::string values_pointer = pointer_join(pointer, "values");
    if (!values->is_object()) {
      r->error("values", what + ": values must be an object of cell text -> value");
    } else {
      for (const auto& [text, value] : values->items()) {
        if (std::string problem = check_mapped_value(*spec, value); !problem.empty()) {
          source.report(diagnostics, pointer_join(values_pointer, text),
                        what + ": the value for " + in_quotes(text) + " " + problem);
        }
        m.values.emplace_back(text, value);
      }
    }
  }
  if (diagnostics.size() != before) return std::nullopt;
  return m;
}

Status diagnostics_error(std::vector<Diagnostic> diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  std::string message = to_string(diagnostics);
  if (!message.empty() && message.back() == '\n') message.pop_back();
  return Status::error(Code::kInvalidArgument, std::move(message));
}

// A mapping bound to the columns of one file.
struct Bound {
  struct Column {
    std::size_t index;
    const ColumnMapping* mapping;
    const FieldSpec* spec;
  };
  std::size_t header_size = 0;
  std::size_t source_ref = 0;
  std::size_t bsn = 0;
  std::vector<Column> columns;
};

Result<Bound> bind(const CsvRow& header, const CsvMapping& mapping, const Catalogue& catalogue,
                   std::string_view file) {
  const auto fail = [&](const std::string& problem) {
    return Status::error(Code::kInvalidArgument,
                         std::string(file) + ":" + std::to_string(header.line) + ": " + problem);
  };
  // Trailing columns without a name (";;" at the end of the header) are dropped.
  std::size_t size = header.fields.size();
  while (size > 0 && trim(header.fields[size - 1]).empty()) --size;
  const auto find = [&](const std::string& column) -> Result<std::size_t> {
    std::optional<std::size_t> at;
    for (std::size_t i = 0; i < size; ++i) {
      if (!same_text(header.fields[i], column)) continue;
      if (at) return fail("the header has column " + in_quotes(column) + " twice");
      at = i;
    }
    if (!at) {
      return fail("the header lacks column " + in_quotes(column) + " of mapping " + mapping.file);
    }
    return *at;
  };
  Bound b;
  b.header_size = size;
  auto source_ref = find(mapping.source_ref_column);
  if (!source_ref) return source_ref.status();
  b.source_ref = *source_ref;
  auto bsn = find(mapping.bsn_column);
  if (!bsn) return bsn.status();
  b.bsn = *bsn;
  for (const ColumnMapping& c : mapping.columns) {
    auto at = find(c.column);
    if (!at) return at.status();
    b.columns.push_back({*at, &c, catalogue.find(RecordType::kReferral, c.field)});
  }
  return b;
}

// The JSON value of one non-empty cell, or a problem.
Result<nlohmann::json> convert(std::string_view cell, const ColumnMapping& m,
                               const FieldSpec& spec) {
  const auto mapped = [&](std::string_view text) -> const nlohmann::json* {
    for (const auto& [from, to] : m.values) {
      if (same_text(from, text)) return &to;
    }
    return nullptr;
  };
  // Catalogue values match regardless of case: "Bijstand" is "bijstand".
  const auto canonical = [&](std::string_view text) -> nlohmann::json {
    for (const std::string& v : spec.values) {
      if (same_text(v, text)) return v;
    }
    return std::string(text);
  };
  const auto bad = [](std::string problem) {
    return Status::error(Code::kInvalidArgument, std::move(problem));
  };
  if (spec.type != FieldType::kList) {
    if (const nlohmann::json* v = mapped(cell)) return *v;
  }
  switch (spec.type) {
    case FieldType::kEnum:
      return canonical(cell);
    case FieldType::kInteger:
      if (auto v = parse_integer(cell)) return nlohmann::json(*v);
      return bad("is not a whole number");
    case FieldType::kBoolean:
      if (auto v = default_boolean(cell)) return nlohmann::json(*v);
      return bad("is not ja or nee");
    case FieldType::kDate:
      if (auto v = convert_date(cell, m.date_format)) return nlohmann::json(*v);
      return bad("is not a date " + (m.date_format.empty() ? "YYYY-MM-DD" : m.date_format));
    case FieldType::kList: {
      nlohmann::json items = nlohmann::json::array();
      std::string_view rest = cell;
      while (true) {
        const std::size_t at = rest.find(m.separator);
        const std::string_view item = trim(rest.substr(0, at));
        if (!item.empty()) {
          const nlohmann::json* v = mapped(item);
          items.push_back(v ? *v : canonical(item));
        }
        if (at == std::string_view::npos) break;
        rest.remove_prefix(at + m.separator.size());
      }
      return items;
    }
    default:
      return nlohmann::json(std::string(cell));
  }
}

}  // namespace

std::string RowProblem::to_string(std::string_view file) const {
  return std::string(file) + ":" + std::to_string(line) + ": " + field + ": " + problem;
}

Result<CsvMapping> CsvMapping::load(const std::filesystem::path& path, const Catalogue& catalogue) {
  std::vector<Diagnostic> diagnostics;
  auto text = policies_internal::read_text(path, diagnostics);
  if (!text) return diagnostics_error(diagnostics);
  return parse(*text, path.string(), catalogue);
}

Result<CsvMapping> CsvMapping::parse(std::string_view text, std::string file,
                                     const Catalogue& catalogue) {
  std::vector<Diagnostic> diagnostics;
  auto source = JsonSource::parse(text, file, diagnostics);
  if (!source) return diagnostics_error(diagnostics);
  CsvMapping m;
  m.file = std::move(file);
  ObjectReader top(*source, source->root(), "", "the mapping", diagnostics);
  if (!top.is_object()) return diagnostics_error(diagnostics);
  top.reject_unknown({"description", "source_ref", "bsn", "columns"});
  m.description = top.string("description", false).value_or("");
  for (const char* key : {"source_ref", "bsn"}) {
    const nlohmann::json* entry = top.get(key);
    if (entry == nullptr) {
      top.error_here(std::string("the mapping lacks \"") + key + "\"");
      continue;
    }
    ObjectReader r(*source, *entry, top.pointer(key), std::string("\"") + key + "\"", diagnostics);
    if (!r.is_object()) continue;
    r.reject_unknown(std::string_view(key) == "bsn"
                         ? std::initializer_list<std::string_view>{"column"}
                         : std::initializer_list<std::string_view>{"column", "prefix"});
    const std::string column = r.string("column", true).value_or("");
    if (std::string_view(key) == "bsn") {
      m.bsn_column = column;
    } else {
      m.source_ref_column = column;
      m.source_ref_prefix = r.string("prefix", false).value_or("");
    }
  }
  const nlohmann::json* columns = top.get("columns");
  if (columns == nullptr) {
    top.error_here("the mapping lacks \"columns\"");
  } else if (!columns->is_object()) {
    top.error("columns", "\"columns\" must be an object of column -> field");
  } else {
    std::map<std::string, std::string> fields;  // field -> column
    for (const auto& [column, entry] : columns->items()) {
      const std::string pointer = pointer_join("/columns", column);
      auto c = read_column(*source, pointer, column, entry, catalogue, diagnostics);
      if (!c) continue;
      if (same_text(column, m.bsn_column) || same_text(column, m.source_ref_column)) {
        source->report(diagnostics, pointer,
                       "column " + in_quotes(column) + " is already the BSN or source_ref column");
        continue;
      }
      if (auto [it, fresh] = fields.emplace(c->field, column); !fresh) {
        source->report(diagnostics, pointer,
                       "field " + in_quotes(c->field) + " is filled by column " +
                           in_quotes(it->second) + " already");
        continue;
      }
      m.columns.push_back(std::move(*c));
    }
  }
  if (!diagnostics.empty()) return diagnostics_error(diagnostics);
  return m;
}

Result<MappedFile> map_rows(const std::vector<CsvRow>& rows, const CsvMapping& mapping,
                            const Catalogue& catalogue, std::string_view file) {
  if (rows.empty()) {
    return Status::error(Code::kInvalidArgument, std::string(file) + ": the file is empty");
  }
  auto bound = bind(rows[0], mapping, catalogue, file);
  if (!bound) return bound.status();
  MappedFile out;
  std::map<std::string, int> seen;  // source_ref -> line
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    if (std::all_of(row.fields.begin(), row.fields.end(),
                    [](const std::string& f) { return trim(f).empty(); })) {
      continue;
    }
    ++out.total;
    std::vector<RowProblem> problems;
    const auto problem = [&](std::string field, std::string text) {
      problems.push_back({row.line, std::move(field), std::move(text)});
    };
    const auto cell = [&](std::size_t i) {
      return i < row.fields.size() ? trim(row.fields[i]) : std::string_view();
    };
    for (std::size_t i = bound->header_size; i < row.fields.size(); ++i) {
      if (!trim(row.fields[i]).empty()) {
        problem("row", "has a value beyond the " + std::to_string(bound->header_size) +
                           " columns of the header (an unquoted ';' in a field?)");
        break;
      }
    }
    std::string source_ref;
    if (cell(bound->source_ref).empty()) {
      problem("source_ref", "column " + in_quotes(mapping.source_ref_column) + " is empty");
    } else {
      source_ref = mapping.source_ref_prefix + std::string(cell(bound->source_ref));
      if (source_ref.size() > kMaxSourceRef) {
        problem("source_ref", "is longer than " + std::to_string(kMaxSourceRef) + " bytes");
      } else if (auto [it, fresh] = seen.emplace(source_ref, row.line); !fresh) {
        problem("source_ref", "is the same as on line " + std::to_string(it->second));
      }
    }
    std::optional<crypto::Bsn> bsn;
    if (cell(bound->bsn).empty()) {
      problem("bsn", "column " + in_quotes(mapping.bsn_column) + " is empty");
    } else if (auto parsed = crypto::Bsn::parse(cell(bound->bsn))) {
      bsn = *parsed;
    } else {
      problem("bsn", "is not a valid BSN (9 digits passing the elfproef)");
    }
    nlohmann::json record = nlohmann::json::object();
    for (const Bound::Column& c : bound->columns) {
      const std::string_view text = cell(c.index);
      if (text.empty()) continue;  // an empty cell: the field is absent
      auto value = convert(text, *c.mapping, *c.spec);
      if (value) {
        record[c.mapping->field] = std::move(value).value();
      } else {
        problem(c.mapping->field, value.message());
      }
    }
    for (const FieldError& e : catalogue.validate(RecordType::kReferral, record)) {
      // A field whose cell could not be converted is absent; say so once, not twice.
      const bool reported = std::any_of(problems.begin(), problems.end(),
                                        [&](const RowProblem& p) { return p.field == e.field; });
      if (!reported) problem(e.field.empty() ? "row" : e.field, e.problem);
    }
    if (problems.empty()) {
      out.rows.push_back({row.line, std::move(source_ref), *bsn, std::move(record)});
    } else {
      ++out.rejected;
      for (RowProblem& p : problems) out.problems.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace brug::adapters
