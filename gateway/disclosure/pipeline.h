// The one chain every request takes, composed once (as NLX's outway chains its plugins and
// Envoy's filters stop the iteration):
//
//   authenticate -> limits -> route -> role -> negotiate -> parse
//                -> use case (policy, consent, view)
//                -> audit -> respond
//
// A step that refuses stops the chain with a Problem, and the chain audits that refusal once,
// where it stops, with the same event shape on every route (action, purpose, basis, policy ids,
// reason). Use cases contain the use case: they return an Answer and never write the audit
// plumbing themselves.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/audit/audit.h"
#include "gateway/http/http.h"
#include "nlohmann/json.hpp"

namespace brug::gateway {

class OrgRegistry;
struct Organisation;

// What the chain knows about a request by the time it is refused; use cases fill in what they
// learn (the flow's purpose, basis and policies, whose data, for whom).
struct AuditContext {
  std::string record_type, purpose, basis, subject, recipient;
  std::vector<std::string> policy_ids, consent_ids;
};

struct RouteSpec;

// A request on its way through the chain.
struct Call {
  Request& request;
  const Organisation& caller;
  const RouteSpec& route;
  const std::string& policy_set;  // content hash of the loaded policies
  nlohmann::json body;            // the parsed body, for routes that take one
  AuditContext context;
  // The media type the answer is to be in: the negotiated one of the route's `produces`
  // (application/json for routes that do not negotiate).
  std::string representation = "application/json";

  // An event for this request (request id, trace, caller, policy set) with the route's action
  // and what the context holds.
  AuditEvent event(std::string action = {}) const;
};

// What a use case answers.
class Answer {
 public:
  // Respond once `disclosures` are durably in the audit log (none: respond at once).
  static Answer respond(Response response, std::vector<AuditEvent> disclosures = {});
  // Respond: the use case committed its audit events in the transaction that stored its data.
  static Answer committed(Response response);
  // Refuse: the chain audits one denial from the call's context, then answers the problem.
  static Answer refuse(Problem problem);
  // The request failed inside the gateway (storage, a bug): 500, nothing stored or disclosed;
  // 503 when `why` is kUnavailable (the database is down or its retries were exhausted).
  static Answer fail(const Status& why = Status::ok());

  const std::optional<Problem>& refusal() const { return refusal_; }
  // Set by fail(): kUnavailable or kInternal.
  const std::optional<Code>& failure() const { return failure_; }
  Response& response() { return response_; }
  std::vector<AuditEvent>& disclosures() { return disclosures_; }

 private:
  Response response_;
  std::vector<AuditEvent> disclosures_;
  std::optional<Problem> refusal_;
  std::optional<Code> failure_;
};

using UseCase = std::function<Answer(Call&)>;

enum class Body { kNone, kJsonObject, kOptionalJsonObject };

struct RouteSpec {
  std::string method;
  std::string pattern;   // e.g. "/v1/consents/{id}/withdraw"
  std::set<Role> roles;  // who may call it; empty: any registered organisation
  std::string action;    // the audit action of the route, e.g. referral.push
  std::string record_type;
  Body body = Body::kNone;
  UseCase use_case;
  // The media types the route answers in, the default first; empty: the route does not
  // negotiate (it answers application/json whatever Accept says). A route that negotiates
  // refuses an Accept that allows none of them (406) and answers with Vary: Accept.
  std::vector<std::string> produces = {};
};

class Pipeline {
 public:
  // `policy_set` is the content hash of the loaded policies, stamped on every event.
  Pipeline(const OrgRegistry& orgs, AuditSink& audit, std::string policy_set,
           std::int64_t max_body_bytes);

  void add(RouteSpec route);
  // Runs the chain for one request; sets request.caller and request.route on the way.
  Response serve(Request& request) const;

  const std::vector<RouteSpec>& routes() const { return routes_; }

 private:
  Response refuse(Request& request, const Problem& problem, const std::string& action,
                  const AuditContext& context) const;

  const OrgRegistry& orgs_;
  AuditSink& audit_;
  std::string policy_set_;
  std::int64_t max_body_bytes_;
  Router router_;
  std::vector<RouteSpec> routes_;
};

}  // namespace brug::gateway
