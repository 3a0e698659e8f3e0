// From pushed outcomes to the gemeente's aggregate report, over real mutual TLS.
#include <gtest/gtest.h>

#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

// Outcomes dated March 2025, a month no other test uses: 11 stage, 1 betaald-werk.
class ReportTest : public GatewayFixture {
 protected:
  static constexpr const char* kProject = "jobhulpmaatje-soest";

  static void SetUpTestSuite() {
    GatewayFixture::SetUpTestSuite();
    nlohmann::json referrals = {{"items", nlohmann::json::array()}};
    for (int n = 500; n < 512; ++n) {
      const std::string bsn = test_bsn(n);
      nlohmann::json consent = {{"subject", {{"bsn", bsn}}},
                                {"grantee", kProject},
                                {"purpose", "begeleiding-naar-werk"},
                                {"categories", {"profiel", "segmentatie"}},
                                {"valid_from", "2025-01-01"},
                                {"valid_until", "2030-12-31"},
                                {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
      ASSERT_EQ(client(kGemeente).post("/v1/consents", consent.dump()).status, 201);
      referrals["items"].push_back(
          {{"source_ref", "report-" + std::to_string(n)},
           {"to", kProject},
           {"purpose", "begeleiding-naar-werk"},
           {"subject", {{"bsn", bsn}}},
           {"record",
            {{"doelgroep", "participatie"}, {"participatieladder", 2}, {"taalniveau", "B1"}}}});
    }
    ASSERT_EQ(client(kGemeente).post("/v1/referrals", referrals.dump()).status, 200);
    // The project's feed gives it the pseudonyms of the twelve (taalniveau B1, ladder 2).
    auto c = client(kProject);
    nlohmann::json outcomes = {{"items", nlohmann::json::array()}};
    std::string after = "0";
    for (int page = 0; page < 50; ++page) {
      const auto j = json(c.get("/v1/feed?limit=1000&after=" + after));
      if (j["items"].empty()) break;
      for (const auto& i : j["items"]) {
        if (i["kind"] != "referral" || i["record"].value("taalniveau", "") != "B1" ||
            i["record"].value("doelgroep", "") != "participatie") {
          continue;
        }
        const bool paid = outcomes["items"].size() == 11;
        nlohmann::json o = {{"subject", {{"pseudonym", i["subject"]}}},
                            {"status", paid ? "betaald-werk" : "stage"},
                            {"date", "2025-03-15"},
                            {"participatieladder", 3}};
        if (paid) o["contract"] = "tijdelijk";
        if (outcomes["items"].size() < 12) outcomes["items"].push_back(o);
      }
      after = j["next_cursor"];
    }
    ASSERT_EQ(outcomes["items"].size(), 12u);
    ASSERT_EQ(c.post("/v1/outcomes", outcomes.dump()).status, 200);
  }

  static nlohmann::json report(const std::string& query, int expect = 200) {
    auto r = client(kGemeente).get("/v1/reports/outcomes?" + query);
    EXPECT_EQ(r.status, expect) << r.body;
    return json(r);
  }
  static std::size_t index_of(const nlohmann::json& list, const std::string& v) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i] == v) return i;
    }
    return list.size();
  }
};

TEST_F(ReportTest, CountsParticipantsAndSuppressesSmallCells) {
  const auto r = report("from=2025-03-01&to=2025-03-31&by=status");
  ASSERT_EQ(r["columns"], nlohmann::json({"deelnemers"}));
  const auto stage = index_of(r["rows"], "stage");
  const auto paid = index_of(r["rows"], "betaald-werk");
  ASSERT_LT(stage, r["rows"].size());
  EXPECT_EQ(r["total"], 12);
  EXPECT_TRUE(r["cells"][paid][0].is_null());  // 1 person: suppressed
  // The total minus the published cells must not single out the one person.
  std::int64_t published = 0;
  for (const auto& row : r["cells"]) published += row[0].is_null() ? 0 : row[0].get<int>();
  EXPECT_TRUE(published == 0 || 12 - published >= 10) << r.dump();
  EXPECT_GE(r["suppressed"]["primary"].get<int>(), 1);
}

// All twelve rose from rung 2 to 3: "gestegen 12" beside three suppressed zeros would tell
// every one of them apart (group disclosure), so the whole column is withheld; the total stays.
TEST_F(ReportTest, AnOutcomeThatIsTheSameForEveryoneIsNotRevealed) {
  const auto r = report("from=2025-03-01&to=2025-03-31&by=ladder");
  EXPECT_EQ(r["rows"], nlohmann::json({"gestegen", "gelijk", "gedaald", "onbekend"}));
  for (const auto& row : r["cells"]) EXPECT_TRUE(row[0].is_null()) << r.dump();
  EXPECT_EQ(r["total"], 12);
}

TEST_F(ReportTest, AQuarterAndAYearAreFixedPeriodsToo) {
  EXPECT_EQ(report("from=2025-01-01&to=2025-03-31&by=status")["total"], 12);
  EXPECT_EQ(report("from=2025-01-01&to=2025-12-31&by=project,status")["total"], 12);
}

// The differencing attack: two windows a day apart would single out whoever had an outcome on
// that day. Only calendar months, quarters and years are answered.
TEST_F(ReportTest, WindowsThatDifferByADayAreRefused) {
  for (const char* q : {"from=2025-03-02&to=2025-03-31", "from=2025-03-01&to=2025-03-30",
                        "from=2025-02-01&to=2025-03-31", "from=2025-02-01&to=2025-04-30",
                        "from=2025-03-01&to=2025-02-28"}) {
    const auto r = report(std::string(q) + "&by=status", 400);
    EXPECT_EQ(r["type"], "urn:brug:problem:unfixed-period") << q;
  }
}

TEST_F(ReportTest, BadParametersAndCallersAreRefused) {
  EXPECT_EQ(report("from=2025-03-01&to=2025-03-31&by=bsn", 400)["type"],
            "urn:brug:problem:validation");
  EXPECT_EQ(report("from=2025-03-01&to=2025-03-31&by=status,status", 400)["type"],
            "urn:brug:problem:validation");
  EXPECT_EQ(report("from=2025-03-01&to=2025-03-31&min_cell=3", 400)["type"],
            "urn:brug:problem:validation");
  EXPECT_EQ(report("from=2025-03-01&to=2025-03-31&extra=1", 400)["type"],
            "urn:brug:problem:validation");
  EXPECT_EQ(report("to=2025-03-31", 400)["type"], "urn:brug:problem:validation");
  EXPECT_EQ(client(kProject).get("/v1/reports/outcomes?from=2025-03-01&to=2025-03-31").status, 403);
}

TEST_F(ReportTest, EveryReportRequestIsAnAuditEvent) {
  report("from=2025-03-01&to=2025-03-31&by=project,month");
  auto r = client("fg-oude-ijsselstreek")
               .post("/v1/audit/events/search",
                     nlohmann::json{{"action", "report.outcomes"}, {"actor", kGemeente}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto events = json(r)["events"];
  ASSERT_FALSE(events.empty());
  const auto& e = events.back();
  EXPECT_EQ(e["purpose"], "monitoring");
  EXPECT_EQ(e["fields"], nlohmann::json({"project", "month"}));
  EXPECT_EQ(e["subject"], "");  // about no one in particular
}

TEST_F(ReportTest, AHigherThresholdSuppressesMore) {
  const auto r = report("from=2025-03-01&to=2025-03-31&by=status&min_cell=20");
  EXPECT_TRUE(r["total"].is_null());  // 12 < 20
  EXPECT_EQ(r["min_cell"], 20);
}

}  // namespace
}  // namespace brug::testing
