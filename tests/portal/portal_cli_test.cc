// `brug feed pull` and `brug outcomes push`: the real binary with the portal configuration
// `brug init` wrote, against the real gateway over mutual TLS.
#include <Poco/Net/HTTPCookie.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "adapters/formats/csv.h"
#include "tests/portal/portal_fixture.h"

namespace brug::testing {
namespace {

class FeedPullTest : public PortalFixture {};

TEST_F(FeedPullTest, PullsOnlyConsentedPeopleRemembersItsCursorAndAppliesDeletionNotices) {
  seed(kJobhulp, 200, 3, 1);
  const std::string config = portal_config_file(kJobhulp, "pull");
  const std::string csv = dir_->file("jobhulp.csv");

  const RunResult first = run_brug({"feed", "pull", "--config", config, "--csv", csv});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "feed: 3 referrals, 0 deletion notices")) << first.output;
  const std::string text = TempDir::read(csv);
  EXPECT_EQ(text.rfind("\xEF\xBB\xBFReferentie;Voornaam;", 0), 0u) << text;
  for (int n = 200; n < 203; ++n) EXPECT_TRUE(contains(text, person_name(n))) << n;
  EXPECT_FALSE(contains(text, person_name(203))) << "referred without consent";
  EXPECT_FALSE(contains(text, kSecretSurname));
  EXPECT_FALSE(contains(text, kHealthNote));
  EXPECT_TRUE(contains(text, "Postcode (4 cijfers)")) << "plain Dutch headers";

  const RunResult again = run_brug({"feed", "pull", "--config", config});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "feed: 0 referrals, 0 deletion notices")) << again.output;

  ASSERT_EQ(withdraw(201, kJobhulp), 1);
  const RunResult after = run_brug({"feed", "pull", "--config", config, "--csv", csv});
  ASSERT_EQ(after.exit_code, 0) << after.output;
  EXPECT_TRUE(contains(after.output, "deleted D0002: gegevens verwijderd op verzoek"))
      << after.output;
  const std::string rewritten = TempDir::read(csv);
  EXPECT_FALSE(contains(rewritten, person_name(201)));
  EXPECT_TRUE(contains(rewritten, person_name(200)));

  const std::string db = dir_->file("pull/portal.db");
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(csv.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string bytes = TempDir::read(db);
  EXPECT_FALSE(contains(bytes, person_name(201))) << "the deleted person is gone from the file";
  EXPECT_TRUE(contains(bytes, person_name(200)));
}

class OutcomesPushTest : public PortalFixture {};

TEST_F(OutcomesPushTest, AMessyCsvPushesItsGoodRowsByLocalReferenceAndNamesTheBadLines) {
  seed(kReconnact, 300, 4, 0);
  const std::string config = portal_config_file(kReconnact, "push");
  ASSERT_EQ(run_brug({"feed", "pull", "--config", config}).exit_code, 0);
  ASSERT_EQ(withdraw(303, kReconnact), 1);
  ASSERT_EQ(run_brug({"feed", "pull", "--config", config}).exit_code, 0);

  // BOM, CRLF, a column the command does not read, Dutch labels in any case, a quoted cell
  // with ';', a D-M-YYYY date, a blank row, a row without a new outcome (skipped), gestopt
  // without a reason (line 5), an unknown reference (line 6), a deleted person (line 7), a
  // bad date (line 8), a cell beyond the header (line 10).
  const std::string csv =
      dir_->write("outcomes.csv",
                  "\xEF\xBB\xBF"
                  "Referentie ; Voornaam;Status;Datum;Uren per week;Reden gestopt\r\n"
                  "D0001;\"Anna; de tweede\";STAGE;1-10-2026;12;\r\n"
                  "\r\n"
                  "D0002 ;Piet;betaald werk;2026-10-02;;\r\n"
                  "D0003;Kees;Gestopt;2026-10-03;;\r\n"
                  "D0999;Onbekend;Intake;2026-10-04;;\r\n"
                  "D0004;Weg;Intake;2026-10-05;;\r\n"
                  "D0002;Piet;Intake;31-02-2026x;;\r\n"
                  "D0003;Kees;;;;\r\n"
                  "D0003;Kees;intake;2026-10-06;;;extra\r\n"
                  "D0003;Kees;Gestopt;2026-10-07;;Eigen keuze\r\n");
  const RunResult r = run_brug({"outcomes", "push", "--config", config, "--csv", csv});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, csv + ":5: reden_gestopt: is required")) << r.output;
  EXPECT_TRUE(contains(r.output, csv + ":6: no person with this reference")) << r.output;
  EXPECT_TRUE(contains(r.output, csv + ":7: no person with this reference")) << r.output;
  EXPECT_TRUE(contains(r.output, csv + ":8: date: must be a date")) << r.output;
  EXPECT_TRUE(contains(r.output, csv + ":10: more cells than the header")) << r.output;
  EXPECT_TRUE(contains(r.output, "pushed 3, rejected 5 (of 8 rows)")) << r.output;
  EXPECT_FALSE(contains(r.output, "Anna")) << "values are not echoed";

  // The gemeente sees the three outcomes under the BSNs, never the coordinator's references.
  std::map<std::string, std::string> status_of;
  for (const auto& item : feed(kGemeente)) {
    if (item["kind"] == "outcome" && item["from"] == kReconnact) {
      status_of[item["subject"]["bsn"].get<std::string>()] = item["record"]["status"];
    }
  }
  EXPECT_EQ(status_of[test_bsn(300)], "stage");
  EXPECT_EQ(status_of[test_bsn(301)], "betaald-werk");
  EXPECT_EQ(status_of[test_bsn(302)], "gestopt");
  EXPECT_FALSE(status_of.contains(test_bsn(303)));
}

TEST_F(OutcomesPushTest, UsageIsCheckedBeforeAnythingIsRead) {
  const RunResult no_csv = run_brug({"outcomes", "push", "--config", "/nonexistent.json"});
  EXPECT_EQ(no_csv.exit_code, 2) << no_csv.output;
  EXPECT_TRUE(contains(no_csv.output, "needs --csv")) << no_csv.output;
  const RunResult wrong = run_brug({"outcomes", "pusj"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_TRUE(contains(wrong.output, "'pusj'")) << wrong.output;
  const RunResult feed = run_brug({"feed", "pull", "--config", "x.json", "extra"});
  EXPECT_EQ(feed.exit_code, 2);
  EXPECT_TRUE(contains(feed.output, "'extra'")) << feed.output;
}

TEST_F(FeedPullTest, AGatewayCertificateFromAnotherCaIsNamedAsSuch) {
  const std::string other = dir_->file("other-setup");
  ASSERT_EQ(run_brug({"init", other}).exit_code, 0);
  auto j = nlohmann::json::parse(TempDir::read(portal_config_file(kJobhulp, "wrong-ca")));
  j["gateway"]["ca_file"] = other + "/pki/ca.pem";
  const std::string config = dir_->write("dev/portal/wrong-ca-config.json", j.dump());
  const RunResult r = run_brug({"feed", "pull", "--config", config});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(
      contains(r.output, "the gateway's certificate is not signed by CA " + other + "/pki/ca.pem"))
      << r.output;
  EXPECT_FALSE(contains(r.output, "cannot reach the gateway")) << r.output;
}

TEST_F(FeedPullTest, ImportChecksAsAndToBeforeReadingTheCsv) {
  const std::string missing_csv = dir_->file("does-not-exist.csv");
  const std::vector<std::string> base = {"import",    "referrals",
                                         "--csv",     missing_csv,
                                         "--purpose", "begeleiding-naar-werk",
                                         "--config",  dir_->file("dev/brug.json")};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_brug(a);
  };
  const RunResult to = with({"--to", "reconact-leusden", "--as", kLaborijn});
  EXPECT_EQ(to.exit_code, 2) << to.output;
  EXPECT_TRUE(contains(to.output, "--to: 'reconact-leusden' is not an organisation")) << to.output;
  const RunResult as = with({"--to", kReconnact, "--as", "laborjin"});
  EXPECT_EQ(as.exit_code, 2) << as.output;
  EXPECT_TRUE(contains(as.output, "--as: 'laborjin' is not an organisation")) << as.output;
  EXPECT_FALSE(contains(as.output, "does-not-exist.csv")) << "the CSV was not read first";
}

class PortalCommandTest : public PortalFixture {};

TEST_F(PortalCommandTest, BrugPortalPrintsAOneTimeLinkServesTheAppAndStopsOnSigterm) {
  seed(kJobhulp, 800, 1, 0, false);
  const std::string config = portal_config_file(kJobhulp, "command");
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    execl(BRUG_BINARY, BRUG_BINARY, "portal", "--config", config.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out[1]);
  std::string printed;
  char buf[512];
  while (!contains(printed, "Ctrl-C")) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    printed.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  const std::size_t at = printed.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << printed;
  const std::string url = printed.substr(at, printed.find('\n', at) - at);
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(17, url.find('/', 17) - 17)));

  EXPECT_EQ(plain(port, "GET", "/").status, 401);
  Poco::Net::HTTPClientSession s("127.0.0.1", port);
  Poco::Net::HTTPRequest login("GET", url.substr(url.find("/login")),
                               Poco::Net::HTTPMessage::HTTP_1_1);
  s.sendRequest(login);
  Poco::Net::HTTPResponse resp;
  s.receiveResponse(resp).ignore(1 << 20);
  ASSERT_EQ(resp.getStatus(), 303);
  std::vector<Poco::Net::HTTPCookie> cookies;
  resp.getCookies(cookies);
  ASSERT_EQ(cookies.size(), 1u);
  const std::string cookie = cookies[0].getName() + "=" + cookies[0].getValue();
  const auto script = plain(port, "GET", "/app.js", {{"Cookie", cookie}});
  EXPECT_EQ(script.status, 200);
  EXPECT_TRUE(contains(script.body, "X-CSRF-Token")) << "the web files are in the binary";
  // The background pull (sync_every_s 30: the first one at start) filled the local copy.
  bool pulled = false;
  for (int i = 0; i < 50 && !pulled; ++i) {
    pulled =
        contains(plain(port, "GET", "/api/people", {{"Cookie", cookie}}).body, person_name(800));
    if (!pulled) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(pulled);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string log = TempDir::read(dir_->file("command/portal.log"));
  EXPECT_TRUE(contains(log, "request GET /api/people")) << log;
  EXPECT_FALSE(contains(log, person_name(800)));
  EXPECT_FALSE(contains(log, cookies[0].getValue()));
}

TEST(BrugCommand, AuditVerifyTellsAUsageErrorFromALogThatDoesNotVerify) {
  TempDir dir;
  const RunResult missing =
      run_brug({"audit", "verify", dir.file("nothing-here"), "--pubkey", std::string(64, 'a')});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_FALSE(contains(missing.output, "does NOT verify")) << missing.output;
  EXPECT_TRUE(contains(missing.output, "usage:")) << missing.output;
  dir.write("export/entries.jsonl", "");
  dir.write("export/checkpoints.json", "[]");
  const RunResult bad_key = run_brug({"audit", "verify", dir.file("export"), "--pubkey", "xyz"});
  EXPECT_EQ(bad_key.exit_code, 2) << bad_key.output;
  EXPECT_TRUE(contains(bad_key.output, "--pubkey")) << bad_key.output;
  EXPECT_FALSE(contains(bad_key.output, "does NOT verify")) << bad_key.output;
}

TEST(BrugCommand, EveryUsageErrorNamesTheWordThatWasWrong) {
  const auto says = [](const std::vector<std::string>& args, const std::string& expected) {
    const RunResult r = run_brug(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(contains(r.output, expected)) << r.output;
  };
  says({"policy", "explian"}, "'explian'");
  says({"policy", "explain", "--from", "gemeente", "--to", "projekt", "--record", "referral",
        "--purpose", "begeleiding-naar-werk"},
       "--to: 'projekt'");
  says({"policy", "explain", "--from", "gemeente", "--to", "project", "--record", "referal",
        "--purpose", "begeleiding-naar-werk"},
       "'referal'");
  says({"import", "referals"}, "'referals'");
  says({"report", "outcome"}, "'outcome'");
  says({"init", "a", "b"}, "'b'");
  says({"serve", "--confg", "x"}, "--confg");
}

TEST(BrugCommand, AnUnknownCommandSuggestsTheNearestInsteadOfAllHelp) {
  const RunResult r = run_brug({"serv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "unknown command 'serv'; did you mean `serve`?")) << r.output;
  EXPECT_FALSE(contains(r.output, "commands:")) << "no dump of the whole help";
  EXPECT_TRUE(contains(run_brug({"portla"}).output, "did you mean `portal`?"));
  EXPECT_FALSE(contains(run_brug({"xyzzyq"}).output, "did you mean"));
}

}  // namespace
}  // namespace brug::testing
