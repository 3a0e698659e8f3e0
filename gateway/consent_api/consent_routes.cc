#include "gateway/consent_api/consent_routes.h"

#include <nlohmann/json.hpp>

#include "adapters/formats/fhir_consent.h"
#include "adapters/stores.h"
#include "consent/registry.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "gateway/audit/audit_log.h"
#include "gateway/disclosure/flow.h"
#include "gateway/disclosure/pipeline.h"
#include "gateway/disclosure/subject.h"
#include "gateway/exchange/exchange.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

using consent::Consent;
using nlohmann::ordered_json;

// A consent event for the audit log: the consent's grant, never the BSN.
AuditEvent consent_event(const Call& call, const Consent& c, const crypto::KeyDir& keys) {
  AuditEvent e = call.event();
  e.record_type = "consent";
  e.purpose = std::string(to_string(c.purpose));
  e.basis = "consent";
  e.subject = audit_subject(keys, c.participant);
  e.recipient = c.grantee;
  e.fields = c.categories;
  e.consent_ids = {c.id};
  e.decision = "permit";
  return e;
}

// A consent as the caller may see it: projects see their own pseudonym, nobody sees a BSN.
ordered_json to_json(const Consent& c, const Organisation& caller, const ConsentRouteDeps& d,
                     const std::string& now) {
  ordered_json j = {{"id", c.id}};
  if (caller.role == Role::kProject) {
    if (auto p = pseudonym_for(caller, c.participant, d.keys)) j["subject"] = {{"pseudonym", *p}};
  }
  j["grantee"] = c.grantee;
  j["purpose"] = to_string(c.purpose);
  j["categories"] = c.categories;
  j["valid_from"] = c.valid_from.to_string();
  j["valid_until"] = c.valid_until.to_string();
  j["status"] = consent::to_string(c.status_at(now));
  j["evidence"] = {{"method", consent::to_string(c.evidence.method)},
                   {"reference", c.evidence.reference}};
  j["recorded_by"] = c.recorded_by;
  j["recorded_at"] = c.recorded_at;
  if (auto w = c.withdrawn_at()) j["withdrawn_at"] = *w;
  ordered_json events = ordered_json::array();
  for (const auto& e : c.events) {
    events.push_back({{"kind", consent::to_string(e.kind)}, {"at", e.at}, {"actor", e.actor}});
  }
  j["events"] = events;
  return j;
}

constexpr const char* kFhirJson = "application/fhir+json";

// A consent as FHIR R4, naming the participant as the JSON answer does: a project by its own
// pseudonym (Patient/<pseudonym>), everyone else not at all.
nlohmann::json to_fhir(const Consent& c, const Organisation& caller, const ConsentRouteDeps& d,
                       const std::string& now) {
  std::string patient;
  if (caller.role == Role::kProject) {
    if (auto p = pseudonym_for(caller, c.participant, d.keys)) patient = "Patient/" + *p;
  }
  return adapters::to_fhir_consent(c, patient, now);
}

// One consent in the negotiated representation.
Response consent_response(int status, const Consent& c, const Call& call, const ConsentRouteDeps& d,
                          const std::string& now) {
  if (call.representation != kFhirJson) {
    return json_response(status, to_json(c, call.caller, d, now).dump());
  }
  Response out = json_response(status, to_fhir(c, call.caller, d, now).dump());
  out.content_type = kFhirJson;
  return out;
}

// May the caller see this consent at all? Government parties see every consent; a project sees
// the grants to itself and the ones it recorded.
bool may_see(const Consent& c, const Organisation& caller) {
  if (caller.role != Role::kProject) return true;
  return c.grantee == caller.id || c.recorded_by == caller.id;
}

Answer record(Call& call, const ConsentRouteDeps& d) {
  const Organisation& caller = call.caller;
  FieldReader r(call.body);
  r.only({"subject", "grantee", "purpose", "categories", "valid_from", "valid_until", "evidence"});
  const nlohmann::json* subject = r.object("subject");
  const std::string grantee = r.text("grantee", true, 64);
  const std::string purpose_text = r.text("purpose", true, 64);
  std::vector<std::string> categories = r.texts("categories", 16);
  const std::string from_text = r.text("valid_from", true, 10);
  const std::string until_text = r.text("valid_until", true, 10);
  const nlohmann::json* evidence = r.object("evidence");
  if (r.problem()) return Answer::refuse(*r.problem());

  FieldReader ev(*evidence, "evidence");
  ev.only({"method", "reference"});
  const std::string method_text = ev.text("method", true, 32);
  const std::string reference = ev.text("reference", true, 200);
  if (ev.problem()) return Answer::refuse(*ev.problem());

  const auto purpose = parse_purpose(purpose_text);
  if (!purpose) return Answer::refuse(validation_problem("purpose", "unknown purpose"));
  call.context.purpose = purpose_text;
  call.context.basis = "consent";
  const auto method = consent::parse_evidence_method(method_text);
  if (!method) {
    return Answer::refuse(
        validation_problem("evidence.method", "must be schriftelijk, digitaal or mondeling"));
  }
  auto from = consent::Date::parse(from_text);
  if (!from) return Answer::refuse(validation_problem("valid_from", from.message()));
  auto until = consent::Date::parse(until_text);
  if (!until) return Answer::refuse(validation_problem("valid_until", until.message()));
  const Organisation* grantee_org = d.orgs.find(grantee);
  if (grantee_org == nullptr) {
    return Answer::refuse(validation_problem("grantee", "is not a registered organisation"));
  }
  call.context.recipient = grantee;
  if (caller.role == Role::kProject && grantee != caller.id) {
    return Answer::refuse(
        forbidden_problem("A project records consent only for grants to itself."));
  }
  ResolvedSubject who = resolve_subject(*subject, caller, d.keys);
  if (who.problem) return Answer::refuse(*who.problem);
  call.context.subject = audit_subject(d.keys, who.participant);

  const consent::NewConsent n{.participant = who.participant,
                              .grantee = grantee,
                              .purpose = *purpose,
                              .categories = std::move(categories),
                              .valid_from = *from,
                              .valid_until = *until,
                              .evidence = {*method, reference}};
  if (auto p = consent::ConsentRegistry::check(n)) {
    return Answer::refuse(validation_problem(p->field, p->problem));
  }
  std::optional<Consent> stored;
  const std::string now = d.env.now_rfc3339();
  Status s = d.audit.record(
      [&](adapters::Stores& st, std::vector<AuditEvent>& events) {
        consent::ConsentRegistry consents(st.consents, [&] { return now; });
        auto c = consents.record(n, caller.id);
        if (!c) return c.status();
        stored = std::move(c).value();
        events.push_back(consent_event(call, *stored, d.keys));
        return Status::ok();
      },
      Changes::none());  // a consent only: no participant, no referral
  if (!s.is_ok()) return Answer::fail(s);
  Response out = consent_response(201, *stored, call, d, now);
  out.headers.emplace_back("Location", "/v1/consents/" + stored->id);
  return Answer::committed(std::move(out));
}

Answer withdraw(Call& call, const ConsentRouteDeps& d) {
  const Organisation& caller = call.caller;
  FieldReader r(call.body);
  r.only({});
  if (r.problem()) return Answer::refuse(*r.problem());
  const std::string& id = call.request.path_params.at("id");
  const std::string now = d.env.now_rfc3339();
  std::optional<Consent> after;
  std::optional<Problem> refused;
  Status s = d.audit.record([&](adapters::Stores& st, std::vector<AuditEvent>& events) {
    after.reset();
    refused.reset();
    consent::ConsentRegistry consents(st.consents, [&] { return now; });
    auto found = consents.find(id);
    if (!found) return found.status();
    if (!found->has_value() || !may_see(**found, caller)) {
      refused = Problem{404, "not-found", "Not found", "No consent with this id."};
      return Status::ok();
    }
    call.context.purpose = std::string(to_string((**found).purpose));
    call.context.basis = "consent";
    call.context.recipient = (**found).grantee;
    call.context.subject = audit_subject(d.keys, (**found).participant);
    call.context.consent_ids = {id};
    if ((**found).recorded_by != caller.id && caller.role != Role::kGemeente) {
      refused = forbidden_problem(
          "Only the organisation that recorded a consent, or a gemeente, may withdraw it.");
      return Status::ok();
    }
    auto withdrawn = consents.withdraw(id, caller.id);
    if (!withdrawn) return withdrawn.status();
    after = std::move(withdrawn).value();
    // In the same transaction: what waits for the grantee is purged and a deletion notice is
    // left in its feed, so a crash cannot keep the withdrawal and lose the notice.
    auto purged = purge_for(st.exchange, after->participant, after->grantee,
                            std::string(to_string(after->purpose)), now);
    if (!purged) return purged.status();
    events.push_back(consent_event(call, *after, d.keys));
    return Status::ok();
  });
  if (!s.is_ok()) return Answer::fail(s);
  if (refused) return Answer::refuse(*refused);
  return Answer::committed(consent_response(200, *after, call, d, now));
}

Answer search(Call& call, const ConsentRouteDeps& d) {
  const Organisation& caller = call.caller;
  FieldReader r(call.body);
  r.only({"subject"});
  const nlohmann::json* subject = r.object("subject");
  if (r.problem()) return Answer::refuse(*r.problem());
  ResolvedSubject who = resolve_subject(*subject, caller, d.keys);
  if (who.problem) return Answer::refuse(*who.problem);
  call.context.subject = audit_subject(d.keys, who.participant);
  const std::string now = d.env.now_rfc3339();
  std::vector<Consent> visible;
  Status s = d.db.read([&](adapters::Stores& st) {
    visible.clear();
    auto all = st.consents.for_participant(who.participant);
    if (!all) return all.status();
    for (Consent& c : *all) {
      if (may_see(c, caller)) visible.push_back(std::move(c));
    }
    return Status::ok();
  });
  if (!s.is_ok()) return Answer::fail(s);
  AuditEvent e = call.event();
  e.decision = "permit";
  Response out;
  if (call.representation == kFhirJson) {
    // A FHIR search result: a searchset Bundle with one match entry per consent.
    nlohmann::json entries = nlohmann::json::array();
    for (const Consent& c : visible) {
      entries.push_back(
          {{"resource", to_fhir(c, caller, d, now)}, {"search", {{"mode", "match"}}}});
    }
    out = json_response(200, nlohmann::json{{"resourceType", "Bundle"},
                                            {"type", "searchset"},
                                            {"total", entries.size()},
                                            {"entry", entries}}
                                 .dump());
    out.content_type = kFhirJson;
  } else {
    ordered_json list = ordered_json::array();
    for (const Consent& c : visible) list.push_back(to_json(c, caller, d, now));
    out = json_response(200, ordered_json{{"consents", list}}.dump());
  }
  return Answer::respond(std::move(out), {e});
}

}  // namespace

void add_consent_routes(Pipeline& pipeline, ConsentRouteDeps deps) {
  const std::set<Role> recorders = {Role::kGemeente, Role::kParticipatiebedrijf, Role::kProject};
  const std::vector<std::string> produces = {"application/json", kFhirJson};
  pipeline.add({"POST", "/v1/consents", recorders, "consent.record", "consent", Body::kJsonObject,
                [deps](Call& c) { return record(c, deps); }, produces});
  pipeline.add({"POST", "/v1/consents/{id}/withdraw", recorders, "consent.withdraw", "consent",
                Body::kOptionalJsonObject, [deps](Call& c) { return withdraw(c, deps); },
                produces});
  pipeline.add({"POST", "/v1/consents/search", recorders, "consent.search", "consent",
                Body::kJsonObject, [deps](Call& c) { return search(c, deps); }, produces});
}

}  // namespace brug::gateway
