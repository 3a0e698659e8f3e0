// POST /v1/referrals: a gemeente or participatiebedrijf refers participants to a recipient.
// One transaction stores the batch's accepted referrals together with one audit event per item.
#include "adapters/stores.h"
#include "crypto/env.h"
#include "crypto/hash.h"
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

// A printable source reference of 1-128 characters.
bool valid_source_ref(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

struct ReferralItem {
  std::string source_ref;
  const Organisation* to = nullptr;
  Purpose purpose = Purpose::kBegeleidingNaarWerk;
  std::string participant, bsn;
  json record;
  std::vector<std::string> fields;
  PlannedFlow plan;
  std::string content_hash;
  std::optional<Problem> problem;
};

ReferralItem parse_referral(const ExchangeDeps& d, const json& item, const Organisation& caller) {
  ReferralItem it;
  if (!item.is_object()) {
    it.problem = validation_problem("item", "must be an object");
    return it;
  }
  FieldReader r(item);
  r.only({"source_ref", "to", "purpose", "subject", "record"});
  it.source_ref = r.text("source_ref", true, 128);
  const std::string to = r.text("to", true, 64);
  const std::string purpose = r.text("purpose", true, 64);
  const json* subject = r.object("subject");
  const json* record = r.object("record");
  if (r.problem()) {
    it.problem = r.problem();
    return it;
  }
  if (!valid_source_ref(it.source_ref)) {
    it.problem = validation_problem("source_ref", "must be 1-128 printable characters");
    return it;
  }
  it.to = d.orgs.find(to);
  if (it.to == nullptr || it.to->id == caller.id) {
    it.problem = validation_problem("to", "is not a registered recipient");
    return it;
  }
  const auto p = parse_purpose(purpose);
  if (!p) {
    it.problem = validation_problem("purpose", "unknown purpose");
    return it;
  }
  it.purpose = *p;
  const ResolvedSubject who = resolve_subject(*subject, caller, d.keys);
  if (who.problem) {
    it.problem = who.problem;
    return it;
  }
  it.participant = who.participant;
  it.bsn = subject->at("bsn").get<std::string>();
  const auto errors = d.catalogue.validate(RecordType::kReferral, *record);
  if (!errors.empty()) {
    it.problem = validation_problem("record." + errors.front().field, errors.front().problem);
    return it;
  }
  const Flow flow{party_of(caller), party_of(*it.to), RecordType::kReferral, it.purpose};
  auto plan = plan_flow(d.policies, flow);
  if (!plan) {
    it.problem = no_policy_problem(flow);
    return it;
  }
  it.plan = *plan;
  it.record = *record;
  for (const auto& [k, v] : record->items()) it.fields.push_back(k);
  // What idempotency compares: the same source_ref must mean the same referral.
  const std::string canonical = it.to->id + '\0' + std::string(to_string(it.purpose)) + '\0' +
                                it.participant + '\0' + it.record.dump();
  it.content_hash = crypto::to_hex(crypto::sha256(canonical));
  return it;
}

// The participant's data key, creating the participant (and sealing the BSN) when new or
// erased before.
Result<const crypto::DataKey*> participant_key(const ExchangeDeps& d, adapters::ExchangeStore& s,
                                               KeyCache& keys, const ReferralItem& it,
                                               const std::string& now) {
  auto existing = keys.get(s, it.participant);
  if (!existing) return existing.status();
  if (*existing != nullptr) return *existing;
  auto index = crypto::ParticipantIndex::from_hex(it.participant);
  if (!index) return index.status();
  auto key = crypto::DataKey::generate();
  if (!key) return key.status();
  auto wrapped = crypto::wrap_data_key(d.keys.keks(), *index, *key);
  if (!wrapped) return wrapped.status();
  auto sealed_bsn = crypto::seal_record(*key, {it.participant, *index, "bsn"}, bytes_of(it.bsn));
  if (!sealed_bsn) return sealed_bsn.status();
  BRUG_RETURN_IF_ERROR(s.put_participant(
      {it.participant, adapters::Blob(wrapped->bytes().begin(), wrapped->bytes().end()),
       std::move(sealed_bsn).value()},
      now));
  keys.put(it.participant, std::move(key).value());
  return keys.get(s, it.participant);
}

Problem idempotency_conflict() {
  return {409, "idempotency-conflict", "Idempotency conflict",
          "source_ref: this sender already used it for another referral."};
}

}  // namespace

std::optional<Problem> batch_problem(const ExchangeDeps& d, const json& body) {
  FieldReader r(body);
  r.only({"items"});
  if (r.problem()) return r.problem();
  const auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty()) {
    return validation_problem("items", "must be a non-empty array");
  }
  if (items->size() > static_cast<std::size_t>(d.max_batch)) {
    return Problem{413, "batch-too-large", "Batch too large",
                   "A push may hold at most " + std::to_string(d.max_batch) + " items."};
  }
  return std::nullopt;
}

Answer push_referrals(const ExchangeDeps& d, Call& call) {
  if (auto refused = batch_problem(d, call.body)) return Answer::refuse(*refused);
  const Organisation& caller = call.caller;
  std::vector<ReferralItem> parsed;
  parsed.reserve(call.body["items"].size());
  for (const auto& item : call.body["items"]) parsed.push_back(parse_referral(d, item, caller));

  ordered_json results;
  Status stored = d.audit.record([&](adapters::Stores& s, std::vector<AuditEvent>& events) {
    results = ordered_json::array();
    KeyCache keys(d.keys);
    const std::string now = d.env.now_rfc3339();
    for (const ReferralItem& it : parsed) {
      ordered_json res = {{"source_ref", it.source_ref}};
      AuditEvent e = call.event();
      e.record_type = "referral";
      auto refuse = [&](const Problem& p) { reject_item(res, e, p); };
      if (!it.participant.empty()) e.subject = audit_subject(d.keys, it.participant);
      if (it.to != nullptr) e.recipient = it.to->id;
      if (it.problem) {
        refuse(*it.problem);
      } else {
        e.purpose = std::string(to_string(it.purpose));
        e.basis = it.plan.basis();
        e.policy_ids = it.plan.policy_ids;
        auto existing = s.exchange.referral_by_source(caller.id, it.source_ref);
        if (!existing) return existing.status();
        if (*existing) {
          const adapters::StoredReferral& old = **existing;
          const bool same = old.content_hash.empty()
                                ? old.recipient == it.to->id && old.participant == it.participant &&
                                      old.purpose == e.purpose
                                : old.content_hash == it.content_hash;
          if (same) {
            res["status"] = "duplicate";
            res["id"] = old.id;
            e.decision = "permit";
            e.reason = "duplicate";
          } else {
            refuse(idempotency_conflict());
          }
        } else {
          auto key = participant_key(d, s.exchange, keys, it, now);
          if (!key) return key.status();
          auto index = crypto::ParticipantIndex::from_hex(it.participant);
          if (!index) return index.status();
          const std::string id = new_record_id(d.env, "ref_");
          auto sealed =
              crypto::seal_record(**key, {id, *index, "referral", caller.id, it.to->id, e.purpose},
                                  bytes_of(it.record.dump()));
          if (!sealed) return sealed.status();
          BRUG_RETURN_IF_ERROR(s.exchange.add_referral(
              {id, caller.id, it.source_ref, it.participant, it.to->id, e.purpose,
               std::move(sealed).value(), it.content_hash, now}));
          res["status"] = "accepted";
          res["id"] = id;
          e.decision = "permit";
          e.fields = it.fields;
        }
      }
      results.push_back(std::move(res));
      events.push_back(std::move(e));
    }
    return Status::ok();
  });
  return batch_answer(stored, std::move(results));
}

void reject_item(nlohmann::ordered_json& result, AuditEvent& event, const Problem& problem) {
  result["status"] = "rejected";
  result["problem"] = problem_json(problem);
  event.decision = "deny";
  event.reason = problem.slug;
}

Answer batch_answer(const Status& stored, nlohmann::ordered_json results) {
  if (!stored.is_ok()) return Answer::fail(stored);
  return Answer::committed(
      json_response(200, nlohmann::ordered_json{{"results", std::move(results)}}.dump()));
}

}  // namespace brug::gateway
