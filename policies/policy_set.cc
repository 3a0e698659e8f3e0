#include "policies/policy_set.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "policies/json_source.h"

namespace brug {
namespace {

constexpr int kBucketCount = kRoleCount * kRoleCount * kRecordTypeCount * kPurposeCount;

// Flows are indexed by a dense key over their closed vocabularies: a perfect hash.
int bucket_index(Role from, Role to, RecordType record, Purpose purpose) {
  return ((static_cast<int>(from) * kRoleCount + static_cast<int>(to)) * kRecordTypeCount +
          static_cast<int>(record)) *
             kPurposeCount +
         static_cast<int>(purpose);
}

bool org_specific(const Policy& p) { return !p.from.org.empty() || !p.to.org.empty(); }

bool overlap(const PartyPattern& a, const PartyPattern& b) {
  return (!a.role || !b.role || *a.role == *b.role) &&
         (a.org.empty() || b.org.empty() || a.org == b.org);
}

// Two policies that some flow matches at once.
bool co_match(const Policy& a, const Policy& b) {
  return a.record == b.record && a.purpose == b.purpose && overlap(a.from, b.from) &&
         overlap(a.to, b.to);
}

std::string where(const Policy& p, int line) { return p.file + ":" + std::to_string(line); }

// Overlapping permits must agree on every field they share, and may not map two fields onto
// one output name: otherwise the outcome would depend on which one is read first.
void check_conflicts(const std::vector<Policy>& policies, std::vector<Diagnostic>& diagnostics) {
  for (std::size_t i = 0; i < policies.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const Policy& a = policies[j];
      const Policy& b = policies[i];
      if (a.id == b.id) {
        diagnostics.push_back(
            {b.file, b.line,
             "duplicate policy id '" + b.id + "' (also in " + where(a, a.line) + ")"});
        continue;
      }
      if (a.effect != Effect::kPermit || b.effect != Effect::kPermit || !co_match(a, b)) continue;
      for (const FieldRule& rb : b.fields) {
        for (const FieldRule& ra : a.fields) {
          const bool same_field = ra.field == rb.field;
          if (same_field &&
              (ra.transform != rb.transform || ra.output != rb.output || a.basis != b.basis)) {
            diagnostics.push_back(
                {b.file, rb.line,
                 "field '" + rb.field + "' conflicts with policy '" + a.id + "' (" +
                     where(a, ra.line) +
                     "): overlapping policies must agree on transform, output name and basis"});
          } else if (!same_field && ra.output == rb.output) {
            diagnostics.push_back({b.file, rb.line,
                                   "field '" + rb.field + "' appears as '" + rb.output +
                                       "', as does field '" + ra.field + "' of policy '" + a.id +
                                       "' (" + where(a, ra.line) + ")"});
          }
        }
      }
    }
  }
}

// Merges the matching policies (sorted by id) into one plan: deny beats permit.
// `to` is the recipient's role: identificatie never goes to a project, whatever a file says
// (the loader refuses such files; this is the second lock).
FlowPlan merge(const std::vector<const Policy*>& matching, Role to, const Catalogue& catalogue) {
  FlowPlan plan;
  for (const Policy* p : matching) plan.policies.push_back(p->ref());
  for (const Policy* p : matching) {
    if (p->effect == Effect::kDeny && p->fields.empty()) {
      plan.refusal = Refusal{Refusal::Kind::kDenied, p->ref(), "denied by policy " + p->ref()};
      return plan;
    }
  }
  const auto denied_by = [&](const std::string& field) -> const Policy* {
    for (const Policy* p : matching) {
      if (p->effect != Effect::kDeny) continue;
      for (const FieldRule& r : p->fields) {
        if (r.field == field) return p;
      }
    }
    return nullptr;
  };
  bool any_permit = false;
  for (const Policy* p : matching) {
    if (p->effect != Effect::kPermit) continue;
    any_permit = true;
    for (const FieldRule& r : p->fields) {
      if (const Policy* deny = denied_by(r.field)) {
        plan.withheld.emplace_back(r.field, deny->ref());
        continue;
      }
      const bool seen = std::any_of(plan.fields.begin(), plan.fields.end(),
                                    [&](const PlannedField& f) { return f.field == r.field; });
      if (seen) continue;  // listed by an earlier permit; the loader made sure they agree
      if (r.category == Category::kIdentificatie && to == Role::kProject) continue;
      plan.fields.push_back({r.field, r.output, r.transform, r.category,
                             p->basis == Basis::kConsent, catalogue.find(p->record, r.field), p});
    }
  }
  if (!any_permit) {
    plan.refusal = Refusal{Refusal::Kind::kNoPolicy, "", "no policy permits this flow"};
    plan.fields.clear();
    return plan;
  }
  std::sort(plan.fields.begin(), plan.fields.end(),
            [](const PlannedField& a, const PlannedField& b) { return a.output < b.output; });
  std::sort(plan.withheld.begin(), plan.withheld.end());
  plan.withheld.erase(std::unique(plan.withheld.begin(), plan.withheld.end()), plan.withheld.end());
  return plan;
}

bool in_vocabulary(const FieldSpec& spec, const std::string& item) {
  return std::find(spec.values.begin(), spec.values.end(), item) != spec.values.end();
}

// The value of one planned field as disclosed, or nullopt to withhold it.
std::optional<FieldValue> disclose(const PlannedField& f, const nlohmann::json& v,
                                   std::chrono::year_month_day today) {
  switch (f.spec->type) {
    case FieldType::kBoolean:
      if (!v.is_boolean()) return std::nullopt;
      return FieldValue(v.get<bool>());
    case FieldType::kInteger:
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)) {
        return std::nullopt;
      }
      return FieldValue(v.get<std::int64_t>());
    case FieldType::kList: {
      if (!v.is_array()) return std::nullopt;
      std::vector<std::string> items;
      items.reserve(v.size());
      for (const nlohmann::json& item : v) {
        if (!item.is_string()) return std::nullopt;
        const auto& s = item.get_ref<const std::string&>();
        if (f.transform != Transform::kDropFreeText || in_vocabulary(*f.spec, s)) {
          items.push_back(s);
        }
      }
      if (items.empty() && !v.empty()) return std::nullopt;  // all of it was free text
      return FieldValue(std::move(items));
    }
    default:
      break;
  }
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  switch (f.transform) {
    case Transform::kNone:
      return FieldValue(s);
    case Transform::kAgeBand: {
      auto birth = parse_date(s);
      if (!birth) return std::nullopt;
      auto band = age_band(*birth, today);
      if (!band) return std::nullopt;
      return FieldValue(std::move(*band));
    }
    case Transform::kPostcode4: {
      auto pc = postcode4(s);
      if (!pc) return std::nullopt;
      return FieldValue(std::move(*pc));
    }
    case Transform::kYearMonth: {
      auto ym = year_month(s);
      if (!ym) return std::nullopt;
      return FieldValue(std::move(*ym));
    }
    case Transform::kDropFreeText:
      return std::nullopt;  // free text never passes this transform
  }
  return std::nullopt;
}

}  // namespace

struct PolicySet::Impl {
  // A member, not in the anonymous namespace: Impl has external linkage (-Wsubobject-linkage).
  struct Bucket {
    std::vector<const Policy*> candidates;  // policies some flow of this bucket may match
    FlowPlan role_plan;                     // merged from the candidates naming no organisation
    bool has_org_specific = false;
  };

  Catalogue catalogue;
  std::vector<Policy> policies;  // sorted by id; Bucket pointers point in here
  std::array<Bucket, kBucketCount> buckets;
  std::string hash;

  explicit Impl(Catalogue c) : catalogue(std::move(c)) {}

  const Bucket& bucket(const Flow& flow) const {
    return buckets[bucket_index(flow.from.role, flow.to.role, flow.record, flow.purpose)];
  }
};

std::string Flow::to_string() const {
  const auto party = [](const Party& p) {
    std::string out(brug::to_string(p.role));
    return p.org.empty() ? out : out + ":" + p.org;
  };
  return party(from) + " -> " + party(to) + " " + std::string(brug::to_string(record)) + " " +
         std::string(brug::to_string(purpose));
}

std::vector<std::string> View::disclosed() const {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const ViewField& f : fields) names.push_back(f.name);
  return names;
}

const FieldValue* View::find(std::string_view name) const {
  for (const ViewField& f : fields) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

nlohmann::json View::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const ViewField& f : fields) {
    std::visit([&](const auto& v) { out[f.name] = v; }, f.value);
  }
  return out;
}

Result<PolicySet> PolicySet::load(const std::filesystem::path& dir, const Catalogue& catalogue) {
  std::vector<Diagnostic> diagnostics;
  auto set = load(dir, catalogue, diagnostics);
  if (!set) {
    return Status::error(Code::kInvalidArgument, "policies: " + brug::to_string(diagnostics));
  }
  return std::move(*set);
}

std::optional<PolicySet> PolicySet::load(const std::filesystem::path& dir,
                                         const Catalogue& catalogue,
                                         std::vector<Diagnostic>& diagnostics) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    diagnostics.push_back({dir.string(), 0, "cannot read the policy directory"});
    return std::nullopt;
  }
  if (files.empty()) {
    diagnostics.push_back({dir.string(), 0, "no *.json policy files"});
    return std::nullopt;
  }
  std::sort(files.begin(), files.end());
  const std::size_t errors_before = diagnostics.size();
  std::vector<Policy> policies;
  for (const auto& file : files) {
    auto text = policies_internal::read_text(file, diagnostics);
    if (!text) continue;
    if (auto p = parse_policy(*text, file.string(), catalogue, diagnostics)) {
      policies.push_back(std::move(*p));
    }
  }
  auto set = from_policies(std::move(policies), catalogue, diagnostics);
  if (diagnostics.size() != errors_before) return std::nullopt;
  return set;
}

std::optional<PolicySet> PolicySet::from_policies(std::vector<Policy> policies,
                                                  const Catalogue& catalogue,
                                                  std::vector<Diagnostic>& diagnostics) {
  const std::size_t errors_before = diagnostics.size();
  check_conflicts(policies, diagnostics);
  if (diagnostics.size() != errors_before) return std::nullopt;

  auto impl = std::make_shared<Impl>(catalogue);
  impl->policies = std::move(policies);
  std::sort(impl->policies.begin(), impl->policies.end(),
            [](const Policy& a, const Policy& b) { return a.id < b.id; });

  std::string canonical = "brug-policy-set/1\n" + catalogue.canonical() + "\n";
  for (const Policy& p : impl->policies) canonical += p.canonical + "\n";
  impl->hash = crypto::to_hex(crypto::sha256(canonical));

  for (int from = 0; from < kRoleCount; ++from) {
    for (int to = 0; to < kRoleCount; ++to) {
      for (int record = 0; record < kRecordTypeCount; ++record) {
        for (int purpose = 0; purpose < kPurposeCount; ++purpose) {
          Impl::Bucket& b = impl->buckets[bucket_index(Role(from), Role(to), RecordType(record),
                                                       Purpose(purpose))];
          std::vector<const Policy*> role_wide;
          for (const Policy& p : impl->policies) {
            if (p.record != RecordType(record) || p.purpose != Purpose(purpose) ||
                !p.from.may_be(Role(from)) || !p.to.may_be(Role(to))) {
              continue;
            }
            b.candidates.push_back(&p);
            b.has_org_specific = b.has_org_specific || org_specific(p);
            if (!org_specific(p)) role_wide.push_back(&p);
          }
          b.role_plan = merge(role_wide, Role(to), impl->catalogue);
        }
      }
    }
  }
  return PolicySet(std::move(impl));
}

FlowPlan PolicySet::plan_for(const Flow& flow) const {
  const Impl::Bucket& b = impl_->bucket(flow);
  if (!b.has_org_specific) return b.role_plan;
  std::vector<const Policy*> matched;
  for (const Policy* p : b.candidates) {
    if (p->from.matches(flow.from) && p->to.matches(flow.to)) matched.push_back(p);
  }
  return merge(matched, flow.to.role, impl_->catalogue);
}

Decision PolicySet::view_for(const Flow& flow, const nlohmann::json& record, CategorySet consent,
                             std::chrono::year_month_day today) const {
  const Impl::Bucket& b = impl_->bucket(flow);
  // The common case needs no merging: the plan was compiled at load time.
  std::optional<FlowPlan> dynamic;
  if (b.has_org_specific) dynamic = plan_for(flow);
  const FlowPlan& plan = dynamic ? *dynamic : b.role_plan;
  if (plan.refusal) {
    Refusal r = *plan.refusal;
    r.reason += ": " + flow.to_string();
    return Decision{std::move(r)};
  }
  View view;
  view.policies = plan.policies;
  view.fields.reserve(plan.fields.size());
  if (record.is_object()) {
    for (const PlannedField& f : plan.fields) {
      if (f.needs_consent && !consent.contains(f.category)) continue;
      auto it = record.find(f.field);
      if (it == record.end()) continue;
      if (auto value = disclose(f, *it, today))
        view.fields.push_back({f.output, std::move(*value)});
    }
  }
  return Decision{std::move(view)};
}

const std::string& PolicySet::content_hash() const { return impl_->hash; }

const std::vector<Policy>& PolicySet::policies() const { return impl_->policies; }

}  // namespace brug
