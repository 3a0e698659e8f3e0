#include "policies/policy.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "policies/json_source.h"

namespace brug {

using policies_internal::JsonSource;
using policies_internal::ObjectReader;
using policies_internal::pointer_join;

namespace {

constexpr std::size_t kMaxIdLength = 64;

bool is_policy_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_output_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxIdLength && name[0] >= 'a' && name[0] <= 'z' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

bool transform_applies(Transform t, FieldType type) {
  switch (t) {
    case Transform::kNone:
      return true;
    case Transform::kAgeBand:
    case Transform::kYearMonth:
      return type == FieldType::kDate;
    case Transform::kPostcode4:
      return type == FieldType::kPostcode;
    case Transform::kDropFreeText:
      return type == FieldType::kText || type == FieldType::kList;
  }
  return false;
}

std::string default_output(const std::string& field, Transform t) {
  if (t == Transform::kAgeBand) return "leeftijdsgroep";
  if (t == Transform::kPostcode4) return "postcode4";
  return field;
}

std::optional<PartyPattern> read_party(ObjectReader& policy, std::string_view key,
                                       const JsonSource& source,
                                       std::vector<Diagnostic>& diagnostics) {
  const nlohmann::json* v = policy.get(key);
  const std::string name(key);
  if (!v) {
    if (policy.is_object()) policy.error_here("policy lacks '" + name + "'");
    return std::nullopt;
  }
  PartyPattern party;
  if (v->is_string()) {
    const auto& text = v->get_ref<const std::string&>();
    if (text == "*") return party;
    party.role = parse_role(text);
    if (!party.role) policy.error(key, "unknown role '" + text + "' in '" + name + "'");
    return party.role ? std::optional(party) : std::nullopt;
  }
  ObjectReader r(source, *v, policy.pointer(key), "'" + name + "'", diagnostics);
  if (!r.is_object()) return std::nullopt;
  r.reject_unknown({"role", "org"});
  auto role = r.string("role", true);
  auto org = r.string("org", true);
  if (role) {
    party.role = parse_role(*role);
    if (!party.role) r.error("role", "unknown role '" + *role + "' in '" + name + "'");
  }
  if (org && (org->empty() || org->size() > 128)) r.error("org", "'org' must be 1..128 characters");
  if (!party.role || !org || org->empty()) return std::nullopt;
  party.org = *org;
  return party;
}

// Reads the "fields" member; returns false if anything was wrong.
bool read_fields(ObjectReader& top, const JsonSource& source, const Catalogue& catalogue,
                 Policy& policy, std::vector<Diagnostic>& diagnostics) {
  const nlohmann::json* fields = top.get("fields");
  const bool permit = policy.effect == Effect::kPermit;
  if (!fields) {
    if (permit) top.error_here("a permit policy must list 'fields'");
    return !permit;
  }
  ObjectReader list(source, *fields, "/fields", "'fields'", diagnostics);
  if (!list.is_object()) return false;
  // Counted before the emptiness check, so that its error also refuses the policy.
  const std::size_t errors_before = diagnostics.size();
  if (permit && fields->empty()) list.error_here("a permit policy must list at least one field");
  const std::string record(to_string(policy.record));
  for (const auto& [name, entry] : fields->items()) {
    const std::string at = pointer_join("/fields", name);
    ObjectReader r(source, entry, at, "field '" + name + "'", diagnostics);
    if (!r.is_object()) continue;
    r.reject_unknown({"transform", "as", "category"});
    const FieldSpec* spec = catalogue.find(policy.record, name);
    if (!spec) {
      r.error_here("unknown field '" + name + "' for record " + record);
      continue;
    }
    FieldRule rule{name, name, Transform::kNone, spec->category, source.line_of(at)};
    auto transform = r.string("transform", false);
    auto output = r.string("as", false);
    if (auto category = r.string("category", false);
        category && *category != to_string(spec->category)) {
      r.error("category", "field '" + name + "' is in category '" +
                              std::string(to_string(spec->category)) +
                              "' in the catalogue; a policy cannot re-categorise it");
    }
    if (!permit && (transform || output)) {
      r.error_here("a deny policy withholds field '" + name +
                   "'; 'transform' and 'as' do not apply");
      continue;
    }
    if (transform) {
      if (auto t = parse_transform(*transform)) {
        rule.transform = *t;
        if (!transform_applies(*t, spec->type)) {
          r.error("transform", "transform '" + *transform + "' does not apply to field '" + name +
                                   "' of type " + std::string(to_string(spec->type)));
        }
      } else {
        r.error("transform", "unknown transform '" + *transform +
                                 "' (none, age_band, postcode4, year_month, drop_free_text)");
      }
    }
    rule.output = output ? *output : default_output(name, rule.transform);
    if (!is_output_name(rule.output)) {
      r.error("as", "output name '" + rule.output + "' must match [a-z][a-z0-9_]*");
    }
    if (permit && is_special(spec->category) &&
        !(policy.special_category && !policy.legal_basis_note.empty())) {
      r.error_here("field '" + name + "' is in special category '" +
                   std::string(to_string(spec->category)) +
                   "': permitting it needs \"special_category\": true and a \"legal_basis_note\"");
    }
    if (permit && spec->category == Category::kIdentificatie && policy.to.may_be(Role::kProject)) {
      r.error_here("field '" + name + "' (identificatie) may never go to a project");
    }
    for (const FieldRule& other : policy.fields) {
      if (permit && other.output == rule.output) {
        r.error_here("fields '" + other.field + "' and '" + name + "' both appear as '" +
                     rule.output + "'");
      }
    }
    policy.fields.push_back(std::move(rule));
  }
  return diagnostics.size() == errors_before;
}

}  // namespace

std::string_view to_string(Basis basis) {
  return basis == Basis::kConsent ? "consent" : "public-task";
}

std::string_view to_string(Effect effect) { return effect == Effect::kPermit ? "permit" : "deny"; }

std::string PartyPattern::to_string() const {
  if (!role) return "*";
  std::string out(brug::to_string(*role));
  return org.empty() ? out : out + ":" + org;
}

std::optional<Policy> parse_policy(std::string_view text, std::string file,
                                   const Catalogue& catalogue,
                                   std::vector<Diagnostic>& diagnostics) {
  auto source = JsonSource::parse(text, std::move(file), diagnostics);
  if (!source) return std::nullopt;
  const std::size_t errors_before = diagnostics.size();
  ObjectReader top(*source, source->root(), "", "policy", diagnostics);
  if (!top.is_object()) return std::nullopt;
  top.reject_unknown({"id", "version", "description", "from", "to", "record", "purpose", "basis",
                      "effect", "special_category", "legal_basis_note", "fields"});
  Policy policy;
  policy.file = source->file();
  policy.line = source->line_of("/id");
  policy.canonical = source->root().dump();
  if (auto id = top.string("id", true)) {
    policy.id = *id;
    if (!is_policy_id(*id))
      top.error("id", "policy id '" + *id + "' must match [a-z0-9][a-z0-9-]*");
  }
  if (auto version = top.integer("version", true)) {
    if (*version < 1 || *version > 1000000) top.error("version", "'version' must be 1..1000000");
    policy.version = static_cast<int>(std::clamp<std::int64_t>(*version, 0, 1000000));
  }
  policy.description = top.string("description", false).value_or("");
  auto from = read_party(top, "from", *source, diagnostics);
  auto to = read_party(top, "to", *source, diagnostics);
  if (auto record = top.string("record", true)) {
    if (auto r = parse_record_type(*record)) {
      policy.record = *r;
    } else {
      top.error("record", "unknown record type '" + *record + "' (referral, outcome)");
    }
  }
  if (auto purpose = top.string("purpose", true)) {
    if (auto p = parse_purpose(*purpose)) {
      policy.purpose = *p;
    } else {
      top.error("purpose", "unknown purpose '" + *purpose + "'");
    }
  }
  if (auto effect = top.string("effect", false)) {
    if (*effect == "deny") {
      policy.effect = Effect::kDeny;
    } else if (*effect != "permit") {
      top.error("effect", "unknown effect '" + *effect + "' (permit, deny)");
    }
  }
  if (auto basis = top.string("basis", policy.effect == Effect::kPermit)) {
    if (*basis == "public-task") {
      policy.basis = Basis::kPublicTask;
    } else if (*basis != "consent") {
      top.error("basis", "unknown basis '" + *basis + "' (consent, public-task)");
    }
  }
  policy.special_category = top.boolean("special_category").value_or(false);
  policy.legal_basis_note = top.string("legal_basis_note", false).value_or("");
  if (policy.special_category && policy.legal_basis_note.empty()) {
    top.error("special_category",
              "\"special_category\": true needs a non-empty \"legal_basis_note\"");
  }
  if (diagnostics.size() != errors_before || !from || !to) return std::nullopt;
  policy.from = *from;
  policy.to = *to;
  if (!read_fields(top, *source, catalogue, policy, diagnostics)) return std::nullopt;
  return policy;
}

}  // namespace brug
