// The portal in a real headless Chromium (Debian's chromium and chromium-driver), against the
// real portal and the real gateway over mutual TLS. Screenshots of every page are kept in
// BRUG_ARTEFACT_DIR/portal/.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "adapters/formats/csv.h"
#include "tests/portal/portal_fixture.h"
#include "tests/portal/webdriver.h"

namespace brug::testing {
namespace {

class PortalBrowserTest : public PortalFixture {
 protected:
  void SetUp() override {
    try {
      browser_ =
          std::make_unique<WebDriver>(dir_->file("chromium-profile-" + std::to_string(++n_)));
    } catch (const std::exception& e) {
      FAIL() << "cannot start chromedriver/chromium (scripts/setup.sh installs them): " << e.what();
    }
  }
  void TearDown() override {
    browser_.reset();
    if (portal_) portal_->stop();
  }
  void open_portal(const std::string& org, const std::string& data) {
    auto p = portal::Portal::start(portal_config(org, data), portal_log_);
    ASSERT_TRUE(p) << p.message();
    portal_ = std::move(p).value();
    // Without the token: the page says so and the API answers 401.
    const std::string base = "http://127.0.0.1:" + std::to_string(portal_->port());
    browser_->go(base + "/");
    EXPECT_TRUE(contains(browser_->text("body"), "Geen toegang"));
    EXPECT_EQ(browser_->run_async("fetch('/api/session').then(r => r.status)"), 401);
    browser_->go(portal_->login_url());
    ASSERT_TRUE(browser_->wait_for("document.body.dataset.ready === '1'", 20))
        << browser_->text("body");
    EXPECT_FALSE(contains(browser_->url(), "token=")) << "the token leaves the address bar";
    // Dutch, every control labelled, every button and link named, nothing from elsewhere.
    const auto page = browser_->run(R"js(
      const visible = [...document.querySelectorAll('section:not([hidden]) input:not([type=hidden]),'
                                                   + ' section:not([hidden]) select')];
      return {
        lang: document.documentElement.lang,
        controls: visible.length,
        unlabelled: visible.filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
                           .map(e => e.id),
        nameless: [...document.querySelectorAll('button, a')]
                      .filter(e => !(e.textContent.trim() || e.getAttribute('aria-label'))).length,
        foreign: [...document.querySelectorAll('[src], [href]')]
                     .map(e => e.src || e.href)
                     .filter(u => /^https?:/.test(u) && !u.startsWith(location.origin))
      };)js");
    EXPECT_EQ(page["lang"], "nl");
    EXPECT_GT(page["controls"].get<int>(), 0);
    EXPECT_EQ(page["unlabelled"], nlohmann::json::array()) << page.dump();
    EXPECT_EQ(page["nameless"], 0);
    EXPECT_EQ(page["foreign"], nlohmann::json::array()) << page.dump();
  }
  void screenshot(const std::string& name) {
    browser_->screenshot(std::string(BRUG_ARTEFACT_DIR) + "/portal/" + name + ".png");
  }
  // The people table as the page shows it: header and rows, without the action column.
  std::vector<std::vector<std::string>> page_table() {
    const auto rows = browser_->run(
        "return [...document.querySelectorAll('#deelnemers tr')]"
        ".filter(tr => !tr.classList.contains('verwijderd'))"
        ".map(tr => [...tr.cells].slice(0, -1).map(c => c.textContent));");
    return rows.get<std::vector<std::vector<std::string>>>();
  }
  std::string csv_from_page() {
    return browser_->run_async("fetch('/api/people.csv').then(r => r.text())").get<std::string>();
  }

  static inline int n_ = 0;
  std::ostringstream portal_log_;
  std::unique_ptr<WebDriver> browser_;
  std::unique_ptr<portal::Portal> portal_;
};

TEST_F(PortalBrowserTest, CoordinatorSeesConsentedPeopleRecordsAnOutcomeExportsAndLosesAWithdrawn) {
  seed(kReconnact, 500, 3, 1);
  open_portal(kReconnact, "coordinator");
  browser_->click("#bijwerken");
  ASSERT_TRUE(browser_->wait_for("document.querySelectorAll('#deelnemers tbody tr').length === 3"))
      << browser_->text("main");
  screenshot("1-coordinator-deelnemers");

  const auto table = page_table();
  ASSERT_EQ(table.size(), 4u);  // header + exactly the three consented people
  const auto& header = table[0];
  EXPECT_EQ(header[0], "Referentie");
  for (const char* plain_dutch : {"Voornaam", "Leeftijd", "Postcode (4 cijfers)", "Doelgroep"}) {
    EXPECT_NE(std::find(header.begin(), header.end(), plain_dutch), header.end()) << plain_dutch;
  }
  const std::string page = browser_->text("main");
  for (int n = 500; n < 503; ++n) EXPECT_TRUE(contains(page, person_name(n))) << n;
  EXPECT_FALSE(contains(page, person_name(503))) << "referred without consent";
  EXPECT_FALSE(contains(page, kSecretSurname));
  EXPECT_FALSE(contains(page, kHealthNote));
  EXPECT_FALSE(contains(page, "7071AB")) << "the policy passes postcode4 only";
  EXPECT_TRUE(contains(page, "Betaald werk op termijn")) << "values in plain Dutch";

  // An outcome for the first person: the button works from the keyboard (Enter).
  browser_->press_enter("button[data-ref='D0001']");
  ASSERT_TRUE(browser_->wait_for("!document.getElementById('uitkomst-form').hidden"));
  EXPECT_EQ(browser_->run("return document.activeElement.id;"), "uitkomst-kop");
  const std::string reason_shown =
      "getComputedStyle(document.getElementById('u-reden-veld')).display !== 'none'";
  browser_->click("#u-status option[value='gestopt']");
  EXPECT_TRUE(browser_->wait_for(reason_shown)) << "the reason is asked when gestopt";
  browser_->click("#u-status option[value='stage']");
  EXPECT_TRUE(browser_->wait_for("!(" + reason_shown + ")")) << "and only then";
  browser_->type("#u-uren", "16");
  screenshot("2-coordinator-uitkomst");
  browser_->click("#u-opslaan");
  ASSERT_TRUE(
      browser_->wait_for("document.getElementById('melding').textContent.includes("
                         "'verstuurd')"))
      << browser_->text("#melding");
  bool reached = false;
  for (const auto& item : feed(kGemeente)) {
    if (item["kind"] == "outcome" && item["subject"]["bsn"] == test_bsn(500)) {
      reached = item["record"]["status"] == "stage" && item["record"]["uren_per_week"] == 16;
    }
  }
  EXPECT_TRUE(reached) << "the outcome reaches the gemeente's feed";

  // The CSV parses back to the rows on the page.
  const std::string csv = csv_from_page();
  // (fetch's text() drops a byte order mark, so look at the bytes.)
  EXPECT_EQ(browser_->run_async("fetch('/api/people.csv').then(r => r.arrayBuffer())"
                                ".then(b => Array.from(new Uint8Array(b).slice(0, 3)))"),
            nlohmann::json({0xEF, 0xBB, 0xBF}))
      << "UTF-8 with a byte order mark, for Excel";
  auto parsed = adapters::parse_csv(csv, "export");
  ASSERT_TRUE(parsed) << parsed.message();
  const auto after_outcome = page_table();
  ASSERT_EQ(parsed->size(), after_outcome.size());
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    EXPECT_EQ((*parsed)[i].fields, after_outcome[i]) << "row " << i;
  }
  EXPECT_TRUE(contains(csv, "Stage"));

  // A withdrawal: gone from the page, the CSV and the local file at the next pull.
  ASSERT_EQ(withdraw(501, kReconnact), 1);
  browser_->click("#bijwerken");
  ASSERT_TRUE(
      browser_->wait_for("document.querySelectorAll('#deelnemers tr.verwijderd').length "
                         "=== 1"));
  screenshot("3-coordinator-na-intrekking");
  const std::string now = browser_->text("main");
  EXPECT_FALSE(contains(now, person_name(501)));
  EXPECT_TRUE(contains(now, "gegevens verwijderd op verzoek op "));
  EXPECT_TRUE(contains(now, person_name(500)));
  EXPECT_FALSE(contains(csv_from_page(), person_name(501)));
  const std::string db = dir_->file("coordinator/portal.db");
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(contains(TempDir::read(db), person_name(501)));
  EXPECT_TRUE(contains(TempDir::read(db), person_name(500)));
}

TEST_F(PortalBrowserTest, ConsulentRecordsAConsentWithEvidenceRefersAndWithdraws) {
  // A person the project already reported on, with consent to report back to the gemeente.
  seed(kJobhulp, 650, 1, 0, true);
  {
    auto p = client(kJobhulp);
    const auto items = json(p.get("/v1/feed?limit=1000&after=0"))["items"];
    ASSERT_EQ(items.size(), 1u);
    const auto pushed =
        p.post("/v1/outcomes", nlohmann::json{{"items",
                                               {{{"subject", {{"pseudonym", items[0]["subject"]}}},
                                                 {"status", "vrijwilligerswerk"},
                                                 {"date", "2026-10-12"}}}}}
                                   .dump());
    ASSERT_EQ(pushed.status, 200) << pushed.body;
  }
  open_portal(kGemeente, "consulent");
  browser_->click("#g-bijwerken");
  ASSERT_TRUE(browser_->wait_for(
      "document.querySelector('#uitkomsten tbody').textContent.includes('Vrijwilligerswerk')"))
      << browser_->text("#uitkomsten");
  EXPECT_TRUE(contains(browser_->text("#uitkomsten"), test_bsn(650)));
  browser_->run(
      "document.getElementById('r-van').value = '2026-10-01';"
      "document.getElementById('r-tot').value = '2026-10-31';");
  browser_->click("#r-tonen");
  ASSERT_TRUE(browser_->wait_for("!document.getElementById('rapport').hidden"))
      << browser_->text("#melding");
  EXPECT_TRUE(contains(browser_->text("#rapport"), "Vrijwilligerswerk"));
  EXPECT_TRUE(contains(browser_->text("#rapport"), "Totaal"));
  screenshot("4-consulent");
  const std::string bsn = test_bsn(600);
  browser_->type("#t-bsn", bsn);
  browser_->click("#t-project option[value='reconnact-leusden']");
  browser_->click("#t-cat-contact");
  browser_->click("#t-cat-segmentatie");
  browser_->type("#t-kenmerk", "gesprek 2026-11-30");
  browser_->click("#t-opslaan");
  ASSERT_TRUE(
      browser_->wait_for("document.getElementById('melding').textContent.includes('vastgelegd')"))
      << browser_->text("#melding");

  auto g = client(kGemeente);
  auto found = json(g.post("/v1/consents/search",
                           nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump()))["consents"];
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["grantee"], kReconnact);
  EXPECT_EQ(found[0]["categories"], nlohmann::json({"contact", "segmentatie"}));
  EXPECT_EQ(found[0]["evidence"]["method"], "mondeling");
  EXPECT_EQ(found[0]["evidence"]["reference"], "gesprek 2026-11-30");

  // Refer the person to the project: it reaches the project's feed under its pseudonym.
  browser_->type("#v-bsn", bsn);
  browser_->click("#v-project option[value='reconnact-leusden']");
  browser_->type("#v-voornaam", "Verwezen600");
  browser_->click("#v-doelgroep option[value='participatie']");
  browser_->click("#v-opslaan");
  ASSERT_TRUE(
      browser_->wait_for("document.getElementById('melding').textContent.includes('verwezen')"))
      << browser_->text("#melding");
  bool referred = false;
  for (const auto& item : feed(kReconnact)) {
    if (item["kind"] == "referral" && item["record"].value("voornaam", "") == "Verwezen600") {
      referred = item["record"]["doelgroep"] == "participatie" && item["subject"].is_string();
    }
  }
  EXPECT_TRUE(referred);

  // A BSN that fails the elfproef is refused by the form's server side, not echoed.
  browser_->type("#t-bsn", "123456789");
  browser_->type("#t-kenmerk", "x");
  browser_->click("#t-opslaan");
  ASSERT_TRUE(browser_->wait_for("document.getElementById('melding').className === 'fout'"));
  EXPECT_TRUE(contains(browser_->text("#melding"), "BSN"));
  EXPECT_FALSE(contains(browser_->text("#melding"), "123456789"));

  browser_->type("#i-bsn", bsn);
  browser_->click("#i-zoeken");
  ASSERT_TRUE(browser_->wait_for("!document.getElementById('toestemmingen').hidden"));
  screenshot("5-consulent-toestemmingen");
  browser_->click("#toestemmingen button");
  ASSERT_TRUE(
      browser_->wait_for("document.getElementById('melding').textContent.includes('ingetrokken')"));
  found = json(g.post("/v1/consents/search",
                      nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump()))["consents"];
  EXPECT_EQ(found[0]["status"], "withdrawn");
  ASSERT_TRUE(
      browser_->wait_for("document.querySelector('#toestemmingen tbody').textContent"
                         ".includes('ingetrokken')"));
  EXPECT_FALSE(contains(browser_->url(), bsn));
}

TEST_F(PortalBrowserTest, FgSeesTheLogVerifyAndAPersonsAccessReport) {
  seed(kReconnact, 700, 1, 0, false);
  {
    auto p = client(kReconnact);  // the project pulls: a disclosure in the log
    ASSERT_EQ(p.get("/v1/feed?limit=1000&after=0").status, 200);
  }
  open_portal(kAuditor, "fg");
  EXPECT_TRUE(contains(browser_->text("#staat"), "klopt")) << browser_->text("#staat");
  EXPECT_TRUE(contains(browser_->text("#staat"), "geen (eerste controle)"));
  // The log grows (a consent search is an event); the second check proves, with the API's
  // consistency proof, that the new log extends the checkpoint kept by the first.
  const auto first_size = browser_->run("return document.querySelector('#staat dd').textContent;");
  {
    auto g = client(kGemeente);
    ASSERT_EQ(
        g.post("/v1/consents/search", nlohmann::json{{"subject", {{"bsn", test_bsn(700)}}}}.dump())
            .status,
        200);
  }
  browser_->click("#staat-controleren");
  ASSERT_TRUE(browser_->wait_for(
      "document.getElementById('oordeel').textContent.startsWith('In orde: het logboek')"))
      << browser_->text("#oordeel");
  EXPECT_TRUE(contains(browser_->text("#staat"), first_size.get<std::string>() + " gebeurtenissen"))
      << "the kept checkpoint is the first one";
  EXPECT_NE(browser_->run("return document.querySelector('#staat dd').textContent;"), first_size);
  browser_->click("#verifieren");
  ASSERT_TRUE(browser_->wait_for(
      "document.getElementById('oordeel').textContent.startsWith('In orde: alle')", 30))
      << browser_->text("#oordeel");
  screenshot("6-fg-logboek");

  const std::string bsn = test_bsn(700);
  browser_->type("#p-bsn", bsn);
  browser_->click("#p-zoeken");
  ASSERT_TRUE(browser_->wait_for("!document.getElementById('gebeurtenissen').hidden"));
  const std::string report = browser_->text("#gebeurtenissen");
  EXPECT_TRUE(contains(report, "feed.read")) << report;
  EXPECT_TRUE(contains(report, kReconnact));
  EXPECT_TRUE(contains(report, "voornaam"));
  EXPECT_FALSE(contains(browser_->url(), bsn)) << "the BSN is never in a URL";
  EXPECT_FALSE(contains(browser_->text("body"), bsn)) << "nor shown back";
  screenshot("7-fg-inzage");

  browser_->click("#z-besluit option[value='deny']");
  browser_->click("#z-zoeken");
  ASSERT_TRUE(browser_->wait_for(
      "document.getElementById('gebeurtenissen-titel').textContent.startsWith('Gebeurtenissen')"));
}

}  // namespace
}  // namespace brug::testing
