// POST /v1/outcomes: a project reports what happened to participants referred to it. Each item
// goes through policy like every other flow (the project to the organisations that referred the
// participant), and the accepted outcomes commit with their audit events.
#include "adapters/stores.h"
#include "consent/registry.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/audit/audit_log.h"
#include "gateway/disclosure/flow.h"
#include "gateway/disclosure/subject.h"
#include "gateway/exchange/use_cases.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"
#include "policies/catalogue.h"

namespace brug::gateway {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

struct OutcomeItem {
  std::string participant;
  json record;
  std::optional<Problem> problem;
};

Problem consent_ended() {
  return {403, "consent-ended", "Consent ended",
          "The participant's consent for this project is withdrawn or has expired."};
}

// Whether the project works with the participant on their consent (a referral to it that
// needed one) and that consent no longer holds: then it may not report on them either.
Result<bool> consent_has_ended(const ExchangeDeps& d, const Organisation& caller,
                               const std::vector<std::string>& referrers,
                               consent::ConsentRegistry& consents, const std::string& participant) {
  bool needs_consent = false;
  for (const std::string& id : referrers) {
    const Organisation* from = d.orgs.find(id);
    if (from == nullptr) continue;
    auto plan = plan_flow(d.policies, {party_of(*from), party_of(caller), RecordType::kReferral,
                                       Purpose::kBegeleidingNaarWerk});
    needs_consent = needs_consent || !plan || plan->needs_consent;
  }
  if (!needs_consent) return false;
  auto decision = consents.permits(participant, caller.id, Purpose::kBegeleidingNaarWerk);
  if (!decision) return decision.status();
  // A consent that does not read back is not an ended one: the push fails (nothing stored)
  // rather than refuse the project for a reason that is not true.
  if (decision->reason == consent::DenyReason::kUnreadable) {
    return Status::error(Code::kCorrupt, "a consent of the participant does not read back");
  }
  return !decision->permitted;
}

Problem unknown_subject() {
  return {400, "unknown-subject", "Unknown subject",
          "subject.pseudonym: is not a participant referred to you."};
}

// The flows an outcome of `caller` about a participant referred by `referrers` may take: back
// to each referrer for resultaatverantwoording, or into its aggregate reports (monitoring).
std::optional<PlannedFlow> outcome_plan(const ExchangeDeps& d, const Organisation& caller,
                                        const std::vector<std::string>& referrers,
                                        std::string& purpose) {
  std::optional<PlannedFlow> out;
  for (Purpose p : {Purpose::kResultaatverantwoording, Purpose::kMonitoring}) {
    for (const std::string& id : referrers) {
      const Organisation* to = d.orgs.find(id);
      if (to == nullptr) continue;
      auto plan = plan_flow(d.policies, {party_of(caller), party_of(*to), RecordType::kOutcome, p});
      if (!plan) continue;
      if (!out) {
        out = plan;
        purpose = std::string(to_string(p));
      } else {
        out->policy_ids.insert(out->policy_ids.end(), plan->policy_ids.begin(),
                               plan->policy_ids.end());
      }
    }
    if (out) break;
  }
  if (out) {
    std::sort(out->policy_ids.begin(), out->policy_ids.end());
    out->policy_ids.erase(std::unique(out->policy_ids.begin(), out->policy_ids.end()),
                          out->policy_ids.end());
  }
  return out;
}

}  // namespace

Answer push_outcomes(const ExchangeDeps& d, Call& call) {
  if (auto refused = batch_problem(d, call.body)) return Answer::refuse(*refused);
  const Organisation& caller = call.caller;
  std::vector<OutcomeItem> parsed;
  for (const auto& item : call.body["items"]) {
    OutcomeItem it;
    if (!item.is_object() || !item.contains("subject") || !item["subject"].is_object()) {
      it.problem = validation_problem("subject", "is required: {\"pseudonym\": ...}");
      parsed.push_back(std::move(it));
      continue;
    }
    const ResolvedSubject who = resolve_subject(item["subject"], caller, d.keys);
    if (who.problem) {
      it.problem = who.problem;
      parsed.push_back(std::move(it));
      continue;
    }
    it.participant = who.participant;
    it.record = item;
    it.record.erase("subject");
    const auto errors = d.catalogue.validate(RecordType::kOutcome, it.record);
    if (!errors.empty()) {
      it.problem = validation_problem(errors.front().field, errors.front().problem);
    }
    parsed.push_back(std::move(it));
  }

  ordered_json results;
  Status stored = d.audit.record([&](adapters::Stores& s, std::vector<AuditEvent>& events) {
    results = ordered_json::array();
    KeyCache keys(d.keys);
    const std::string now = d.env.now_rfc3339();
    consent::ConsentRegistry consents(s.consents, [&] { return now; });
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      const OutcomeItem& it = parsed[i];
      ordered_json res = {{"index", i}};
      AuditEvent e = call.event();
      e.record_type = "outcome";
      if (!it.participant.empty()) e.subject = audit_subject(d.keys, it.participant);
      auto refuse = [&](const Problem& p) { reject_item(res, e, p); };
      std::optional<Problem> problem = it.problem;
      std::optional<PlannedFlow> plan;
      const crypto::DataKey* key = nullptr;
      if (!problem) {
        // Only participants referred to this project, and not erased.
        auto referrers = s.exchange.referrers(it.participant, caller.id);
        if (!referrers) return referrers.status();
        auto k = keys.get(s.exchange, it.participant);
        if (!k) return k.status();
        key = *k;
        auto ended = referrers->empty()
                         ? Result<bool>(false)
                         : consent_has_ended(d, caller, *referrers, consents, it.participant);
        if (!ended) return ended.status();
        if (referrers->empty() || key == nullptr) {
          problem = unknown_subject();
        } else if (*ended) {
          problem = consent_ended();
        } else {
          plan = outcome_plan(d, caller, *referrers, e.purpose);
          if (!plan) {
            problem = Problem{403, "no-policy", "No policy",
                              "No policy lets outcomes of this project flow anywhere."};
          }
        }
      }
      if (problem) {
        refuse(*problem);
      } else {
        e.basis = plan->basis();
        e.policy_ids = plan->policy_ids;
        auto index = crypto::ParticipantIndex::from_hex(it.participant);
        if (!index) return index.status();
        const std::string id = new_record_id(d.env, "out_");
        auto sealed = crypto::seal_record(*key, {id, *index, "outcome", caller.id},
                                          bytes_of(it.record.dump()));
        if (!sealed) return sealed.status();
        BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(
            {id, caller.id, it.participant, std::move(sealed).value(), now}));
        res["status"] = "accepted";
        res["id"] = id;
        e.decision = "permit";
        for (const auto& [k, v] : it.record.items()) e.fields.push_back(k);
      }
      results.push_back(std::move(res));
      events.push_back(std::move(e));
    }
    return Status::ok();
  });
  return batch_answer(stored, std::move(results));
}

}  // namespace brug::gateway
