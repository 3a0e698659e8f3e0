// The loaded set of exchange policies and the evaluator that turns a record into the view a
// recipient may see. Default deny: an unlisted flow is refused, an unlisted field dropped;
// a matching deny beats any permit. Immutable after load, cheap to copy, safe to share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "crypto/result.h"
#include "policies/catalogue.h"
#include "policies/diagnostic.h"
#include "policies/policy.h"
#include "policies/vocabulary.h"

namespace brug {

// One disclosure question: may `record` data flow from `from` to `to` for `purpose`?
struct Flow {
  Party from;
  Party to;
  RecordType record = RecordType::kReferral;
  Purpose purpose = Purpose::kBegeleidingNaarWerk;

  std::string to_string() const;  // "gemeente -> project:jhm-soest referral begeleiding-naar-werk"
};

// A disclosed value: the catalogue's value types, after any transform.
using FieldValue = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;

struct ViewField {
  std::string name;  // the output name, e.g. "leeftijdsgroep"
  FieldValue value;
};

// What the recipient may see. Fields are ordered by output name.
struct View {
  std::vector<ViewField> fields;
  // id@version of every policy that matched the flow (permits and denies), sorted.
  std::vector<std::string> policies;

  std::vector<std::string> disclosed() const;  // the output names, in order
  const FieldValue* find(std::string_view name) const;
  // The view as a JSON object, e.g. the "record" of a feed item.
  nlohmann::json to_json() const;
};

struct Refusal {
  enum class Kind {
    kNoPolicy,  // no permit policy matches the flow (default deny)
    kDenied,    // a deny policy matches the whole flow
  };
  Kind kind = Kind::kNoPolicy;
  std::string policy;  // kDenied: id@version of the deny policy
  std::string reason;  // one line, no personal data
};

// One field a flow discloses, as compiled at load time from the matching policies.
struct PlannedField {
  std::string field;   // catalogue name
  std::string output;  // view name
  Transform transform = Transform::kNone;
  Category category = Category::kProfiel;
  bool needs_consent = true;        // basis consent: disclosed only if consent covers category
  const FieldSpec* spec = nullptr;  // owned by the set's catalogue
  const Policy* policy = nullptr;   // the permit that lists it (the first by id)
};

// Everything decided about a flow before any record is seen.
struct FlowPlan {
  std::optional<Refusal> refusal;
  std::vector<PlannedField> fields;  // sorted by output name
  // Fields a permit lists but a deny withholds: (field, id@version of the deny).
  std::vector<std::pair<std::string, std::string>> withheld;
  std::vector<std::string> policies;  // id@version of every matching policy, sorted
};

// Either a view (possibly with no fields, when consent covers none of them) or a refusal.
struct Decision {
  std::variant<View, Refusal> outcome;

  bool permitted() const { return outcome.index() == 0; }
  const View& view() const { return std::get<View>(outcome); }
  const Refusal& refusal() const { return std::get<Refusal>(outcome); }
};

class PolicySet {
 public:
  // Loads every *.json file of `dir` (not recursive) and checks it against the catalogue and
  // the other files. The error message lists every `file:line: problem`.
  static Result<PolicySet> load(const std::filesystem::path& dir, const Catalogue& catalogue);
  // The same, with the problems as diagnostics (for `brug policy check`).
  static std::optional<PolicySet> load(const std::filesystem::path& dir, const Catalogue& catalogue,
                                       std::vector<Diagnostic>& diagnostics);
  // From parsed policies; checks the conflicts between them.
  static std::optional<PolicySet> from_policies(std::vector<Policy> policies,
                                                const Catalogue& catalogue,
                                                std::vector<Diagnostic>& diagnostics);

  // The permitted view of `record` (a JSON object, validated against the catalogue) for `flow`.
  // With basis consent a field is disclosed only if its category is in `consent`; with basis
  // public-task `consent` is not consulted. `today` is the reference date of age_band.
  // A field whose value does not fit its catalogue type or transform is withheld.
  Decision view_for(const Flow& flow, const nlohmann::json& record, CategorySet consent,
                    std::chrono::year_month_day today) const;

  // What a flow discloses, field by field, and why (for `brug policy explain`).
  FlowPlan plan_for(const Flow& flow) const;

  // SHA-256 (hex) over the canonical catalogue and policies: names this exact rule set in
  // every audit event. Independent of file names and formatting.
  const std::string& content_hash() const;
  // All policies, sorted by id.
  const std::vector<Policy>& policies() const;

 private:
  struct Impl;
  explicit PolicySet(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace brug
