#include "consent/registry.h"

#include <algorithm>

namespace brug::consent {
namespace {

Decision unreadable() {
  Decision d;
  d.reason = DenyReason::kUnreadable;
  return d;
}

}  // namespace

ConsentRegistry::ConsentRegistry(ConsentStore& store, std::function<std::string()> now)
    : store_(store), now_(std::move(now)) {}

std::optional<FieldProblem> ConsentRegistry::check(const NewConsent& c) {
  if (c.purpose == Purpose::kUitvoeringParticipatiewet || c.purpose == Purpose::kToezicht) {
    return FieldProblem{"purpose", "rests on a public task, not on consent"};
  }
  if (c.categories.empty()) return FieldProblem{"categories", "must name at least one category"};
  for (std::size_t i = 0; i < c.categories.size(); ++i) {
    // Named by position, never by the client's text (which may hold anything).
    const auto category = parse_category(c.categories[i]);
    if (!category) {
      return FieldProblem{"categories[" + std::to_string(i) + "]",
                          "is not a category of the vocabulary"};
    }
    if (*category == Category::kIdentificatie) {
      return FieldProblem{"categories", "identificatie cannot be consented to: a BSN never leaves"};
    }
  }
  if (c.valid_until < c.valid_from) {
    return FieldProblem{"valid_until", "must not be before valid_from"};
  }
  if (c.evidence.reference.empty()) {
    return FieldProblem{"evidence.reference", "must say where the evidence is kept"};
  }
  if (c.evidence.reference.size() > 200) {
    return FieldProblem{"evidence.reference", "must be at most 200 characters"};
  }
  return std::nullopt;
}

Result<Consent> ConsentRegistry::record(const NewConsent& n, const std::string& recorded_by) {
  if (auto problem = check(n)) {
    return Status::error(Code::kInvalidArgument, problem->field + ": " + problem->problem);
  }
  Consent c;
  c.id = new_consent_id();
  c.participant = n.participant;
  c.grantee = n.grantee;
  c.purpose = n.purpose;
  c.categories = n.categories;
  std::sort(c.categories.begin(), c.categories.end());
  c.categories.erase(std::unique(c.categories.begin(), c.categories.end()), c.categories.end());
  c.valid_from = n.valid_from;
  c.valid_until = n.valid_until;
  c.evidence = n.evidence;
  c.recorded_by = recorded_by;
  c.recorded_at = now_();
  c.events.push_back({EventKind::kGiven, c.recorded_at, recorded_by});
  BRUG_RETURN_IF_ERROR(store_.insert(c));
  return c;
}

Result<Consent> ConsentRegistry::withdraw(const std::string& id, const std::string& actor) {
  return store_.withdraw(id, actor, now_());
}

Result<std::optional<Consent>> ConsentRegistry::find(const std::string& id) {
  return store_.find(id);
}

Result<std::vector<Consent>> ConsentRegistry::of_participant(const std::string& participant) {
  return store_.for_participant(participant);
}

Result<Decision> ConsentRegistry::permits(const std::string& participant,
                                          const std::string& grantee, Purpose purpose,
                                          std::optional<std::string_view> category) {
  auto candidates = store_.for_grant(participant, grantee, purpose);
  if (!candidates) {
    if (candidates.status().code() == Code::kCorrupt) return unreadable();
    return candidates.status();
  }
  return evaluate(*candidates, now_(), category);
}

Result<std::map<std::string, Decision>> ConsentRegistry::permits_each(
    const std::vector<std::string>& participants, const std::string& grantee, Purpose purpose) {
  auto found = store_.for_grants(participants, grantee, purpose);
  if (!found && found.status().code() == Code::kCorrupt) {
    // Somebody's consent does not read: asked one by one, only theirs is unreadable.
    std::map<std::string, Decision> out;
    for (const std::string& p : participants) {
      auto decision = permits(p, grantee, purpose);
      if (!decision) return decision.status();
      out.emplace(p, std::move(decision).value());
    }
    return out;
  }
  if (!found) return found.status();
  const std::string now = now_();
  const std::vector<Consent> none;
  std::map<std::string, Decision> out;
  for (const std::string& p : participants) {
    const auto it = found->find(p);
    out.emplace(p, evaluate(it == found->end() ? none : it->second, now, std::nullopt));
  }
  return out;
}

}  // namespace brug::consent
