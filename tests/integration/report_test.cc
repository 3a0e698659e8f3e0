// From pushed outcomes to the gemeente's aggregate report, over real mutual TLS, on a clock the
// suite moves: outcomes are pushed while their period runs, reports are asked once it is published.
// The attack tests are issue 14's three ways of turning several reports into one person's outcome.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>

#include "policies/cell_key.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

using Json = nlohmann::json;

// What the suite pushed about one person, as the gateway counts it (latest outcome in a period).
struct Person {
  std::string project, pseudonym;
  int ladder_at_referral = 2;
  struct Outcome {
    std::string date, status;
    int ladder;
  };
  std::vector<Outcome> outcomes;
};

// March 2025: 11 stage and 1 betaald-werk at one project (all rose from rung 2 to 3).
// October 2025: 28 people at two projects: intake 11, stage 13, betaald-werk 2, opleiding 1,
// vrijwilligerswerk 1. Person "X" (intake in October) has one more outcome in November: stage.
class ReportTest : public GatewayFixture {
 protected:
  static void set_today(int y, unsigned m, unsigned d) {
    const std::chrono::sys_days day{std::chrono::year_month_day{
        std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)}};
    now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  (day + std::chrono::hours(12)).time_since_epoch())
                  .count();
  }

  static void SetUpTestSuite() {
    clock_ = [] {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
    };
    set_today(2025, 3, 20);
    GatewayFixture::SetUpTestSuite();
    enrol(kJobhulp, 500, 12);
    for (int n = 500; n < 512; ++n) {
      people_[n].outcomes.push_back({"2025-03-15", n == 511 ? "betaald-werk" : "stage", 3});
    }
    push(500, 12);

    set_today(2025, 10, 20);
    enrol(kJobhulp, 520, 14);
    enrol(kReconnact, 534, 14);
    for (int n = 520; n < 548; ++n) {
      const char* status = n < 531   ? "intake"
                           : n < 544 ? "stage"
                           : n < 546 ? "betaald-werk"
                           : n < 547 ? "opleiding"
                                     : "vrijwilligerswerk";
      people_[n].outcomes.push_back({"2025-10-10", status, std::string(status) == "stage" ? 3 : 2});
    }
    push(520, 28);

    set_today(2025, 11, 20);
    people_[kX].outcomes.push_back({"2025-11-12", "stage", 3});
    push(kX, 1);

    set_today(2026, 3, 1);  // every period of 2025 is published (the default delay is 30 days)
  }
  static void TearDownTestSuite() {
    GatewayFixture::TearDownTestSuite();
    clock_ = nullptr;
    people_.clear();
  }

  // Consents and refers people first..first+count-1 to `project` and learns their pseudonyms.
  static void enrol(const std::string& project, int first, int count) {
    Json referrals = {{"items", Json::array()}};
    for (int n = first; n < first + count; ++n) {
      const std::string bsn = test_bsn(n);
      Json consent = {{"subject", {{"bsn", bsn}}},
                      {"grantee", project},
                      {"purpose", "begeleiding-naar-werk"},
                      {"categories", {"contact", "profiel", "segmentatie"}},
                      {"valid_from", "2025-01-01"},
                      {"valid_until", "2030-12-31"},
                      {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
      ASSERT_EQ(client(kGemeente).post("/v1/consents", consent.dump()).status, 201);
      referrals["items"].push_back({{"source_ref", "report-" + std::to_string(n)},
                                    {"to", project},
                                    {"purpose", "begeleiding-naar-werk"},
                                    {"subject", {{"bsn", bsn}}},
                                    {"record",
                                     {{"voornaam", "p" + std::to_string(n)},
                                      {"doelgroep", "participatie"},
                                      {"participatieladder", 2}}}});
      people_[n].project = project;
    }
    ASSERT_EQ(client(kGemeente).post("/v1/referrals", referrals.dump()).status, 200);
    auto c = client(project);
    std::string after = "0";
    for (int page = 0; page < 50; ++page) {
      const auto j = json(c.get("/v1/feed?limit=1000&after=" + after));
      if (j["items"].empty()) break;
      for (const auto& i : j["items"]) {
        const std::string name = i["kind"] == "referral" ? i["record"].value("voornaam", "") : "";
        if (name.size() > 1 && name[0] == 'p')
          people_[std::stoi(name.substr(1))].pseudonym = i["subject"];
      }
      after = j["next_cursor"];
    }
    for (int n = first; n < first + count; ++n) ASSERT_FALSE(people_[n].pseudonym.empty()) << n;
  }

  // Pushes the latest recorded outcome of people first..first+count-1 (each by their project).
  static void push(int first, int count) {
    std::map<std::string, Json> batches;
    for (int n = first; n < first + count; ++n) {
      const Person& p = people_[n];
      const Person::Outcome& o = p.outcomes.back();
      Json item = {{"subject", {{"pseudonym", p.pseudonym}}},
                   {"status", o.status},
                   {"date", o.date},
                   {"participatieladder", o.ladder}};
      if (o.status == "betaald-werk") item["contract"] = "tijdelijk";
      batches[p.project]["items"].push_back(item);
    }
    for (const auto& [project, batch] : batches) {
      const auto r = client(project).post("/v1/outcomes", batch.dump());
      ASSERT_EQ(r.status, 200) << r.body;
      const auto answer = json(r);
      for (const auto& res : answer["results"]) ASSERT_EQ(res["status"], "accepted") << r.body;
    }
  }

  static Json report(const std::string& query, int expect = 200) {
    auto r = client(kGemeente).get("/v1/reports/outcomes?" + query);
    EXPECT_EQ(r.status, expect) << r.body;
    return json(r);
  }
  static std::size_t index_of(const Json& list, const std::string& v) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i] == v) return i;
    }
    return list.size();
  }

  // The value of `dim` for person p's contribution to the period [lo, hi], if p counts in it.
  static std::optional<std::string> value_in(const Person& p, const std::string& lo,
                                             const std::string& hi, const std::string& dim) {
    const Person::Outcome* latest = nullptr;
    for (const auto& o : p.outcomes) {
      if (o.date >= lo && o.date <= hi) latest = &o;
    }
    if (latest == nullptr) return std::nullopt;
    if (dim == "project") return p.project;
    if (dim == "status") return latest->status;
    if (dim == "doelgroep") return "participatie";
    if (dim == "month") return latest->date.substr(0, 7);
    return latest->ladder > p.ladder_at_referral    ? "gestegen"
           : latest->ladder == p.ladder_at_referral ? "gelijk"
                                                    : "gedaald";
  }

  // Whether a published report could have come from these people: every value it shows has a
  // non-zero probability under the published noise (a report without "perturbation" shows exact
  // counts). This is the attacker who knows
  // everyone's outcomes but one and tries each value for it.
  static bool could_come_from(const Json& r, const std::map<int, Person>& people) {
    const std::string lo = r["period"]["from"], hi = r["period"]["to"];
    const std::vector<std::string> by = r["by"];
    KeyedTable t;
    t.row_dimension = by[0];
    if (by.size() == 2) t.column_dimension = by[1];
    t.rows = r["rows"].get<std::vector<std::string>>();
    t.columns = r["columns"].get<std::vector<std::string>>();
    t.cells.assign(t.rows.size(), std::vector<KeyedCount>(t.columns.size()));
    for (const auto& [n, p] : people) {
      const auto row = value_in(p, lo, hi, by[0]);
      if (!row) continue;
      const std::size_t ri = index_of(r["rows"], *row);
      const std::size_t ci =
          by.size() == 2 ? index_of(r["columns"], *value_in(p, lo, hi, by[1])) : 0;
      if (ri < t.rows.size() && ci < t.columns.size()) t.cells[ri][ci] += {1, 0};
    }
    std::vector<std::optional<std::int64_t>> shown;
    for (const auto& row : r["cells"]) {
      for (const auto& v : row)
        shown.push_back(v.is_null() ? std::nullopt : std::optional(v.get<std::int64_t>()));
    }
    for (const char* margin : {"row_totals", "column_totals"}) {
      for (const auto& v : r[margin]) {
        shown.push_back(v.is_null() ? std::nullopt : std::optional(v.get<std::int64_t>()));
      }
    }
    shown.push_back(r["total"].is_null() ? std::nullopt
                                         : std::optional(r["total"].get<std::int64_t>()));
    const auto all = entries(t);
    if (all.size() != shown.size()) return false;
    const bool exact = !r.contains("perturbation");  // the rules before cell keys
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (exact) {
        if (shown[i] && *shown[i] != all[i].people.n) return false;
        continue;
      }
      if (probability_shown(shown[i], all[i].people.n, r["min_cell"]) <= 0) return false;
    }
    return true;
  }

  static constexpr int kX = 520;
  static inline std::atomic<std::int64_t> now_ms_{0};
  static inline std::map<int, Person> people_;
};

TEST_F(ReportTest, CountsParticipantsPerturbedAndNeverShowsAValueUnderTheThreshold) {
  const auto r = report("from=2025-03-01&to=2025-03-31&by=status");
  ASSERT_EQ(r["columns"], Json({"deelnemers"}));
  const auto stage = index_of(r["rows"], "stage");
  ASSERT_LT(stage, r["rows"].size());
  // Every shown value is its people plus noise: at least the threshold, at most kMaxNoise off
  // (11 stage, 1 betaald-werk, 12 in all, nobody else).
  for (std::size_t i = 0; i < r["rows"].size(); ++i) {
    const auto& v = r["cells"][i][0];
    EXPECT_EQ(v, r["row_totals"][i]);  // in a one-way table the row total is the cell
    if (v.is_null()) continue;
    const int n = i == stage ? 11 : r["rows"][i] == "betaald-werk" ? 1 : 0;
    EXPECT_GE(v.get<int>(), 10);
    EXPECT_LE(std::abs(v.get<int>() - n), kMaxNoise);
  }
  if (!r["total"].is_null()) {
    EXPECT_LE(std::abs(r["total"].get<int>() - 12), kMaxNoise);
  }
  EXPECT_EQ(r["perturbation"]["method"], "cell-key");
  EXPECT_EQ(r["perturbation"]["max_noise"], kMaxNoise);
  EXPECT_EQ(r["perturbation"]["published"], "2025-05-01");
}

// All twelve rose from rung 2 to 3: "gestegen" holds the same people as the total but is shown
// with its own noise, so neither says for sure that everyone rose, nor is any rung a sure 0.
TEST_F(ReportTest, AnOutcomeThatIsTheSameForEveryoneShowsOnlyPerturbed) {
  const auto r = report("from=2025-03-01&to=2025-03-31&by=ladder");
  EXPECT_EQ(r["rows"], Json({"gestegen", "gelijk", "gedaald", "onbekend"}));
  for (const auto& row : r["cells"]) {
    if (!row[0].is_null()) {
      EXPECT_GE(row[0].get<int>(), 10);
    }
  }
  EXPECT_EQ(r["suppressed"]["secondary"], 0);
}

TEST_F(ReportTest, AQuarterAndAYearAreFixedPeriodsToo) {
  EXPECT_TRUE(report("from=2025-01-01&to=2025-03-31&by=status").contains("cells"));
  const auto year = report("from=2025-01-01&to=2025-12-31&by=project,status");
  ASSERT_FALSE(year["total"].is_null());
  EXPECT_NEAR(year["total"].get<int>(), 12 + 28, kMaxNoise);
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

TEST_F(ReportTest, APeriodIsAnsweredOnlyOnceItIsPublished) {
  // 2026-02 ends on the 28th; with 30 days for late outcomes it is published on 2026-03-31.
  const auto r = report("from=2026-02-01&to=2026-02-28&by=status", 409);
  EXPECT_EQ(r["type"], "urn:brug:problem:period-not-published");
  EXPECT_NE(r["detail"].get<std::string>().find("2026-03-31"), std::string::npos);
  report("from=2026-01-01&to=2026-03-31&by=status", 409);
  report("from=2026-01-01&to=2026-12-31&by=status", 409);
}

// Attack 1 of issue 14: the same period asked before and after one project pushes one more
// outcome. Today's main showed stage 13 -> 14 and so the new person's status. A period is only
// answered once published, and what arrives later does not count: the answers are identical.
TEST_F(ReportTest, AttackOneAnOutcomePushedAfterPublicationChangesNothing) {
  const std::vector<std::string> queries = {
      "from=2025-10-01&to=2025-10-31&by=status", "from=2025-10-01&to=2025-10-31&by=status,ladder",
      "from=2025-10-01&to=2025-12-31&by=project,status", "from=2025-01-01&to=2025-12-31&by=status"};
  std::vector<Json> before;
  for (const auto& q : queries) before.push_back(report(q));
  // A new participant of reconnact-leusden, referred now, with a stage outcome dated October.
  enrol(kReconnact, 560, 1);
  people_[560].outcomes.push_back({"2025-10-28", "stage", 3});
  push(560, 1);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    EXPECT_EQ(report(queries[i]), before[i]) << queries[i];
  }
  // Asking again and again is asking the same question: the same answer.
  EXPECT_EQ(report(queries[0]), before[0]);
}

// Attack 2 of issue 14: linked tables. Today's main withheld intake (11) in the one-way table of
// October (its neighbours sum to 4, under the threshold) and published the same people as the
// intake column total of by=project,status. Every set of people is one value of its own now: the
// status margin, and the total, are the same in every table of the period.
TEST_F(ReportTest, AttackTwoAValueShowsTheSameInEveryTableOfAPeriod) {
  const std::string period = "from=2025-10-01&to=2025-10-31";
  const auto one_way = report(period + "&by=status");
  std::vector<Json> margins;
  for (const auto& by : {"project,status", "doelgroep,status", "ladder,status", "month,status"}) {
    const auto r = report(period + "&by=" + by);
    ASSERT_EQ(r["columns"], one_way["rows"]);
    EXPECT_EQ(r["column_totals"], one_way["row_totals"]) << by;
    EXPECT_EQ(r["total"], one_way["total"]) << by;
  }
  for (const auto& by : {"status,project", "status,doelgroep", "status,ladder", "status,month"}) {
    const auto r = report(period + "&by=" + by);
    EXPECT_EQ(r["row_totals"], one_way["row_totals"]) << by;
    EXPECT_EQ(r["total"], one_way["total"]) << by;
  }
  // In the one-way table the row totals are the cells themselves.
  for (std::size_t i = 0; i < one_way["rows"].size(); ++i) {
    EXPECT_EQ(one_way["cells"][i][0], one_way["row_totals"][i]);
  }
}

// Attack 3 of issue 14: a quarter against its months. X was intake in October and had one more
// outcome in November (stage). An attacker who knows everyone else's outcomes tries every status
// for X's November outcome against the month and quarter tables; with today's main only the true
// one fitted (stage rose from 13 in October to 14 in the quarter). Now several do.
TEST_F(ReportTest, AttackThreeAQuarterAgainstItsMonthsLeavesXUndetermined) {
  std::vector<Json> tables;
  for (const char* period : {"from=2025-10-01&to=2025-10-31", "from=2025-11-01&to=2025-11-30",
                             "from=2025-12-01&to=2025-12-31", "from=2025-10-01&to=2025-12-31"}) {
    for (const char* by : {"status", "project,status", "status,ladder"}) {
      tables.push_back(report(std::string(period) + "&by=" + by));
    }
  }
  std::map<int, Person> known = people_;
  known.erase(560);  // pushed after publication by the test above (when it runs first)
  int fitting = 0;
  bool truth_fits = false;
  for (const std::string status :
       {"intake", "in-begeleiding", "stage", "opleiding", "betaald-werk", "gestopt"}) {
    known[kX].outcomes.back().status = status;
    bool fits = true;
    for (const auto& t : tables) fits = fits && could_come_from(t, known);
    fitting += fits ? 1 : 0;
    if (status == "stage") truth_fits = fits;
  }
  EXPECT_TRUE(truth_fits);
  EXPECT_GE(fitting, 2) << "X's November status is determined by the published tables";
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
  EXPECT_EQ(client(kJobhulp).get("/v1/reports/outcomes?from=2025-03-01&to=2025-03-31").status, 403);
}

TEST_F(ReportTest, EveryReportRequestIsAnAuditEvent) {
  report("from=2025-03-01&to=2025-03-31&by=project,month");
  auto r = client(kAuditor).post("/v1/audit/events/search",
                                 Json{{"action", "report.outcomes"}, {"actor", kGemeente}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto events = json(r)["events"];
  ASSERT_FALSE(events.empty());
  const auto& e = events.back();
  EXPECT_EQ(e["purpose"], "monitoring");
  EXPECT_EQ(e["fields"], Json({"project", "month"}));
  EXPECT_EQ(e["subject"], "");  // about no one in particular
}

TEST_F(ReportTest, AHigherThresholdSuppressesMore) {
  const auto r = report("from=2025-03-01&to=2025-03-31&by=status&min_cell=60");
  EXPECT_TRUE(r["total"].is_null());  // 12 people plus at most 40 of noise < 60
  EXPECT_EQ(r["min_cell"], 60);
}

}  // namespace
}  // namespace brug::testing
