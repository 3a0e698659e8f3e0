#include "gateway/disclosure/pipeline.h"

#include "gateway/http/accept.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {

namespace {

// The one shape of an event of the chain: the request, the action, and what the steps learnt.
AuditEvent context_event(const Request& r, std::string action, const AuditContext& c,
                         const std::string& policy_set) {
  AuditEvent e = audit_event(r, std::move(action));
  e.record_type = c.record_type;
  e.purpose = c.purpose;
  e.basis = c.basis;
  e.subject = c.subject;
  e.recipient = c.recipient;
  e.policy_ids = c.policy_ids;
  e.consent_ids = c.consent_ids;
  e.policy_set = policy_set;
  return e;
}

}  // namespace

AuditEvent Call::event(std::string action) const {
  AuditEvent e = context_event(request, action.empty() ? route.action : std::move(action), context,
                               policy_set);
  if (e.record_type.empty()) e.record_type = route.record_type;
  return e;
}

Answer Answer::respond(Response response, std::vector<AuditEvent> disclosures) {
  Answer a;
  a.response_ = std::move(response);
  a.disclosures_ = std::move(disclosures);
  return a;
}

Answer Answer::committed(Response response) { return respond(std::move(response)); }

Answer Answer::refuse(Problem problem) {
  Answer a;
  a.refusal_ = std::move(problem);
  return a;
}

Answer Answer::fail(const Status& why) {
  Answer a;
  a.failure_ = why.code() == Code::kUnavailable ? Code::kUnavailable : Code::kInternal;
  a.response_.status = *a.failure_ == Code::kUnavailable ? 503 : 500;
  return a;
}

namespace {
// The problem of a request that failed inside the gateway: 503 when storage is unavailable.
Problem failure_problem(Code code) {
  return code == Code::kUnavailable ? unavailable_problem() : internal_problem();
}
}  // namespace

Pipeline::Pipeline(const OrgRegistry& orgs, AuditSink& audit, std::string policy_set,
                   std::int64_t max_body_bytes)
    : orgs_(orgs),
      audit_(audit),
      policy_set_(std::move(policy_set)),
      max_body_bytes_(max_body_bytes) {}

void Pipeline::add(RouteSpec route) {
  router_.add(route.method, route.pattern);
  routes_.push_back(std::move(route));
}

Response Pipeline::refuse(Request& r, const Problem& problem, const std::string& action,
                          const AuditContext& c) const {
  AuditEvent e = context_event(r, action, c, policy_set_);
  e.decision = "deny";
  e.reason = problem.slug;
  // A refusal that cannot be audited is not answered as a refusal: nothing leaves unaudited.
  if (Status logged = audit_.append({std::move(e)}); !logged.is_ok()) {
    return problem_response(failure_problem(logged.code()), r.request_id);
  }
  return problem_response(problem, r.request_id);
}

Response Pipeline::serve(Request& r) const {
  // authenticate: the certificate chains to our CA (the handshake saw to that); it must also
  // belong to a registered organisation.
  r.caller = orgs_.find_by_certificate(r.peer_serial_number, r.peer_common_name);
  if (r.caller == nullptr) {
    r.route = "unauthenticated";
    return refuse(r, unknown_organisation_problem(), "request.refused", {});
  }
  // limits: what the transport already measured.
  if (r.body_too_large) {
    return refuse(r, payload_too_large_problem(max_body_bytes_), "request.refused", {});
  }
  if (r.length_required) {
    return refuse(r, length_required_problem(), "request.refused", {});
  }
  if (r.bad_query) {
    return refuse(r,
                  {400, "bad-query", "Malformed query string",
                   "The query string has malformed percent-encoding or is not UTF-8."},
                  "request.refused", {});
  }
  // route
  Router::Match m = router_.match(r.method, r.path);
  if (!m.route) {
    const Problem p =
        m.method_mismatch ? method_not_allowed_problem(r.method) : not_found_problem(r.path);
    return refuse(r, p, "request.refused", {});
  }
  const RouteSpec& route = routes_[*m.route];
  r.route = route.pattern;
  r.path_params = std::move(m.params);
  AuditContext context{.record_type = route.record_type};
  // role
  if (!route.roles.empty() && !route.roles.contains(r.caller->role)) {
    return refuse(
        r,
        forbidden_problem("An organisation with role " + std::string(to_string(r.caller->role)) +
                          " may not call this route."),
        route.action, context);
  }
  Call call{r, *r.caller, route, policy_set_, nlohmann::json(), std::move(context)};
  // negotiate: the answer's media type, before anything is read or stored
  if (!route.produces.empty()) {
    auto chosen = negotiate(r.accept, route.produces);
    if (!chosen) return refuse(r, not_acceptable_problem(), route.action, call.context);
    call.representation = std::move(*chosen);
  }
  // parse
  if (route.body == Body::kJsonObject ||
      (route.body == Body::kOptionalJsonObject && !r.body.empty())) {
    ParsedBody parsed = parse_object_body(r);
    if (parsed.problem) return refuse(r, *parsed.problem, route.action, call.context);
    call.body = std::move(parsed.json);
  } else if (route.body == Body::kOptionalJsonObject) {
    call.body = nlohmann::json::object();
  }
  // the use case: policy, consent and view are its own steps (gateway/disclosure/flow.h)
  Answer answer = route.use_case(call);
  if (answer.refusal()) return refuse(r, *answer.refusal(), route.action, call.context);
  // A failure inside the gateway (Answer::fail) is one generic problem: 503 when storage is
  // unavailable. A use case that answers 503 on purpose (/healthz: the store cannot commit)
  // responds with its own body.
  if (answer.failure()) return problem_response(failure_problem(*answer.failure()), r.request_id);
  // audit: what is disclosed is durably logged before any of it leaves.
  if (!answer.disclosures().empty()) {
    for (AuditEvent& e : answer.disclosures()) {
      if (e.policy_set == policy_set_) continue;
      e.policy_set = policy_set_;
      e.draft.reset();  // a leaf made ahead from the event as it was
    }
    if (Status logged = audit_.append(std::move(answer.disclosures())); !logged.is_ok()) {
      return problem_response(failure_problem(logged.code()), r.request_id);
    }
  }
  // respond
  if (!route.produces.empty()) answer.response().headers.emplace_back("Vary", "Accept");
  return std::move(answer.response());
}

}  // namespace brug::gateway
