#include "gateway/consent_routes.h"

#include <nlohmann/json.hpp>

#include "consent/registry.h"
#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/audit.h"
#include "gateway/json_body.h"
#include "gateway/registry.h"
#include "gateway/subject.h"

namespace brug::gateway {
namespace {

using consent::Consent;
using nlohmann::ordered_json;

Response problem(const Problem& p, const Request& r) { return problem_response(p, r.request_id); }

std::string audit_subject_of(const std::string& participant, const crypto::KeyDir& keys) {
  auto index = crypto::ParticipantIndex::from_hex(participant);
  if (!index) return {};
  return crypto::audit_pseudonym(keys.audit_pseudonym_key(), *index).text();
}

// A consent event for the audit log: the consent's grant, never the BSN.
AuditEvent consent_event(const Request& r, std::string action, const Consent& c,
                         const crypto::KeyDir& keys) {
  AuditEvent e = audit_event(r, std::move(action));
  e.record_type = "consent";
  e.purpose = std::string(to_string(c.purpose));
  e.basis = "consent";
  e.subject = audit_subject_of(c.participant, keys);
  e.recipient = c.grantee;
  e.fields = c.categories;
  e.consent_ids = {c.id};
  e.decision = "permit";
  return e;
}

// A refused consent request: audited with the problem's type, then answered.
Response refused(const Problem& p, const Request& r, const ConsentRouteDeps& d,
                 const std::string& action) {
  AuditEvent e = audit_event(r, action);
  e.record_type = "consent";
  e.decision = "deny";
  e.reason = p.slug;
  return audited(d.audit, r, {e}, problem_response(p, r.request_id));
}

Response storage_failed(const Request& r) { return problem(internal_problem(), r); }

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

// May the caller see this consent at all? Government parties see every consent; a project sees
// the grants to itself and the ones it recorded.
bool may_see(const Consent& c, const Organisation& caller) {
  if (caller.role != Role::kProject) return true;
  return c.grantee == caller.id || c.recorded_by == caller.id;
}

Response record(const Request& req, const ConsentRouteDeps& d) {
  const Organisation& caller = *req.caller;
  ParsedBody body = parse_object_body(req);
  if (body.problem) return refused(*body.problem, req, d, "consent.record");
  FieldReader r(body.json);
  r.only({"subject", "grantee", "purpose", "categories", "valid_from", "valid_until", "evidence"});
  const nlohmann::json* subject = r.object("subject");
  const std::string grantee = r.text("grantee", true, 64);
  const std::string purpose_text = r.text("purpose", true, 64);
  std::vector<std::string> categories = r.texts("categories", 16);
  const std::string from_text = r.text("valid_from", true, 10);
  const std::string until_text = r.text("valid_until", true, 10);
  const nlohmann::json* evidence = r.object("evidence");
  if (r.problem()) return refused(*r.problem(), req, d, "consent.record");

  FieldReader ev(*evidence, "evidence");
  ev.only({"method", "reference"});
  const std::string method_text = ev.text("method", true, 32);
  const std::string reference = ev.text("reference", true, 200);
  if (ev.problem()) return refused(*ev.problem(), req, d, "consent.record");

  const auto purpose = parse_purpose(purpose_text);
  if (!purpose)
    return refused(validation_problem("purpose", "unknown purpose"), req, d, "consent.record");
  const auto method = consent::parse_evidence_method(method_text);
  if (!method) {
    return refused(
        validation_problem("evidence.method", "must be schriftelijk, digitaal or mondeling"), req,
        d, "consent.record");
  }
  auto from = consent::Date::parse(from_text);
  if (!from)
    return refused(validation_problem("valid_from", from.message()), req, d, "consent.record");
  auto until = consent::Date::parse(until_text);
  if (!until)
    return refused(validation_problem("valid_until", until.message()), req, d, "consent.record");
  const Organisation* grantee_org = d.orgs.find(grantee);
  if (grantee_org == nullptr) {
    return refused(validation_problem("grantee", "is not a registered organisation"), req, d,
                   "consent.record");
  }
  if (caller.role == Role::kProject && grantee != caller.id) {
    return refused(forbidden_problem("A project records consent only for grants to itself."), req,
                   d, "consent.record");
  }
  ResolvedSubject who = resolve_subject(*subject, caller, d.keys);
  if (who.problem) return refused(*who.problem, req, d, "consent.record");

  const consent::NewConsent n{.participant = who.participant,
                              .grantee = grantee,
                              .purpose = *purpose,
                              .categories = std::move(categories),
                              .valid_from = *from,
                              .valid_until = *until,
                              .evidence = {*method, reference}};
  if (auto p = consent::ConsentRegistry::check(n)) {
    return refused(validation_problem(p->field, p->problem), req, d, "consent.record");
  }
  auto stored = d.consents.record(n, caller.id);
  if (!stored) return storage_failed(req);
  Response out = json_response(201, to_json(*stored, caller, d, d.consents.now()).dump());
  out.headers.emplace_back("Location", "/v1/consents/" + stored->id);
  return audited(d.audit, req, {consent_event(req, "consent.record", *stored, d.keys)},
                 std::move(out));
}

Response withdraw(const Request& req, const ConsentRouteDeps& d) {
  const Organisation& caller = *req.caller;
  if (!req.body.empty()) {
    ParsedBody body = parse_object_body(req);
    if (body.problem) return refused(*body.problem, req, d, "consent.withdraw");
    FieldReader r(body.json);
    r.only({});
    if (r.problem()) return refused(*r.problem(), req, d, "consent.withdraw");
  }
  const std::string& id = req.path_params.at("id");
  auto found = d.consents.find(id);
  if (!found) return storage_failed(req);
  if (!found->has_value() || !may_see(**found, caller)) {
    return refused({404, "not-found", "Not found", "No consent with this id."}, req, d,
                   "consent.withdraw");
  }
  if ((**found).recorded_by != caller.id && caller.role != Role::kGemeente) {
    return refused(
        forbidden_problem("Only the organisation that recorded a consent, or a gemeente, may "
                          "withdraw it."),
        req, d, "consent.withdraw");
  }
  auto after = d.consents.withdraw(id, caller.id);
  if (!after) return storage_failed(req);
  // The withdrawal is in force already (evaluation reads it); this purges what waits.
  if (d.on_withdrawn && !d.on_withdrawn(*after).is_ok()) return storage_failed(req);
  return audited(d.audit, req, {consent_event(req, "consent.withdraw", *after, d.keys)},
                 json_response(200, to_json(*after, caller, d, d.consents.now()).dump()));
}

Response search(const Request& req, const ConsentRouteDeps& d) {
  const Organisation& caller = *req.caller;
  ParsedBody body = parse_object_body(req);
  if (body.problem) return refused(*body.problem, req, d, "consent.search");
  FieldReader r(body.json);
  r.only({"subject"});
  const nlohmann::json* subject = r.object("subject");
  if (r.problem()) return refused(*r.problem(), req, d, "consent.search");
  ResolvedSubject who = resolve_subject(*subject, caller, d.keys);
  if (who.problem) return refused(*who.problem, req, d, "consent.search");
  auto all = d.consents.of_participant(who.participant);
  if (!all) return storage_failed(req);
  const std::string now = d.consents.now();
  ordered_json list = ordered_json::array();
  for (const Consent& c : *all) {
    if (may_see(c, caller)) list.push_back(to_json(c, caller, d, now));
  }
  AuditEvent e = audit_event(req, "consent.search");
  e.record_type = "consent";
  e.subject = audit_subject_of(who.participant, d.keys);
  e.decision = "permit";
  return audited(d.audit, req, {e}, json_response(200, ordered_json{{"consents", list}}.dump()));
}

}  // namespace

void add_consent_routes(Router& router, ConsentRouteDeps deps) {
  const std::set<Role> recorders = {Role::kGemeente, Role::kParticipatiebedrijf, Role::kProject};
  router.add(
      {"POST", "/v1/consents", recorders, [deps](const Request& r) { return record(r, deps); }});
  router.add({"POST", "/v1/consents/{id}/withdraw", recorders,
              [deps](const Request& r) { return withdraw(r, deps); }});
  router.add({"POST", "/v1/consents/search", recorders,
              [deps](const Request& r) { return search(r, deps); }});
}

}  // namespace brug::gateway
