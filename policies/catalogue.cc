#include "policies/catalogue.h"

#include <algorithm>
#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "crypto/bsn.h"
#include "crypto/name_table.h"
#include "policies/json_source.h"
#include "policies/transform.h"

namespace brug {

using policies_internal::JsonSource;
using policies_internal::ObjectReader;
using policies_internal::pointer_join;

struct Catalogue::Impl {
  std::array<std::vector<FieldSpec>, kRecordTypeCount> fields;
  std::string canonical;
};

namespace {

constexpr brug::NameTable<FieldType, 10> kTypes{{
    {FieldType::kText, "text"},
    {FieldType::kEnum, "enum"},
    {FieldType::kInteger, "integer"},
    {FieldType::kBoolean, "boolean"},
    {FieldType::kDate, "date"},
    {FieldType::kList, "list"},
    {FieldType::kPostcode, "postcode"},
    {FieldType::kBsn, "bsn"},
    {FieldType::kEmail, "email"},
    {FieldType::kPhone, "phone"},
}};

std::optional<FieldType> parse_field_type(std::string_view text) {
  return brug::value_of(kTypes, text);
}

constexpr std::size_t kMaxNameLength = 64;

bool is_field_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The name of a field as it may appear in an error: keys sent by a client are shown only
// when they look like field names, so that no value smuggled into a key is echoed.
std::string printable_name(std::string_view key) {
  return is_field_name(key) ? std::string(key) : std::string("(unprintable field name)");
}

bool contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

// Reads one field entry of the catalogue; reports problems and returns nullopt.
std::optional<FieldSpec> read_field(const JsonSource& source, const std::string& pointer,
                                    const std::string& name, const nlohmann::json& entry,
                                    std::vector<Diagnostic>& diagnostics) {
  const std::size_t errors_before = diagnostics.size();
  ObjectReader r(source, entry, pointer, "field '" + name + "'", diagnostics);
  if (!is_field_name(name)) {
    r.error_here("field name '" + name + "' must match [a-z][a-z0-9_]* (at most 64 characters)");
  }
  if (!r.is_object()) return std::nullopt;
  r.reject_unknown({"type", "category", "description", "values", "free_items", "min", "max",
                    "max_length", "max_items", "required", "only_if"});
  FieldSpec spec;
  spec.name = name;
  auto type_name = r.string("type", true);
  auto category_name = r.string("category", true);
  spec.description = r.string("description", false).value_or("");
  if (type_name) {
    if (auto t = parse_field_type(*type_name)) {
      spec.type = *t;
    } else {
      r.error("type", "unknown field type '" + *type_name +
                          "' (text, enum, integer, boolean, date, list, postcode, bsn, email, "
                          "phone)");
    }
  }
  if (category_name) {
    if (auto c = parse_category(*category_name)) {
      spec.category = *c;
    } else {
      r.error("category", "unknown category '" + *category_name + "'");
    }
  }
  if (diagnostics.size() != errors_before) return std::nullopt;

  // Which type-specific keys apply, and which are required.
  const FieldType t = spec.type;
  const bool is_enum = t == FieldType::kEnum, is_list = t == FieldType::kList,
             is_int = t == FieldType::kInteger, is_text = t == FieldType::kText;
  const std::pair<std::string_view, bool> applies[] = {
      {"values", is_enum || is_list},
      {"free_items", is_list},
      {"min", is_int},
      {"max", is_int},
      {"max_items", is_list},
      {"max_length", is_text || is_list},
  };
  for (const auto& [key, ok] : applies) {
    if (!ok && r.get(key)) {
      r.error(key, "'" + std::string(key) + "' does not apply to a field of type " +
                       std::string(to_string(t)));
    }
  }
  if (auto values = r.strings("values", is_enum)) spec.values = std::move(*values);
  if (is_enum && spec.values.empty() && r.get("values")) r.error("values", "'values' is empty");
  for (std::size_t i = 0; i < spec.values.size(); ++i) {
    if (contains(std::vector<std::string>(spec.values.begin(), spec.values.begin() + i),
                 spec.values[i])) {
      r.error("values", "value '" + spec.values[i] + "' is listed twice");
    }
  }
  spec.free_items = r.boolean("free_items").value_or(true);
  if (is_int) {
    spec.min = r.integer("min", true).value_or(0);
    spec.max = r.integer("max", true).value_or(0);
    if (spec.min > spec.max) r.error("max", "'max' is below 'min'");
  }
  if (is_text || is_list) {
    auto len = r.integer("max_length", true);
    if (len && (*len < 1 || *len > 100000)) r.error("max_length", "'max_length' must be 1..100000");
    spec.max_length = static_cast<std::size_t>(len.value_or(1));
  }
  if (is_list) {
    auto items = r.integer("max_items", true);
    if (items && (*items < 1 || *items > 1000)) r.error("max_items", "'max_items' must be 1..1000");
    spec.max_items = static_cast<std::size_t>(items.value_or(1));
  }
  spec.required = r.boolean("required").value_or(false);
  if (const nlohmann::json* only_if = r.get("only_if")) {
    ObjectReader cond(source, *only_if, r.pointer("only_if"), "'only_if' of field '" + name + "'",
                      diagnostics);
    if (cond.is_object() && only_if->size() != 1) {
      cond.error_here("'only_if' must name exactly one field");
    } else if (cond.is_object()) {
      spec.only_if_field = only_if->begin().key();
      if (auto vs = cond.strings(spec.only_if_field, true)) spec.only_if_values = std::move(*vs);
    }
  }
  if (diagnostics.size() != errors_before) return std::nullopt;
  return spec;
}

// Cross-field checks: `only_if` must name an enum field of the same record and its values.
void check_conditions(const JsonSource& source, const std::string& record_pointer,
                      const std::vector<FieldSpec>& fields, std::vector<Diagnostic>& diagnostics) {
  for (const FieldSpec& f : fields) {
    if (f.only_if_field.empty()) continue;
    const std::string at = pointer_join(pointer_join(record_pointer, f.name), "only_if");
    auto cond = std::find_if(fields.begin(), fields.end(),
                             [&](const FieldSpec& g) { return g.name == f.only_if_field; });
    if (cond == fields.end() || cond->type != FieldType::kEnum) {
      source.report(diagnostics, at,
                    "'only_if' of field '" + f.name + "' must name an enum field of the record");
      continue;
    }
    for (const std::string& v : f.only_if_values) {
      if (!contains(cond->values, v)) {
        source.report(diagnostics, at,
                      "'only_if' of field '" + f.name + "': '" + v + "' is not a value of '" +
                          cond->name + "'");
      }
    }
  }
}

bool is_valid_email(std::string_view s) {
  const auto at = s.find('@');
  if (s.size() > 254 || at == std::string_view::npos || at == 0 ||
      s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto dot = s.find('.', at + 2);
  return dot != std::string_view::npos && dot + 1 < s.size() &&
         std::none_of(s.begin(), s.end(), [](char c) { return c == ' ' || c < 0x20; });
}

bool is_valid_phone(std::string_view s) {
  int digits = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c != '+' && c != ' ' && c != '-' && c != '(' && c != ')') {
      return false;
    }
  }
  return digits >= 10 && digits <= 15 && s.size() <= 20;
}

// Code points, not bytes: a max_length is about characters people typed.
std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// `problem` unless the value is a string that passes `ok`.
template <class Pred>
std::string string_check(const nlohmann::json& v, Pred ok, const char* problem) {
  return v.is_string() && ok(v.get_ref<const std::string&>()) ? std::string() : problem;
}

// The problem with one value, or empty when it is valid.
std::string check_value(const FieldSpec& spec, const nlohmann::json& v) {
  switch (spec.type) {
    case FieldType::kText:
      if (!v.is_string()) return "must be a string";
      if (utf8_length(v.get_ref<const std::string&>()) > spec.max_length) {
        return "is longer than " + std::to_string(spec.max_length) + " characters";
      }
      return {};
    case FieldType::kEnum:
      if (!v.is_string() || !contains(spec.values, v.get_ref<const std::string&>())) {
        return "must be one of: " + join(spec.values);
      }
      return {};
    case FieldType::kInteger:
      if (!v.is_number_integer() || v.get<std::int64_t>() < spec.min ||
          v.get<std::int64_t>() > spec.max ||
          (v.is_number_unsigned() &&
           v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
        return "must be an integer from " + std::to_string(spec.min) + " to " +
               std::to_string(spec.max);
      }
      return {};
    case FieldType::kBoolean:
      return v.is_boolean() ? std::string() : "must be true or false";
    case FieldType::kDate:
      return string_check(
          v, [](auto& s) { return parse_date(s).has_value(); }, "must be a date YYYY-MM-DD");
    case FieldType::kList: {
      if (!v.is_array()) return "must be a list of strings";
      if (v.size() > spec.max_items) {
        return "has more than " + std::to_string(spec.max_items) + " items";
      }
      for (const nlohmann::json& item : v) {
        if (!item.is_string()) return "must be a list of strings";
        const auto& s = item.get_ref<const std::string&>();
        if (utf8_length(s) > spec.max_length) {
          return "has an item longer than " + std::to_string(spec.max_length) + " characters";
        }
        if (!spec.free_items && !contains(spec.values, s)) {
          return "has an item outside the vocabulary: " + join(spec.values);
        }
      }
      return {};
    }
    case FieldType::kPostcode:
      return string_check(
          v, [](auto& s) { return postcode4(s).has_value(); },
          "must be a Dutch postcode like 1234AB");
    case FieldType::kBsn:
      return string_check(v, is_valid_bsn, "must be a BSN: 9 digits passing the elfproef");
    case FieldType::kEmail:
      return string_check(v, is_valid_email, "must be an e-mail address");
    case FieldType::kPhone:
      return string_check(v, is_valid_phone, "must be a phone number (10 to 15 digits)");
  }
  return "has an unknown type";
}

}  // namespace

std::string_view to_string(FieldType type) { return brug::name_of(kTypes, type); }

std::string FieldError::to_string() const {
  return field.empty() ? problem : field + ": " + problem;
}

// One definition of a valid BSN for the whole gateway: crypto's.
bool is_valid_bsn(std::string_view text) { return crypto::Bsn::parse(text).is_ok(); }

Result<Catalogue> Catalogue::load(const std::filesystem::path& path) {
  std::vector<Diagnostic> diagnostics;
  auto catalogue = load(path, diagnostics);
  if (!catalogue) {
    return Status::error(Code::kInvalidArgument,
                         "field catalogue: " + brug::to_string(diagnostics));
  }
  return std::move(*catalogue);
}

std::optional<Catalogue> Catalogue::load(const std::filesystem::path& path,
                                         std::vector<Diagnostic>& diagnostics) {
  auto text = policies_internal::read_text(path, diagnostics);
  if (!text) return std::nullopt;
  return parse(*text, path.string(), diagnostics);
}

std::optional<Catalogue> Catalogue::parse(std::string_view text, std::string file,
                                          std::vector<Diagnostic>& diagnostics) {
  const std::size_t errors_before = diagnostics.size();
  auto source = JsonSource::parse(text, std::move(file), diagnostics);
  if (!source) return std::nullopt;
  ObjectReader top(*source, source->root(), "", "the catalogue", diagnostics);
  top.reject_unknown({"version", "description", "records"});
  top.integer("version", true);
  top.string("description", false);
  auto impl = std::make_shared<Impl>();
  const nlohmann::json* records = top.get("records");
  if (!records) {
    if (top.is_object()) top.error_here("the catalogue lacks 'records'");
    return std::nullopt;
  }
  ObjectReader by_record(*source, *records, "/records", "'records'", diagnostics);
  by_record.reject_unknown({"referral", "outcome"});
  for (RecordType record : {RecordType::kReferral, RecordType::kOutcome}) {
    const std::string name(to_string(record));
    const nlohmann::json* entries = by_record.get(name);
    if (!entries) {
      if (by_record.is_object()) by_record.error_here("'records' lacks '" + name + "'");
      continue;
    }
    const std::string pointer = pointer_join("/records", name);
    ObjectReader fields(*source, *entries, pointer, "record '" + name + "'", diagnostics);
    if (!fields.is_object()) continue;
    auto& specs = impl->fields[static_cast<int>(record)];
    for (const auto& [field, entry] : entries->items()) {
      if (auto spec =
              read_field(*source, pointer_join(pointer, field), field, entry, diagnostics)) {
        specs.push_back(std::move(*spec));
      }
    }
    std::sort(specs.begin(), specs.end(),
              [](const FieldSpec& a, const FieldSpec& b) { return a.name < b.name; });
    check_conditions(*source, pointer, specs, diagnostics);
  }
  if (diagnostics.size() != errors_before) return std::nullopt;
  impl->canonical = source->root().dump();
  return Catalogue(std::move(impl));
}

const FieldSpec* Catalogue::find(RecordType record, std::string_view field) const {
  const auto& specs = fields(record);
  auto it = std::lower_bound(specs.begin(), specs.end(), field,
                             [](const FieldSpec& f, std::string_view n) { return f.name < n; });
  return it != specs.end() && it->name == field ? &*it : nullptr;
}

const std::vector<FieldSpec>& Catalogue::fields(RecordType record) const {
  return impl_->fields[static_cast<int>(record)];
}

const std::string& Catalogue::canonical() const { return impl_->canonical; }

std::vector<FieldError> Catalogue::validate(RecordType record, const nlohmann::json& value) const {
  std::vector<FieldError> errors;
  if (!value.is_object()) {
    errors.push_back({"", "a " + std::string(brug::to_string(record)) + " must be a JSON object"});
    return errors;
  }
  for (const auto& [key, v] : value.items()) {
    const FieldSpec* spec = find(record, key);
    if (!spec) {
      errors.push_back(
          {printable_name(key), "is not a field of a " + std::string(brug::to_string(record))});
      continue;
    }
    if (std::string problem = check_value(*spec, v); !problem.empty()) {
      errors.push_back({spec->name, std::move(problem)});
    }
  }
  for (const FieldSpec& spec : fields(record)) {
    const bool present = value.contains(spec.name);
    bool condition = true;
    if (!spec.only_if_field.empty()) {
      auto it = value.find(spec.only_if_field);
      condition = it != value.end() && it->is_string() &&
                  contains(spec.only_if_values, it->get_ref<const std::string&>());
    }
    const std::string when = spec.only_if_field.empty() ? std::string()
                                                        : " when " + spec.only_if_field + " is " +
                                                              join(spec.only_if_values);
    if (present && !condition) {
      errors.push_back({spec.name, "is allowed only" + when});
    } else if (!present && condition && spec.required) {
      errors.push_back({spec.name, "is required" + when});
    }
  }
  return errors;
}

}  // namespace brug
