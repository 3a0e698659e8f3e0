#include "policies/check.h"

#include <iomanip>
#include <vector>

namespace brug {

std::filesystem::path default_catalogue_path(const std::filesystem::path& policy_dir) {
  std::filesystem::path beside = policy_dir / "catalogue.json";
  std::error_code ec;
  if (std::filesystem::exists(beside, ec)) return beside;
  std::filesystem::path dir = std::filesystem::absolute(policy_dir, ec).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "policies/default/"
  return dir.parent_path() / "catalogue.json";
}

int check_policy_dir(const std::filesystem::path& dir, const std::filesystem::path& catalogue_path,
                     std::ostream& out) {
  std::vector<Diagnostic> diagnostics;
  auto catalogue = Catalogue::load(catalogue_path, diagnostics);
  std::optional<PolicySet> set;
  if (catalogue) set = PolicySet::load(dir, *catalogue, diagnostics);
  out << to_string(diagnostics);
  if (!set || !diagnostics.empty()) {
    out << diagnostics.size() << (diagnostics.size() == 1 ? " problem" : " problems")
        << (catalogue ? "" : " in the catalogue (policies not checked)") << "\n";
    return 1;
  }
  out << "ok: " << set->policies().size() << " policies, catalogue " << catalogue_path.string()
      << ", set hash " << set->content_hash() << "\n";
  return 0;
}

int check_policy_dir(const std::string& dir, std::ostream& out) {
  return check_policy_dir(dir, default_catalogue_path(dir), out);
}

int explain_flow(const PolicySet& set, const Party& from, const Party& to, RecordType record,
                 Purpose purpose, std::ostream& out) {
  const Flow flow{from, to, record, purpose};
  const FlowPlan plan = set.plan_for(flow);
  out << "flow: " << flow.to_string() << "\n";
  out << "policy set: " << set.content_hash() << "\n";
  if (plan.refusal) {
    out << "refused: " << plan.refusal->reason << "\n";
    return 1;
  }
  out << "policies:";
  for (const std::string& p : plan.policies) out << " " << p;
  out << "\nfields that flow:\n";
  for (const PlannedField& f : plan.fields) {
    std::string as = f.field == f.output ? f.field : f.field + " -> " + f.output;
    out << "  " << std::left << std::setw(34) << as << std::setw(15) << to_string(f.transform)
        << std::setw(14) << to_string(f.category)
        << (f.needs_consent ? "if consented  " : "public task   ") << f.policy->ref() << "\n";
  }
  if (plan.fields.empty()) out << "  (none)\n";
  for (const auto& [field, policy] : plan.withheld) {
    out << "withheld: " << field << " (denied by " << policy << ")\n";
  }
  out << "every other field is dropped (default deny)\n";
  return 0;
}

std::optional<Party> parse_party(std::string_view text) {
  const auto colon = text.find(':');
  auto role = parse_role(text.substr(0, colon));
  if (!role) return std::nullopt;
  Party party{*role, ""};
  if (colon != std::string_view::npos) {
    party.org = std::string(text.substr(colon + 1));
    if (party.org.empty()) return std::nullopt;
  }
  return party;
}

}  // namespace brug
