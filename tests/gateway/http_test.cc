#include "gateway/http/http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

Response echo_params(const Request& r) {
  std::string body;
  for (const auto& [k, v] : r.path_params) body += k + "=" + v + ";";
  return json_response(200, body);
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add({"GET", "/healthz", {}, [](const Request&) { return json_response(200, "ok"); }});
    router_.add({"POST", "/v1/consents/{id}/withdraw", {Role::kGemeente}, echo_params});
    router_.add({"GET", "/v1/audit/checkpoint", {Role::kAuditor}, echo_params});
  }
  Response call(const std::string& method, const std::string& path, const Organisation* caller,
                std::string* label = nullptr) {
    Request r;
    r.method = method;
    r.path = path;
    r.request_id = "req-1";
    r.caller = caller;
    std::string l;
    Response out = router_.dispatch(r, l);
    if (label != nullptr) *label = l;
    return out;
  }
  static nlohmann::json problem(const Response& r) { return nlohmann::json::parse(r.body); }

  Router router_;
  Organisation gemeente_{.id = "g", .name = "G", .role = Role::kGemeente, .cert_cn = "g"};
  Organisation project_{.id = "p", .name = "P", .role = Role::kProject, .cert_cn = "p"};
};

TEST_F(RouterTest, AnExactPathRunsItsHandler) {
  std::string label;
  Response r = call("GET", "/healthz", &project_, &label);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(label, "/healthz");
}

TEST_F(RouterTest, PathParametersAreCaptured) {
  std::string label;
  Response r = call("POST", "/v1/consents/c-42/withdraw", &gemeente_, &label);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "id=c-42;");
  EXPECT_EQ(label, "/v1/consents/{id}/withdraw");
}

TEST_F(RouterTest, AnEmptyParameterDoesNotMatch) {
  EXPECT_EQ(call("POST", "/v1/consents//withdraw", &gemeente_).status, 404);
}

TEST_F(RouterTest, AnUnknownPathIsA404Problem) {
  std::string label;
  Response r = call("GET", "/v1/nothing", &gemeente_, &label);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(problem(r)["type"], "urn:brug:problem:not-found");
  EXPECT_EQ(label, "unmatched");
}

TEST_F(RouterTest, TrailingSlashesAndPrefixesDoNotMatch) {
  EXPECT_EQ(call("GET", "/healthz/", &gemeente_).status, 404);
  EXPECT_EQ(call("GET", "/healthzz", &gemeente_).status, 404);
  EXPECT_EQ(call("GET", "healthz", &gemeente_).status, 404);
  EXPECT_EQ(call("GET", "", &gemeente_).status, 404);
}

TEST_F(RouterTest, AKnownPathWithAnotherMethodIs405) {
  Response r = call("DELETE", "/healthz", &gemeente_);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(problem(r)["type"], "urn:brug:problem:method-not-allowed");
}

TEST_F(RouterTest, AWrongRoleIsForbiddenAndTheHandlerDoesNotRun) {
  Response r = call("GET", "/v1/audit/checkpoint", &gemeente_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(problem(r)["type"], "urn:brug:problem:forbidden");
  EXPECT_NE(r.body.find("gemeente"), std::string::npos);
}

TEST_F(RouterTest, NoCallerIsRefusedAsUnknownOrganisation) {
  Response r = call("GET", "/healthz", nullptr);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(problem(r)["type"], "urn:brug:problem:unknown-organisation");
}

TEST(Problem, CarriesTheRfc9457MembersWithAStableType) {
  Response r = problem_response({422, "validation", "Invalid", "field x"}, "abc");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["type"], "urn:brug:problem:validation");
  EXPECT_EQ(j["title"], "Invalid");
  EXPECT_EQ(j["status"], 422);
  EXPECT_EQ(j["detail"], "field x");
  EXPECT_EQ(j["instance"], "urn:brug:request:abc");
}

TEST(Query, DecodesPercentAndPlus) {
  std::map<std::string, std::string> q;
  ASSERT_TRUE(parse_query("after=a%2Fb&limit=10&by=project,status&x=a+b&flag", q));
  EXPECT_EQ(q["after"], "a/b");
  EXPECT_EQ(q["limit"], "10");
  EXPECT_EQ(q["by"], "project,status");
  EXPECT_EQ(q["x"], "a b");
  EXPECT_EQ(q["flag"], "");
}

TEST(Query, RejectsBrokenPercentEncoding) {
  std::map<std::string, std::string> q;
  EXPECT_FALSE(parse_query("a=%zz", q));
  EXPECT_FALSE(parse_query("a=%4", q));
  EXPECT_FALSE(parse_query("a=%", q));
}

TEST(RequestId, AcceptsReasonableIdsOnly) {
  EXPECT_TRUE(is_acceptable_request_id("abc-123_x.y:z"));
  EXPECT_FALSE(is_acceptable_request_id(""));
  EXPECT_FALSE(is_acceptable_request_id(std::string(129, 'a')));
  EXPECT_FALSE(is_acceptable_request_id("a b"));
  EXPECT_FALSE(is_acceptable_request_id("a\r\nX-Evil: 1"));
}

TEST(RequestId, GeneratedIdsAreUniqueAndAcceptable) {
  const std::string a = generate_request_id();
  const std::string b = generate_request_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(is_acceptable_request_id(a));
}

TEST(Traceparent, AcceptsTheW3cFormatOnly) {
  EXPECT_TRUE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(is_valid_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("garbage"));
}

}  // namespace
}  // namespace brug::gateway
