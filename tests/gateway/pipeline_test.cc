// The chain over a real audit log (SQLite file): each refusal is answered as a problem and
// audited exactly once, with the route's action; a use case runs only after every step passed.
#include "gateway/disclosure/pipeline.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/stores.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "gateway/audit/audit_log.h"
#include "gateway/identity/registry.h"
#include "tests/support/temp_dir.h"

namespace brug::gateway {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() {
    pipeline_.add({"GET", "/healthz", {}, "healthz", "", Body::kNone, [this](Call&) {
                     ++runs_;
                     return Answer::respond(json_response(200, "ok"));
                   }});
    pipeline_.add({"POST",
                   "/v1/things/{id}",
                   {Role::kGemeente},
                   "thing.push",
                   "referral",
                   Body::kJsonObject,
                   [this](Call& c) {
                     ++runs_;
                     if (c.body.contains("refuse")) {
                       c.context.purpose = "begeleiding-naar-werk";
                       c.context.policy_ids = {"p@1"};
                       return Answer::refuse({400, "validation", "Invalid", "refuse: no"});
                     }
                     AuditEvent e = c.event();
                     e.decision = "permit";
                     return Answer::respond(json_response(200, c.request.path_params.at("id")),
                                            {e});
                   }});
  }

  Response call(const std::string& method, const std::string& path, const std::string& cn,
                const std::string& body = "") {
    Request r;
    r.method = method;
    r.path = path;
    r.request_id = "req-" + std::to_string(++requests_);
    r.peer_common_name = cn;
    r.body = body;
    if (!body.empty()) r.content_type = "application/json";
    return pipeline_.serve(r);
  }
  // The events of one request, as stored.
  std::vector<nlohmann::json> events_of(int request) {
    std::vector<nlohmann::json> out;
    auto all = log_.entries(0, *log_.size());
    for (const auto& leaf : *all) {
      auto j = nlohmann::json::parse(leaf);
      if (j["request_id"] == "req-" + std::to_string(request)) out.push_back(j);
    }
    return out;
  }
  static std::string type(const Response& r) {
    return nlohmann::json::parse(r.body).value("type", "");
  }

  testing::TempDir dir_;
  crypto::KeyDir keys_ = std::move(crypto::KeyDir::ephemeral()).value();
  std::unique_ptr<adapters::Database> db_ =
      std::move(adapters::open_sqlite({.path = dir_.file("brug.db")})).value();
  AuditLog log_{*db_, keys_.signing_key(), AuditOptions{}, crypto::Env::system()};
  OrgRegistry orgs_ = registry();
  static OrgRegistry registry() {
    auto r = OrgRegistry::from_list(
        {{.id = "gemeente-a", .name = "G", .role = Role::kGemeente, .cert_cn = "gemeente-a"},
         {.id = "project-b", .name = "P", .role = Role::kProject, .cert_cn = "project-b"}});
    EXPECT_TRUE(r) << r.message();
    r->set_mapping(CertificateMapping::kOinOrCommonName);
    return std::move(r).value();
  }
  Pipeline pipeline_{orgs_, log_, "policy-hash", 64};
  int runs_ = 0;
  int requests_ = 0;
};

TEST_F(PipelineTest, APermittedCallRunsItsUseCaseAndLogsItsDisclosuresFirst) {
  Response r = call("POST", "/v1/things/t-42", "gemeente-a", "{}");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "t-42");
  auto events = events_of(requests_);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0]["action"], "thing.push");
  EXPECT_EQ(events[0]["decision"], "permit");
  EXPECT_EQ(events[0]["policy_set"], "policy-hash");
  EXPECT_EQ(events[0]["record_type"], "referral");
}

TEST_F(PipelineTest, EveryKindOfRefusalIsAnsweredAndAuditedExactlyOnce) {
  struct Case {
    std::string method, path, cn, body;
    int status;
    std::string slug, action;
  };
  const std::vector<Case> cases = {
      {"GET", "/healthz", "stranger", "", 403, "unknown-organisation", "request.refused"},
      {"GET", "/nothing", "gemeente-a", "", 404, "not-found", "request.refused"},
      {"DELETE", "/healthz", "gemeente-a", "", 405, "method-not-allowed", "request.refused"},
      {"POST", "/v1/things/x", "project-b", "{}", 403, "forbidden", "thing.push"},
      {"POST", "/v1/things/x", "gemeente-a", "{not json", 400, "invalid-json", "thing.push"},
      {"POST", "/v1/things/x", "gemeente-a", "[1]", 400, "validation", "thing.push"},
      {"POST", "/v1/things/x", "gemeente-a", R"({"refuse": true})", 400, "validation",
       "thing.push"},
  };
  for (const Case& c : cases) {
    Response r = call(c.method, c.path, c.cn, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body;
    EXPECT_EQ(r.content_type, "application/problem+json");
    EXPECT_EQ(type(r), "urn:brug:problem:" + c.slug) << c.path << " " << c.body;
    auto events = events_of(requests_);
    ASSERT_EQ(events.size(), 1U) << c.method << " " << c.path << " " << c.body;
    EXPECT_EQ(events[0]["decision"], "deny");
    EXPECT_EQ(events[0]["reason"], c.slug);
    EXPECT_EQ(events[0]["action"], c.action);
    EXPECT_EQ(events[0]["policy_set"], "policy-hash");
  }
  // Only the last case reached its use case; the refusal carries what the use case learnt.
  EXPECT_EQ(runs_, 1);
  auto last = events_of(requests_);
  EXPECT_EQ(last[0]["purpose"], "begeleiding-naar-werk");
  EXPECT_EQ(last[0]["policy_ids"], nlohmann::json::array({"p@1"}));
}

TEST_F(PipelineTest, ABodyOverTheLimitOrABadQueryIsRefusedBeforeTheRoute) {
  Request r;
  r.method = "POST";
  r.path = "/v1/things/x";
  r.request_id = "big";
  r.peer_common_name = "gemeente-a";
  r.body_too_large = true;
  EXPECT_EQ(pipeline_.serve(r).status, 413);
  r.body_too_large = false;
  r.bad_query = true;
  EXPECT_EQ(pipeline_.serve(r).status, 400);
  EXPECT_EQ(runs_, 0);
  EXPECT_EQ(*log_.size(), 2U);
}

TEST_F(PipelineTest, ARouteThatNegotiatesAnswersInTheAcceptedTypeOrRefuses406Once) {
  pipeline_.add({"POST",
                 "/v1/shapes",
                 {Role::kGemeente},
                 "shape.read",
                 "",
                 Body::kJsonObject,
                 [this](Call& c) {
                   ++runs_;
                   Response out = json_response(200, "{}");
                   out.content_type = c.representation;
                   return Answer::respond(std::move(out));
                 },
                 {"application/json", "application/fhir+json"}});
  auto send = [&](const std::string& accept, const std::string& cn = "gemeente-a") {
    Request r;
    r.method = "POST";
    r.path = "/v1/shapes";
    r.request_id = "req-" + std::to_string(++requests_);
    r.peer_common_name = cn;
    r.body = "{}";
    r.content_type = "application/json";
    r.accept = accept;
    return pipeline_.serve(r);
  };
  Response fhir = send("application/fhir+json");
  EXPECT_EQ(fhir.content_type, "application/fhir+json");
  EXPECT_EQ(fhir.headers, (std::vector<std::pair<std::string, std::string>>{{"Vary", "Accept"}}));
  EXPECT_EQ(send("").content_type, "application/json");
  EXPECT_EQ(runs_, 2);

  Response refused = send("text/html");
  EXPECT_EQ(refused.status, 406);
  EXPECT_EQ(type(refused), "urn:brug:problem:not-acceptable");
  auto events = events_of(requests_);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0]["action"], "shape.read");
  EXPECT_EQ(events[0]["reason"], "not-acceptable");
  // The role is checked first; the use case never ran for either refusal.
  EXPECT_EQ(type(send("text/html", "project-b")), "urn:brug:problem:forbidden");
  EXPECT_EQ(runs_, 2);
  // A route that does not negotiate answers JSON whatever Accept says.
  Request plain;
  plain.method = "GET";
  plain.path = "/healthz";
  plain.request_id = "plain";
  plain.peer_common_name = "gemeente-a";
  plain.accept = "text/html";
  EXPECT_EQ(pipeline_.serve(plain).status, 200);
}

}  // namespace
}  // namespace brug::gateway
