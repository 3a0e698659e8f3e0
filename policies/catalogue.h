// The field catalogue: every field brug knows per record type, its type, validation and
// category. Loaded once at start from policies/catalogue.json; immutable and cheap to copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "crypto/result.h"
#include "policies/diagnostic.h"
#include "policies/vocabulary.h"

namespace brug {

enum class FieldType {
  kText,     // free text up to max_length characters
  kEnum,     // one of `values`
  kInteger,  // min..max
  kBoolean,
  kDate,      // YYYY-MM-DD, a real calendar day
  kList,      // up to max_items strings of up to max_length; `values` is the vocabulary
  kPostcode,  // Dutch postcode, "7071AB" or "7071 ab"
  kBsn,       // 9 digits passing the elfproef
  kEmail,
  kPhone,
};

std::string_view to_string(FieldType type);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kText;
  Category category = Category::kProfiel;
  std::string description;
  std::vector<std::string> values;  // kEnum: the allowed values; kList: the vocabulary
  bool free_items = true;           // kList: items outside the vocabulary are allowed
  std::int64_t min = 0;             // kInteger
  std::int64_t max = 0;             // kInteger
  std::size_t max_length = 0;       // kText; kList per item
  std::size_t max_items = 0;        // kList
  bool required = false;            // with only_if: required exactly when the condition holds
  // The field may be present only when field `only_if_field` has one of `only_if_values`.
  std::string only_if_field;
  std::vector<std::string> only_if_values;
};

// A problem with one field of a record. Names the field, never repeats its value.
struct FieldError {
  std::string field;  // empty for the record as a whole
  std::string problem;

  std::string to_string() const;  // "participatieladder: must be an integer from 1 to 6"
};

class Catalogue {
 public:
  // Loads and checks a catalogue file; the error message lists every `file:line: problem`.
  static Result<Catalogue> load(const std::filesystem::path& path);
  // The same, with the problems as diagnostics (for `brug policy check`).
  static std::optional<Catalogue> load(const std::filesystem::path& path,
                                       std::vector<Diagnostic>& diagnostics);
  // From text, e.g. in tests; `file` names it in diagnostics.
  static std::optional<Catalogue> parse(std::string_view text, std::string file,
                                        std::vector<Diagnostic>& diagnostics);

  // nullptr if the record type has no such field.
  const FieldSpec* find(RecordType record, std::string_view field) const;
  // In catalogue (alphabetical) order.
  const std::vector<FieldSpec>& fields(RecordType record) const;

  // Every problem of a record (a JSON object) against the catalogue; empty when valid.
  // Unknown fields are errors. Messages never contain values: they are personal data.
  [[nodiscard]] std::vector<FieldError> validate(RecordType record,
                                                 const nlohmann::json& value) const;

  // Compact JSON with sorted keys: the catalogue's part of the policy-set content hash.
  const std::string& canonical() const;

 private:
  struct Impl;
  explicit Catalogue(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// True for 9 digits that pass the elfproef (the BSN check-digit test).
bool is_valid_bsn(std::string_view text);

}  // namespace brug
