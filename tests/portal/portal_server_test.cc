// The portal's own HTTP edge: the real Portal against the real gateway, asked as another local
// program or web page would.
#include <gtest/gtest.h>

#include "gateway/portal/local_store.h"
#include "tests/portal/portal_fixture.h"

namespace brug::testing {
namespace {

class PortalServerTest : public PortalFixture {
 protected:
  void SetUp() override {
    auto p = portal::Portal::start(portal_config(kReconnact, "server-" + std::to_string(++n_)),
                                   portal_log_);
    ASSERT_TRUE(p) << p.message();
    portal_ = std::move(p).value();
    port_ = portal_->port();
    host_ = {{"Host", "127.0.0.1:" + std::to_string(port_)}};
  }
  // Logs in with the token; returns the Cookie header value.
  std::string login() {
    const std::string url = portal_->login_url();
    Poco::Net::HTTPClientSession s("127.0.0.1", port_);
    Poco::Net::HTTPRequest req("GET", url.substr(url.find("/login")),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    s.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::string body;
    Poco::StreamCopier::copyToString(s.receiveResponse(resp), body);
    EXPECT_EQ(resp.getStatus(), 303);
    std::vector<Poco::Net::HTTPCookie> cookies;
    resp.getCookies(cookies);
    EXPECT_EQ(cookies.size(), 1u);
    EXPECT_TRUE(cookies.at(0).getHttpOnly());
    return cookies.at(0).getName() + "=" + cookies.at(0).getValue();
  }

  static inline int n_ = 0;
  std::ostringstream portal_log_;
  std::unique_ptr<portal::Portal> portal_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::string> host_;
};

TEST_F(PortalServerTest, WithoutTheTokenEveryPathAnswers401) {
  for (const char* path : {"/", "/app.js", "/api/session", "/api/people", "/api/people.csv",
                           "/login", "/login?token=0000", "/nothing"}) {
    EXPECT_EQ(plain(port_, "GET", path).status, 401) << path;
  }
  EXPECT_EQ(plain(port_, "POST", "/api/sync", {{"X-CSRF-Token", "x"}}, "{}").status, 401);
  EXPECT_EQ(
      plain(port_, "GET", "/", {{"Cookie", "brug_portal_" + std::to_string(port_) + "=ab"}}).status,
      401);
}

TEST_F(PortalServerTest, TheTokenWorksOnceAndBecomesASessionThatStateChangesNeedItsCsrfTokenFor) {
  const std::string url = portal_->login_url();
  const std::string cookie = login();
  EXPECT_EQ(plain(port_, "GET", url.substr(url.find("/login"))).status, 401) << "used once";

  const auto page = plain(port_, "GET", "/", {{"Cookie", cookie}});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html lang=\"nl\">"), std::string::npos);
  const auto session = plain(port_, "GET", "/api/session", {{"Cookie", cookie}});
  ASSERT_EQ(session.status, 200);
  const std::string csrf = nlohmann::json::parse(session.body)["csrf"];

  EXPECT_EQ(plain(port_, "POST", "/api/sync", {{"Cookie", cookie}}, "{}").status, 403)
      << "no CSRF header";
  EXPECT_EQ(
      plain(port_, "POST", "/api/sync", {{"Cookie", cookie}, {"X-CSRF-Token", "0" + csrf}}, "{}")
          .status,
      403);
  EXPECT_EQ(
      plain(port_, "POST", "/api/sync",
            {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}}, "{}")
          .status,
      403);
  EXPECT_EQ(
      plain(port_, "POST", "/api/sync", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "{}").status,
      200);
  // A name that resolves to 127.0.0.1 (DNS rebinding) is not this portal.
  EXPECT_EQ(plain(port_, "GET", "/", {{"Cookie", cookie}, {"Host", "evil.example"}}).status, 421);
}

TEST_F(PortalServerTest, FormInputIsValidatedWithoutEchoingIt) {
  seed(kReconnact, 400, 1, 0, false);
  const std::string cookie = login();
  const std::string csrf =
      nlohmann::json::parse(plain(port_, "GET", "/api/session", {{"Cookie", cookie}}).body)["csrf"];
  const std::map<std::string, std::string> h = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  ASSERT_EQ(plain(port_, "POST", "/api/sync", h, "{}").status, 200);
  const auto bad = plain(port_, "POST", "/api/people/D0001/outcome", h,
                         R"({"status":"<script>x</script>","date":"2026-10-01"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body.find("script"), std::string::npos) << bad.body;
  const auto unknown = plain(port_, "POST", "/api/people/D0001/outcome", h,
                             R"({"pseudonym":"abc","status":"stage","date":"2026-10-01"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(plain(port_, "POST", "/api/people/D0042/outcome", h,
                  R"({"status":"stage","date":"2026-10-01"})")
                .status,
            404);
  EXPECT_EQ(plain(port_, "POST", "/api/people/D0001/outcome", h, "not json").status, 400);
  EXPECT_EQ(plain(port_, "POST", "/api/people/D0001/outcome", h,
                  R"({"status":"stage","date":"2026-10-01"})")
                .status,
            200);
  // The gemeente's routes do not exist in a project's portal.
  EXPECT_EQ(plain(port_, "POST", "/api/consents", h, "{}").status, 404);
  // The log has routes and statuses, never a body, token or personal data.
  portal_->stop();
  const std::string log = portal_log_.str();
  EXPECT_EQ(log.find(person_name(400)), std::string::npos);
  EXPECT_EQ(log.find(csrf), std::string::npos);
  EXPECT_NE(log.find("/api/people/{ref}/outcome"), std::string::npos) << log;
  EXPECT_EQ(log.find("D0001"), std::string::npos) << "paths are logged as patterns";
}

class AuditorPortalTest : public PortalFixture {};

TEST_F(AuditorPortalTest, AHistoryThatDoesNotExtendTheKeptCheckpointIsReportedNotKept) {
  std::ostringstream log;
  const auto config = portal_config(kAuditor, "fg-state");
  auto p = portal::Portal::start(config, log);
  ASSERT_TRUE(p) << p.message();
  const std::uint16_t port = (*p)->port();
  const std::string url = (*p)->login_url();
  Poco::Net::HTTPClientSession s("127.0.0.1", port);
  Poco::Net::HTTPRequest req("GET", url.substr(url.find("/login")), "HTTP/1.1");
  s.sendRequest(req);
  Poco::Net::HTTPResponse resp;
  s.receiveResponse(resp).ignore(1 << 20);
  std::vector<Poco::Net::HTTPCookie> cookies;
  resp.getCookies(cookies);
  ASSERT_EQ(cookies.size(), 1u);
  const std::map<std::string, std::string> h = {
      {"Cookie", cookies[0].getName() + "=" + cookies[0].getValue()}};

  const auto first = nlohmann::json::parse(plain(port, "GET", "/api/log/state", h).body);
  ASSERT_EQ(first["signature_valid"], true) << first.dump();
  EXPECT_TRUE(first["consistent"].is_null()) << "nothing kept yet";

  // Someone rewrote history: the kept checkpoint (the root of an older, smaller log) does not
  // match what the gateway now proves. Written into the portal's own copy, as a stand-in for
  // a gateway whose log was rebuilt.
  {
    auto grown = client(kGemeente);
    ASSERT_EQ(grown
                  .post("/v1/consents/search",
                        nlohmann::json{{"subject", {{"bsn", test_bsn(900)}}}}.dump())
                  .status,
              200);
    auto store = portal::LocalStore::open(portal::portal_db_path(config));
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->set_meta(
        "audit_checkpoint",
        nlohmann::json{{"size", first["size"]}, {"root", std::string(64, 'a')}}.dump()));
  }
  const auto second = nlohmann::json::parse(plain(port, "GET", "/api/log/state", h).body);
  EXPECT_EQ(second["consistent"], false) << second.dump();
  EXPECT_EQ(second["verdict"].get<std::string>().rfind("NIET in orde", 0), 0u);
  // The bad state is not kept: asking again still compares with the same kept checkpoint.
  const auto third = nlohmann::json::parse(plain(port, "GET", "/api/log/state", h).body);
  EXPECT_EQ(third["consistent"], false);
  EXPECT_EQ(third["kept_size"], first["size"]);
}

}  // namespace
}  // namespace brug::testing
