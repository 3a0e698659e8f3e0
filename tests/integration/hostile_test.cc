// A hostile client against the real gateway over real mutual TLS: requests that try to stall a
// worker, confuse the parsers, impersonate an organisation or make the gateway echo what they
// sent (issue 15).
#include <Poco/Net/SecureStreamSocket.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gateway/cli/dev_pki.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

using Clock = std::chrono::steady_clock;

class HostileTest : public GatewayFixture {
 protected:
  // One raw mutual-TLS connection as `org`, for requests the HTTP client would not send.
  static Poco::Net::SecureStreamSocket raw_tls(const std::string& org_id) {
    Poco::Net::Context::Params p;
    p.caLocation = pki("ca.pem");
    p.certificateFile = org(org_id).cert_file;
    p.privateKeyFile = org(org_id).key_file;
    p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    p.loadDefaultCAs = false;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
    Poco::Net::SecureStreamSocket s(Poco::Net::SocketAddress("127.0.0.1", gateway_->port()),
                                    "localhost", ctx);
    s.setReceiveTimeout(Poco::Timespan(5, 0));
    return s;
  }
  // Sends `request` (if any) and reads until the peer closes or the head of an answer and its
  // Content-Length body are in.
  static std::string exchange(Poco::Net::SecureStreamSocket& s, const std::string& request) {
    if (!request.empty()) s.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string in;
    char buf[4096];
    for (;;) {
      int n = 0;
      try {
        n = s.receiveBytes(buf, sizeof buf);
      } catch (const Poco::Exception&) {
        break;
      }
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
      const auto end = in.find("\r\n\r\n");
      const auto cl = in.find("Content-Length: ");
      if (end != std::string::npos && cl != std::string::npos && cl < end &&
          in.size() >= end + 4 + std::stoul(in.substr(cl + 16))) {
        break;
      }
    }
    return in;
  }
  // A copy of the gateway's configuration with `change` applied, written beside it.
  static std::string config_with(const std::function<void(nlohmann::json&)>& change) {
    auto cfg = nlohmann::json::parse(TempDir::read(dir_->file("dev/brug.json")));
    change(cfg);
    const std::string path = dir_->file("dev/changed.json");
    std::ofstream(path, std::ios::trunc) << cfg.dump(2);
    return path;
  }
};

TEST_F(HostileTest, APostWithoutContentLengthGets411AtOnce) {
  auto s = raw_tls(kLaborijn);
  const auto started = Clock::now();
  const std::string answer = exchange(s,
                                      "POST /v1/referrals HTTP/1.1\r\nHost: localhost\r\n"
                                      "Content-Type: application/json\r\n\r\n");
  const auto took = Clock::now() - started;
  EXPECT_EQ(answer.rfind("HTTP/1.1 411", 0), 0U) << answer;
  EXPECT_NE(answer.find("urn:brug:problem:length-required"), std::string::npos) << answer;
  EXPECT_LT(took, std::chrono::seconds(3));
  // The server still serves.
  EXPECT_EQ(client(kLaborijn).get("/healthz").status, 200);
}

TEST_F(HostileTest, ASecondGatewayOnAPortInUseRefusesToStart) {
  const std::string config = config_with([](nlohmann::json& c) {
    c["listen"]["port"] = gateway_->port();
    c["storage"]["sqlite_path"] = "second.db";
  });
  // `timeout`: a gateway that wrongly starts is stopped after 20 s instead of hanging the test.
  const auto r = run_brug_with_timeout(20, {"serve", "--config", config});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("ddress already in use"), std::string::npos) << r.output;
  EXPECT_EQ(client(kLaborijn).get("/healthz").status, 200);
}

TEST_F(HostileTest, AServerKeyThatDoesNotMatchItsCertificateIsRefusedNamingBothFiles) {
  auto config = *config_;
  config.port = 0;
  config.tls_key_file = pki("laborijn.key");  // a valid key, of another certificate
  std::ostringstream log;
  auto gw = gateway::Gateway::start(config, log);
  ASSERT_FALSE(gw) << "started with a key of another certificate";
  EXPECT_NE(gw.message().find(config.tls_key_file), std::string::npos) << gw.message();
  EXPECT_NE(gw.message().find(config.tls_cert_file), std::string::npos) << gw.message();
  EXPECT_EQ(log.str().find("listening"), std::string::npos);
}

TEST_F(HostileTest, TheMediaTypeIsParsedAndOnlyApplicationJsonIsAccepted) {
  const std::string body = nlohmann::json{{"subject", {{"bsn", test_bsn(700)}}}}.dump();
  auto search = [&](const std::string& type) {
    return client(kGemeente)
        .send("POST", "/v1/consents/search", body, {{"Content-Type", type}})
        .status;
  };
  EXPECT_EQ(search("application/json"), 200);
  EXPECT_EQ(search("Application/JSON"), 200);
  EXPECT_EQ(search("application/json; charset=utf-8"), 200);
  EXPECT_EQ(search("APPLICATION/json ; charset=\"UTF-8\""), 200);
  EXPECT_EQ(search("application/jsonx"), 415);
  EXPECT_EQ(search("application/json-seq"), 415);
  EXPECT_EQ(search("application/json+x"), 415);
  EXPECT_EQ(search("application/json;;=;"), 415);
  EXPECT_EQ(search("text/json"), 415);
  EXPECT_EQ(search("application/ json"), 415);
}

TEST_F(HostileTest, AnObjectThatNamesAMemberTwiceIsRefusedAtAnyDepth) {
  auto c = client(kGemeente);
  const std::string a = test_bsn(701), b = test_bsn(702);
  for (const std::string& body : {
           R"({"subject":{"bsn":")" + a + R"("},"subject":{"bsn":")" + b + R"("}})",
           R"({"subject":{"bsn":")" + a + R"(","bsn":")" + b + R"("}})",
       }) {
    auto r = c.post("/v1/consents/search", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:validation") << r.body;
    EXPECT_EQ(r.body.find(a), std::string::npos);
    EXPECT_EQ(r.body.find(b), std::string::npos);
  }
  // Deep inside a referral batch: "to" twice in one item.
  const std::string referral = R"({"items":[{"source_ref":"dup-1","to":")" +
                               std::string(kReconnact) + R"(","to":")" + kJobhulp +
                               R"(","purpose":"begeleiding-naar-werk","subject":{"bsn":")" + a +
                               R"("},"record":{"voornaam":"Anna"}}]})";
  auto r = client(kLaborijn).post("/v1/referrals", referral);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:validation") << r.body;
  // The same member name in sibling objects is fine.
  EXPECT_EQ(c.post("/v1/consents/search", R"({"subject":{"bsn":")" + a + R"("}})").status, 200);
}

TEST_F(HostileTest, AQueryThatIsNotUtf8IsABadQueryOnEveryRouteThatReadsOne) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {kReconnact, "/v1/feed"},
      {kAuditor, "/v1/audit/entries"},
      {kGemeente, "/v1/reports/outcomes"},
  };
  for (const auto& [who, path] : routes) {
    for (const std::string query : {"?%FF%FE=1", "?%C0%AF=1", "?%ED%A0%80=1", "?limit=%FF"}) {
      auto r = client(who).get(path + query);
      EXPECT_EQ(r.status, 400) << path << query << " " << r.body;
      EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:bad-query") << path << query;
    }
  }
  // UTF-8 that is valid reaches the route (and is refused there as unknown, unechoed).
  auto r = client(kReconnact).get("/v1/feed?%C3%A9=1");
  EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:validation") << r.body;
}

TEST_F(HostileTest, NoProblemOrLogLineEchoesWhatTheClientSent) {
  const std::string secret = "Jan Jansen 999999011 rugpijn";
  const std::string marker = "999999011";
  nlohmann::json consent = {{"subject", {{"bsn", test_bsn(703)}}},
                            {"grantee", kReconnact},
                            {"purpose", "begeleiding-naar-werk"},
                            {"categories", {"contact", secret}},
                            {"valid_from", "2026-01-01"},
                            {"valid_until", "2027-01-01"},
                            {"evidence", {{"method", "schriftelijk"}, {"reference", "r"}}}};
  auto r = client(kGemeente).post("/v1/consents", consent.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json(r).value("detail", "").rfind("categories[1]: ", 0), 0U) << r.body;
  EXPECT_EQ(r.body.find(marker), std::string::npos) << r.body;

  consent["categories"] = {"contact"};
  consent[secret] = 1;  // an unknown member whose name is the secret
  r = client(kGemeente).post("/v1/consents", consent.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.body.find(marker), std::string::npos) << r.body;

  r = client(kReconnact).get("/v1/feed?Jan%20Jansen%20999999011=1");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.body.find(marker), std::string::npos) << r.body;

  // An Accept header no route answers in, and a data subject given to the auditor's read API.
  r = client(kGemeente).send("POST", "/v1/consents/search", "{}",
                             {{"Accept", "text/" + marker + ", application/x-" + marker}});
  EXPECT_EQ(r.status, 406) << r.body;
  EXPECT_EQ(r.body.find(marker), std::string::npos) << r.body;
  for (const std::string& subject : {marker, std::string("99999901")}) {
    r = client(kAuditor).post("/v1/processing-activities",
                              nlohmann::json{{"dpl.core.data_subject_id", subject}}.dump());
    EXPECT_TRUE(r.status == 200 || r.status == 400) << r.body;
    EXPECT_EQ(r.body.find(subject), std::string::npos) << r.body;
  }

  // A method no route knows: 405 or 404, and neither the log nor the metrics carry it.
  r = client(kLaborijn).send("JANSEN999999011", "/healthz");
  EXPECT_TRUE(r.status == 405 || r.status == 404) << r.status;
  EXPECT_EQ(r.body.find(marker), std::string::npos) << r.body;
  EXPECT_EQ(log_text().find(marker), std::string::npos);
  EXPECT_NE(log_text().find(R"("method":"OTHER")"), std::string::npos);
  auto metrics = client(kAuditor).get("/metrics");
  EXPECT_EQ(metrics.body.find(marker), std::string::npos);
}

TEST_F(HostileTest, ACertificateWithAnUnknownOinIsNobodyWhateverItsCommonName) {
  const gateway::PemPair ca{TempDir::read(pki("ca.key")), TempDir::read(pki("ca.pem"))};
  auto pair = gateway::issue_dev_cert(
      ca, {.common_name = kReconnact, .serial_number = "00000099000000009999"});
  ASSERT_TRUE(pair) << pair.message();
  const Identity impostor{dir_->write("impostor.pem", pair->cert_pem),
                          dir_->write("impostor.key", pair->key_pem)};
  auto r = client(impostor).get("/v1/feed");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:unknown-organisation");
  // The CN of a project without an OIN still maps in this (development) configuration.
  EXPECT_EQ(client(kReconnact).get("/healthz").status, 200);
  EXPECT_NE(log_text().find(R"("certificate_mapping":"oin-or-cn")"), std::string::npos);
}

TEST_F(HostileTest, WithoutTheCommonNameFallbackOnlyTheOinIdentifies) {
  auto config = *config_;
  config.port = 0;
  config.identity_cn_fallback = false;
  config.sqlite_path = dir_->file("oin-only.db");
  std::ostringstream log;
  auto gw = gateway::Gateway::start(config, log);
  ASSERT_TRUE(gw) << gw.message();
  HttpsClient gemeente((*gw)->port(), pki("ca.pem"), org(kGemeente));  // has an OIN
  EXPECT_EQ(gemeente.get("/healthz").status, 200);
  HttpsClient project((*gw)->port(), pki("ca.pem"), org(kReconnact));  // CN only
  auto r = project.get("/healthz");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:unknown-organisation");
  (*gw)->stop();
  EXPECT_NE(log.str().find(R"("certificate_mapping":"oin-only")"), std::string::npos) << log.str();
}

TEST_F(HostileTest, MetricsAreForTheConfiguredOperatorsOnly) {
  for (const char* who : {kGemeente, kLaborijn, kReconnact, kJobhulp}) {
    auto r = client(who).get("/metrics");
    EXPECT_EQ(r.status, 403) << who;
    EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:forbidden") << who;
    EXPECT_EQ(r.body.find("brug_http_requests_total"), std::string::npos) << who;
  }
  // brug init names the development operator.
  EXPECT_EQ(client(kAuditor).get("/metrics").status, 200);
}

TEST_F(HostileTest, AuditSearchHonoursItsLimitAndPagesToTheNewestEvent) {
  for (int i = 0; i < 5; ++i) {
    client(kJobhulp).get("/v1/nothing", {{"X-Request-Id", "paging-" + std::to_string(i)}});
  }
  auto c = client(kAuditor);
  auto search = [&](nlohmann::json body) {
    body["actor"] = kJobhulp;
    body["action"] = "request.refused";
    return c.post("/v1/audit/events/search", body.dump());
  };
  auto all = json(search(nlohmann::json::object()))["events"];
  ASSERT_GE(all.size(), 5U);
  EXPECT_EQ(all.back()["request_id"], "paging-4");

  std::vector<std::string> paged;
  nlohmann::json body = {{"limit", 2}};
  for (int pages = 0; pages < 100; ++pages) {
    auto r = search(body);
    ASSERT_EQ(r.status, 200) << r.body;
    auto page = json(r);
    EXPECT_LE(page["events"].size(), 2U);
    for (const auto& e : page["events"]) paged.push_back(e["request_id"]);
    if (!page.contains("next_cursor")) break;
    body["cursor"] = page["next_cursor"];
  }
  ASSERT_EQ(paged.size(), all.size());
  EXPECT_EQ(paged.back(), "paging-4");  // the newest is reachable

  for (const nlohmann::json& bad : {nlohmann::json{{"limit", "many"}},
                                    {{"limit", 0}},
                                    {{"limit", 1001}},
                                    {{"limit", 1.5}},
                                    {{"cursor", 3}}}) {
    auto r = search(bad);
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:validation") << bad.dump();
  }
  for (const char* bad : {"x", "-1", "99999999999", "1e3"}) {
    auto r = search({{"cursor", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:bad-cursor") << bad;
  }
  auto one = search({{"limit", 1}});
  EXPECT_EQ(json(one)["events"].size(), 1U);
}

TEST_F(HostileTest, FeedCursorsAreOpaqueBoundToTheRecipientAndNeverPastWhatExists) {
  auto push = [](const std::string& ref, int bsn) {
    const nlohmann::json body = {
        {"items",
         {{{"source_ref", ref},
           {"to", kGemeente},
           {"purpose", "uitvoering-participatiewet"},
           {"subject", {{"bsn", test_bsn(bsn)}}},
           {"record", {{"voornaam", "Anna"}, {"doelgroep", "betaald-werk-termijn"}}}}}}};
    auto r = client(kLaborijn).post("/v1/referrals", body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(json(r)["results"][0]["status"], "accepted") << r.body;
  };
  // Follows the gemeente's feed to its end from `after`; returns the last next_cursor.
  auto drain = [](std::string after, std::vector<std::string>* names = nullptr) {
    for (int page = 0; page < 100; ++page) {
      auto r = client(kGemeente).get("/v1/feed?limit=1000&after=" + after);
      EXPECT_EQ(r.status, 200) << r.body;
      const auto j = json(r);
      for (const auto& item : j["items"]) {
        const std::string cursor = item["cursor"];
        EXPECT_NE(cursor.find_first_not_of("0123456789"), std::string::npos) << cursor;
        if (names != nullptr) names->push_back(item["record"].value("voornaam", ""));
      }
      if (j["items"].empty()) return after;
      after = j["next_cursor"];
    }
    return after;
  };
  push("cursor-1", 720);
  const std::string cursor = drain("0");
  ASSERT_NE(cursor, "0");

  auto bad = [](const std::string& org, const std::string& after) {
    auto r = client(org).get("/v1/feed?after=" + after);
    EXPECT_EQ(r.status, 400) << org << " " << after << " " << r.body;
    EXPECT_EQ(json(r).value("type", ""), "urn:brug:problem:bad-cursor") << after;
    EXPECT_EQ(r.body.find(after), std::string::npos);
  };
  bad(kGemeente, "1000000");  // a position the feed never issued
  bad(kGemeente, "9223372036854775807");
  bad(kLaborijn, cursor);  // another organisation's cursor
  std::string tampered = cursor;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  bad(kGemeente, tampered);
  bad(kGemeente, cursor.substr(0, cursor.size() - 1));

  // The real cursor still works and sees what arrives next.
  push("cursor-2", 721);
  std::vector<std::string> names;
  drain(cursor, &names);
  EXPECT_EQ(names.size(), 1U);
}

TEST_F(HostileTest, TheEdgeSpeaksStrictHttp11PipeliningAndContinue) {
  {
    // Two requests in one write are answered in order on the one connection.
    auto s = raw_tls(kLaborijn);
    const std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-1\r\n\r\n";
    const std::string two = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-2\r\n\r\n";
    std::string answers = exchange(s, one + two);
    for (int i = 0; i < 20 && answers.find("pipe-2") == std::string::npos; ++i) {
      answers += exchange(s, "");
    }
    ASSERT_NE(answers.find("pipe-1"), std::string::npos) << answers;
    EXPECT_LT(answers.find("pipe-1"), answers.find("pipe-2")) << answers;
  }
  {
    // Expect: 100-continue gets its interim answer before the body is sent.
    auto s = raw_tls(kGemeente);
    const std::string body = nlohmann::json{{"subject", {{"bsn", test_bsn(730)}}}}.dump();
    const std::string head =
        "POST /v1/consents/search HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nExpect: 100-continue\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n";
    s.sendBytes(head.data(), static_cast<int>(head.size()));
    char buf[64] = {};
    const int n = s.receiveBytes(buf, sizeof buf);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max(n, 0))).rfind("HTTP/1.1 100", 0),
              0U);
    const std::string answer = exchange(s, body);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0U) << answer;
  }
  // A head that is not well-formed HTTP/1.1 gets a bare 400 and the connection is closed.
  for (const std::string bad : {
           "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
           "POST /v1/referrals HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: "
           "chunked\r\n\r\n",
           "GET /healthz HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
       }) {
    auto s = raw_tls(kLaborijn);
    const std::string answer = exchange(s, bad);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0U) << answer;
    EXPECT_NE(answer.find("urn:brug:problem:bad-request"), std::string::npos) << answer;
  }
  // HEAD: the head of the answer without its body.
  auto s = raw_tls(kLaborijn);
  const std::string answer =
      exchange(s, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 405", 0), 0U) << answer;
  EXPECT_EQ(answer.find("urn:brug:problem"), std::string::npos) << answer;
}

}  // namespace
}  // namespace brug::testing
