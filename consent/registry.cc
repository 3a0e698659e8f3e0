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
  std::map<std::string, Decision> out;
  BRUG_RETURN_IF_ERROR(decide_each(participants, grantee, purpose, out));
  return out;
}

// One look-up for all of `participants`. A consent among them that does not read back fails the
// whole look-up (kCorrupt): the list is halved until the unreadable one is asked by itself, so
// one damaged row costs about two look-ups per halving, not one per participant.
Status ConsentRegistry::decide_each(std::span<const std::string> participants,
                                    const std::string& grantee, Purpose purpose,
                                    std::map<std::string, Decision>& out) {
  if (participants.empty()) return Status::ok();
  if (participants.size() == 1) {
    auto decision = permits(participants.front(), grantee, purpose);
    if (!decision) return decision.status();
    out.insert_or_assign(participants.front(), std::move(decision).value());
    return Status::ok();
  }
  auto found = store_.for_grants(std::vector<std::string>(participants.begin(), participants.end()),
                                 grantee, purpose);
  if (!found && found.status().code() == Code::kCorrupt) {
    const std::size_t half = participants.size() / 2;
    BRUG_RETURN_IF_ERROR(decide_each(participants.first(half), grantee, purpose, out));
    return decide_each(participants.subspan(half), grantee, purpose, out);
  }
  if (!found) return found.status();
  const std::string now = now_();
  const std::vector<Consent> none;
  for (const std::string& p : participants) {
    const auto it = found->find(p);
    out.insert_or_assign(p, evaluate(it == found->end() ? none : it->second, now, std::nullopt));
  }
  return Status::ok();
}

}  // namespace brug::consent
