// Every refusal of every route leaves exactly one audit event, over real mutual TLS: a table of
// routes x callers x kinds of refusal (wrong role, unknown certificate, wrong method, bad body,
// body too large, wrong media type, unknown query parameter, and the use cases' own refusals).
// Each request carries its own X-Request-Id; the leaves written meanwhile are read beside the
// gateway and those of that request counted.
#include <gtest/gtest.h>

#include "adapters/stores.h"
#include "tests/support/database_observer.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

struct RouteUnderTest {
  std::string method, path, action;
  std::vector<std::string> allowed;  // organisations whose role may call it
  bool body = false;                 // takes a JSON body
  bool query = false;                // reads its query string (unknown parameters refused)
};

struct Refusal {
  std::string org;  // empty: a certificate from our CA that no organisation holds
  std::string method, path, body, content_type;
  int status;
  std::string slug, action;
  std::string accept = {};  // an Accept header, when not empty
};

class RefusalTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() {
    GatewayFixture::SetUpTestSuite();
    observer_ = new DatabaseObserver(*config_);
    auto ca = gateway::PemPair{TempDir::read(pki("ca.key")), TempDir::read(pki("ca.pem"))};
    stranger_ = new Identity(issue(ca, "stranger"));
  }
  static void TearDownTestSuite() {
    delete observer_;
    delete stranger_;
    GatewayFixture::TearDownTestSuite();
  }

  static std::uint64_t audit_size() { return observer_->audit_size(); }
  // The events of one request among the leaves [from, size).
  static std::vector<nlohmann::json> events_of(const std::string& request_id, std::uint64_t from) {
    return observer_->observe([&](adapters::Stores& s) {
      std::vector<nlohmann::json> out;
      auto leaves = s.audit.leaves(from, audit_size_in(s));
      EXPECT_TRUE(leaves) << leaves.message();
      if (!leaves) return out;
      for (const auto& leaf : *leaves) {
        auto e = nlohmann::json::parse(leaf);
        if (e["request_id"] == request_id) out.push_back(e);
      }
      return out;
    });
  }
  static std::uint64_t audit_size_in(adapters::Stores& s) {
    auto size = s.audit.size();
    return size ? *size : 0;
  }

  static void expect_refused_once(const Refusal& r, int n) {
    const std::string id = "refusal-" + std::to_string(n);
    const std::string what = r.method + " " + r.path + " as " +
                             (r.org.empty() ? "stranger" : r.org) + " (" + r.slug + ")";
    const std::uint64_t before = audit_size();
    std::map<std::string, std::string> headers = {{"X-Request-Id", id}};
    if (!r.content_type.empty()) headers["Content-Type"] = r.content_type;
    if (!r.accept.empty()) headers["Accept"] = r.accept;
    HttpsClient c = r.org.empty() ? client(*stranger_) : client(r.org);
    Reply reply = c.send(r.method, r.path, r.body, headers);
    EXPECT_EQ(reply.status, r.status) << what << ": " << reply.body;
    EXPECT_EQ(json(reply).value("type", ""), "urn:brug:problem:" + r.slug) << what;
    const auto events = events_of(id, before);
    ASSERT_EQ(events.size(), 1U) << what;
    EXPECT_EQ(events[0]["decision"], "deny") << what;
    EXPECT_EQ(events[0]["reason"], r.slug) << what;
    EXPECT_EQ(events[0]["action"], r.action) << what;
    EXPECT_EQ(events[0]["actor"], r.org) << what;
  }

  static inline DatabaseObserver* observer_ = nullptr;
  static inline Identity* stranger_ = nullptr;
};

const std::vector<RouteUnderTest>& routes() {
  const std::vector<std::string> senders = {kGemeente, kLaborijn};
  const std::vector<std::string> recorders = {kGemeente, kLaborijn, kReconnact};
  static const std::vector<RouteUnderTest> all = {
      {"POST", "/v1/referrals", "referral.push", senders, true, false},
      {"GET", "/v1/feed", "feed.read", {kGemeente, kLaborijn, kReconnact}, false, true},
      {"POST", "/v1/outcomes", "outcome.push", {kReconnact}, true, false},
      {"POST", "/v1/participants/erase", "participant.erase", {kGemeente}, true, false},
      {"GET", "/v1/reports/outcomes", "report.outcomes", senders, false, true},
      {"POST", "/v1/consents", "consent.record", recorders, true, false},
      {"POST", "/v1/consents/c-unknown/withdraw", "consent.withdraw", recorders, true, false},
      {"POST", "/v1/consents/search", "consent.search", recorders, true, false},
      {"GET", "/v1/audit/checkpoint", "audit.checkpoint", {kAuditor}, false, true},
      {"GET", "/v1/audit/entries", "audit.entries", {kAuditor}, false, true},
      {"GET", "/v1/audit/proof/inclusion", "audit.proof", {kAuditor}, false, true},
      {"GET", "/v1/audit/proof/consistency", "audit.proof", {kAuditor}, false, true},
      {"POST", "/v1/audit/events/search", "audit.search", {kAuditor}, true, false},
      {"POST", "/v1/processing-activities", "audit.processing-activities", {kAuditor}, true, false},
      {"POST",
       "/v1/audit/subject-report",
       "audit.subject-report",
       {kGemeente, kAuditor},
       true,
       false},
  };
  return all;
}

TEST_F(RefusalTest, EveryRouteRefusesEveryWrongRoleWithOneAuditEvent) {
  const std::vector<std::string> everyone = {kGemeente, kLaborijn, kReconnact, kAuditor};
  int n = 0;
  for (const auto& route : routes()) {
    for (const auto& org : everyone) {
      if (std::find(route.allowed.begin(), route.allowed.end(), org) != route.allowed.end()) {
        continue;
      }
      expect_refused_once({org, route.method, route.path, route.body ? "{}" : "", "", 403,
                           "forbidden", route.action},
                          ++n);
    }
  }
  EXPECT_GT(n, 20);
}

TEST_F(RefusalTest, EveryRouteRefusesAnUnknownCertificateAndAnotherMethodWithOneAuditEvent) {
  int n = 100;
  for (const auto& route : routes()) {
    expect_refused_once({"", route.method, route.path, route.body ? "{}" : "", "", 403,
                         "unknown-organisation", "request.refused"},
                        ++n);
    const bool get = route.method == "GET";
    expect_refused_once({route.allowed.front(), get ? "POST" : "GET", route.path, get ? "{}" : "",
                         "", 405, "method-not-allowed", "request.refused"},
                        ++n);
  }
  expect_refused_once(
      {kGemeente, "GET", "/v1/nothing", "", "", 404, "not-found", "request.refused"}, ++n);
}

TEST_F(RefusalTest, EveryRouteRefusesABadRequestWithOneAuditEvent) {
  int n = 200;
  const std::string too_large(70 * 1024, ' ');
  for (const auto& route : routes()) {
    const std::string& org = route.allowed.front();
    if (route.body) {
      expect_refused_once(
          {org, route.method, route.path, "{\"items\": [", "", 400, "invalid-json", route.action},
          ++n);
      expect_refused_once(
          {org, route.method, route.path, "[1, 2]", "", 400, "validation", route.action}, ++n);
      expect_refused_once({org, route.method, route.path, R"({"unknown_member": 1})", "", 400,
                           "validation", route.action},
                          ++n);
      expect_refused_once({org, route.method, route.path, "{}", "text/plain", 415,
                           "unsupported-media-type", route.action},
                          ++n);
      expect_refused_once({org, route.method, route.path, "{" + too_large + "}", "", 413,
                           "payload-too-large", "request.refused"},
                          ++n);
    }
    if (route.query) {
      expect_refused_once(
          {org, route.method, route.path + "?unknown=1", "", "", 400, "validation", route.action},
          ++n);
      expect_refused_once({org, route.method, route.path + "?after=%zz", "", "", 400, "bad-query",
                           "request.refused"},
                          ++n);
      // A parameter name that is not UTF-8 is a malformed query, never echoed (no 500).
      expect_refused_once({org, route.method, route.path + "?%FF%FE=1", "", "", 400, "bad-query",
                           "request.refused"},
                          ++n);
    }
  }
}

TEST_F(RefusalTest, TheUseCasesOwnRefusalsLeaveOneAuditEventEach) {
  nlohmann::json too_many = {{"items", nlohmann::json::array()}};
  for (int i = 0; i < 1001; ++i) too_many["items"].push_back(nlohmann::json::object());
  const std::string unknown_subject = nlohmann::json{{"subject", {{"bsn", test_bsn(950)}}}}.dump();
  const std::vector<Refusal> cases = {
      {kLaborijn, "POST", "/v1/referrals", R"({"items": []})", "", 400, "validation",
       "referral.push"},
      {kLaborijn, "POST", "/v1/referrals", too_many.dump(), "", 413, "batch-too-large",
       "referral.push"},
      {kReconnact, "GET", "/v1/feed?after=x", "", "", 400, "bad-cursor", "feed.read"},
      {kReconnact, "GET", "/v1/feed?limit=0", "", "", 400, "validation", "feed.read"},
      {kGemeente, "POST", "/v1/participants/erase", unknown_subject, "", 404, "not-found",
       "participant.erase"},
      {kGemeente, "POST", "/v1/consents/c-unknown/withdraw", "", "", 404, "not-found",
       "consent.withdraw"},
      {kGemeente, "POST", "/v1/consents",
       nlohmann::json{{"subject", {{"bsn", test_bsn(951)}}},
                      {"grantee", kReconnact},
                      {"purpose", "geen-doel"},
                      {"categories", {"contact"}},
                      {"valid_from", "2026-01-01"},
                      {"valid_until", "2026-12-31"},
                      {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}}
           .dump(),
       "", 400, "validation", "consent.record"},
      {kReconnact, "POST", "/v1/consents",
       nlohmann::json{{"subject", {{"pseudonym", "x"}}},
                      {"grantee", kJobhulp},
                      {"purpose", "begeleiding-naar-werk"},
                      {"categories", {"contact"}},
                      {"valid_from", "2026-01-01"},
                      {"valid_until", "2026-12-31"},
                      {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}}
           .dump(),
       "", 403, "forbidden", "consent.record"},
      {kGemeente, "GET", "/v1/reports/outcomes?from=2026-10-02&to=2026-10-31", "", "", 400,
       "unfixed-period", "report.outcomes"},
      {kAuditor, "GET", "/v1/audit/entries?start=5&end=1", "", "", 400, "validation",
       "audit.entries"},
      {kAuditor, "POST", "/v1/processing-activities", "{}", "", 400, "validation",
       "audit.processing-activities"},
      {kAuditor, "POST", "/v1/processing-activities",
       R"({"dpl.core.data_subject_id": "123456789"})", "", 400, "validation",
       "audit.processing-activities"},
      {kAuditor, "POST", "/v1/processing-activities",
       R"({"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "cursor": "x"})", "", 400, "bad-cursor",
       "audit.processing-activities"},
      {kAuditor, "POST", "/v1/processing-activities?traceId=1",
       R"({"traceId": "4bf92f3577b34da6a3ce929d0e0e4736"})", "", 400, "validation",
       "audit.processing-activities"},
  };
  int n = 300;
  for (const auto& c : cases) expect_refused_once(c, ++n);
}

// The routes that answer in more than one media type refuse an Accept that allows none of them,
// before the body is even read, with one event.
TEST_F(RefusalTest, AnAcceptThatAllowsNoAnswerLeavesOneAuditEvent) {
  int n = 400;
  for (const auto& route : routes()) {
    if (!route.path.starts_with("/v1/consents")) continue;
    for (const std::string accept : {"text/html", "application/json;q=0"}) {
      expect_refused_once({route.allowed.front(), route.method, route.path, "{}", "", 406,
                           "not-acceptable", route.action, accept},
                          ++n);
    }
  }
  EXPECT_EQ(n, 406);
}

}  // namespace
}  // namespace brug::testing
