// POST /v1/processing-activities, the read API of the Logboek Dataverwerkingen extension, over
// real mutual TLS: by trace, by processing activity (logboek.processing_activities), by data
// subject (a BSN, the look-up audited), combined, paged; bad input and wrong roles refused.
#include <gtest/gtest.h>

#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

constexpr const char* kReIntegratie = "https://register.oude-ijsselstreek.invalid/va/re-integratie";
constexpr const char* kPath = "/v1/processing-activities";
constexpr const char* kActivity = "dpl.core.processing_activity_id";
constexpr const char* kSubject = "dpl.core.data_subject_id";

class ProcessingActivitiesTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() {
    // Two purposes are one processing activity in the gemeente's register; the others are not
    // registered, so their purpose code stands in for the id.
    configure_ = [](gateway::Config& c) {
      c.processing_activities = {{"begeleiding-naar-werk", kReIntegratie},
                                 {"resultaatverantwoording", kReIntegratie}};
    };
    GatewayFixture::SetUpTestSuite();
    configure_ = nullptr;
  }

  static nlohmann::json consent_body(const std::string& bsn, const std::string& purpose) {
    return {{"subject", {{"bsn", bsn}}},
            {"grantee", kReconnact},
            {"purpose", purpose},
            {"categories", {"contact"}},
            {"valid_from", "2026-01-01"},
            {"valid_until", "2030-12-31"},
            {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
  }
  // Sends a consent within the W3C trace `trace`; `status` is what the gateway answers (201, or
  // 400 for a body it refuses).
  static void record(const std::string& trace, const nlohmann::json& body, int status = 201) {
    auto r = client(kGemeente).send("POST", "/v1/consents", body.dump(),
                                    {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
    ASSERT_EQ(r.status, status) << r.body;
  }
  static Reply ask(const nlohmann::json& query, const std::string& org = kAuditor) {
    return client(org).post(kPath, query.dump());
  }
  static nlohmann::json activities(const nlohmann::json& query) {
    auto r = ask(query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r);
  }
  static std::string audit_pseudonym(const std::string& bsn) {
    auto keys = crypto::KeyDir::load(dir_->file("dev/keys"));
    EXPECT_TRUE(keys) << keys.message();
    const auto index =
        crypto::participant_index(keys->participant_index_key(), *crypto::Bsn::parse(bsn));
    return crypto::audit_pseudonym(keys->audit_pseudonym_key(), index).text();
  }
  static std::string trace_of(int n) {
    char buf[33];
    std::snprintf(buf, sizeof buf, "4bf92f3577b34da6a3ce929d%08x", n);
    return buf;
  }
};

TEST_F(ProcessingActivitiesTest, ByTraceIdTheRequestsEventsAreProcessingActivities) {
  const std::string bsn = test_bsn(800), trace = trace_of(800);
  record(trace, consent_body(bsn, "begeleiding-naar-werk"));
  auto refused = consent_body(bsn, "begeleiding-naar-werk");
  refused["categories"] = {"geen-categorie"};
  record(trace, refused, 400);
  record(trace_of(801), consent_body(bsn, "begeleiding-naar-werk"));  // another trace

  const auto list = activities({{"traceId", trace}})["processingActivities"];
  ASSERT_EQ(list.size(), 2u) << list.dump();
  for (const auto& a : list) {
    EXPECT_EQ(a["traceId"], trace);
    EXPECT_EQ(a["name"], "consent.record");
    EXPECT_EQ(a["spanId"].get<std::string>().size(), 16u);
    EXPECT_EQ(a["startTime"], a["endTime"]);
    EXPECT_EQ(a["attributes"][kActivity], kReIntegratie);
    EXPECT_EQ(a["attributes"]["brug.purpose"], "begeleiding-naar-werk");
    EXPECT_EQ(a["attributes"][kSubject], audit_pseudonym(bsn));
    EXPECT_EQ(a["attributes"]["dpl.core.data_subject_id_type"], "brug-audit-pseudonym");
    EXPECT_EQ(a["attributes"]["brug.recipient"], kReconnact);
  }
  EXPECT_EQ(list[0]["status"], "Ok");
  EXPECT_EQ(list[1]["status"], "Error");
  EXPECT_EQ(list[1]["attributes"]["brug.reason"], "validation");
  EXPECT_TRUE(activities({{"traceId", trace_of(899)}})["processingActivities"].empty());
}

TEST_F(ProcessingActivitiesTest, ByProcessingActivityEveryPurposeMappedToItIsFound) {
  const std::string bsn = test_bsn(802);
  record(trace_of(802), consent_body(bsn, "begeleiding-naar-werk"));
  auto outcome = consent_body(bsn, "resultaatverantwoording");
  outcome["categories"] = {"geen-categorie"};  // refused, but with its purpose known
  record(trace_of(803), outcome, 400);

  const auto list = activities({{kActivity, kReIntegratie}})["processingActivities"];
  std::set<std::string> purposes;
  for (const auto& a : list) {
    EXPECT_EQ(a["attributes"][kActivity], kReIntegratie);
    purposes.insert(a["attributes"]["brug.purpose"].get<std::string>());
  }
  EXPECT_EQ(purposes, (std::set<std::string>{"begeleiding-naar-werk", "resultaatverantwoording"}));
  // A registered purpose's own code is not its processing activity any more.
  EXPECT_TRUE(activities({{kActivity, "begeleiding-naar-werk"}})["processingActivities"].empty());
  EXPECT_TRUE(activities({{kActivity, "va/unknown"}})["processingActivities"].empty());
}

TEST_F(ProcessingActivitiesTest, ByDataSubjectTheLookupIsAuditedAndNoBsnIsAnswered) {
  const std::string bsn = test_bsn(804);
  record(trace_of(804), consent_body(bsn, "begeleiding-naar-werk"));
  record(trace_of(805), consent_body(bsn, "begeleiding-naar-werk"));
  auto r = ask({{kSubject, bsn}, {"dpl.core.data_subject_id_type", "BSN"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(bsn), std::string::npos);
  const auto list = json(r)["processingActivities"];
  ASSERT_EQ(list.size(), 2u);
  for (const auto& a : list) EXPECT_EQ(a["attributes"][kSubject], audit_pseudonym(bsn));

  auto lookups = client(kAuditor).post(
      "/v1/audit/events/search",
      nlohmann::json{{"action", "audit.processing-activities"}, {"subject", {{"bsn", bsn}}}}
          .dump());
  ASSERT_EQ(lookups.status, 200) << lookups.body;
  const auto events = json(lookups)["events"];
  ASSERT_EQ(events.size(), 1u) << "one event for the one look-up by BSN";
  EXPECT_EQ(events[0]["decision"], "permit");
  EXPECT_EQ(events[0]["actor"], kAuditor);
  EXPECT_EQ(events[0]["subject"], audit_pseudonym(bsn));
}

TEST_F(ProcessingActivitiesTest, CriteriaCombineAndPagesResumeAtTheCursor) {
  const std::string bsn = test_bsn(806), other = test_bsn(807), trace = trace_of(806);
  record(trace, consent_body(bsn, "begeleiding-naar-werk"));
  record(trace, consent_body(other, "begeleiding-naar-werk"));
  record(trace_of(808), consent_body(bsn, "begeleiding-naar-werk"));
  record(trace_of(809), consent_body(bsn, "begeleiding-naar-werk"));

  const auto both = activities({{"traceId", trace}, {kSubject, bsn}})["processingActivities"];
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0]["attributes"][kSubject], audit_pseudonym(bsn));

  const auto all = activities({{kSubject, bsn}, {kActivity, kReIntegratie}});
  ASSERT_EQ(all["processingActivities"].size(), 3u);
  EXPECT_FALSE(all.contains("next_cursor"));
  nlohmann::json paged = nlohmann::json::array();
  // (By subject alone the pages would also find the look-ups made while paging: each look-up
  // by BSN is an event about that person.)
  nlohmann::json query = {{kSubject, bsn}, {kActivity, kReIntegratie}, {"limit", 1}};
  for (int page = 0; page < 10; ++page) {
    const auto answer = activities(query);
    for (const auto& a : answer["processingActivities"]) paged.push_back(a);
    if (!answer.contains("next_cursor")) break;
    EXPECT_EQ(answer["processingActivities"].size(), 1u);
    query["cursor"] = answer["next_cursor"];
  }
  EXPECT_EQ(paged, all["processingActivities"]);
}

TEST_F(ProcessingActivitiesTest, BadInputIsAProblemThatEchoesNothing) {
  const std::string secret = "123456789";  // nine digits, not a BSN by the elfproef
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {nlohmann::json::object(), "validation"},
      {{{"limit", 10}}, "validation"},
      {{{"traceId", secret}}, "validation"},
      {{{"traceId", std::string(32, 'A')}}, "validation"},
      {{{"traceId", std::string(32, '0')}}, "validation"},
      {{{kSubject, secret}}, "validation"},
      {{{kSubject, test_bsn(810)}, {"dpl.core.data_subject_id_type", "OIN"}}, "validation"},
      {{{"dpl.core.data_subject_id_type", "BSN"}, {"traceId", trace_of(1)}}, "validation"},
      {{{"traceId", trace_of(1)}, {"cursor", secret + "x"}}, "bad-cursor"},
      {{{"traceId", trace_of(1)}, {"cursor", "99999999999"}}, "bad-cursor"},
      {{{"traceId", trace_of(1)}, {"limit", 0}}, "validation"},
      {{{"traceId", trace_of(1)}, {"startTime", secret}}, "validation"},
      {{{"traceId", trace_of(1)}, {"attributes", {{"x", secret}}}}, "validation"},
  };
  for (const auto& [query, slug] : cases) {
    auto r = ask(query);
    EXPECT_EQ(r.status, 400) << query.dump();
    EXPECT_EQ(r.content_type, "application/problem+json");
    EXPECT_EQ(json(r)["type"], "urn:brug:problem:" + slug) << query.dump() << r.body;
    EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
  }
  auto query_string = client(kAuditor).post(std::string(kPath) + "?traceId=1", "{}");
  EXPECT_EQ(query_string.status, 400);
  // The process keeps serving.
  EXPECT_EQ(ask({{"traceId", trace_of(1)}}).status, 200);
}

TEST_F(ProcessingActivitiesTest, OnlyTheAuditorMayRead) {
  for (const char* org : {kGemeente, kLaborijn, kReconnact}) {
    auto r = ask({{"traceId", trace_of(1)}}, org);
    EXPECT_EQ(r.status, 403) << org;
    EXPECT_EQ(json(r)["type"], "urn:brug:problem:forbidden");
  }
}

}  // namespace
}  // namespace brug::testing
