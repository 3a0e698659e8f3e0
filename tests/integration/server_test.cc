// The real server on a free loopback port, spoken to over real HTTPS with client certificates.
#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "gateway/app/config.h"
#include "gateway/app/gateway.h"
#include "gateway/cli/dev_pki.h"
#include "tests/support/gateway_fixture.h"

namespace brug::gateway {
namespace {

using testing::HttpsClient;
using testing::Identity;
using testing::TempDir;

class ServerTest : public testing::GatewayFixture {};

TEST_F(ServerTest, HealthzAnswersADemoOrganisation) {
  auto r = client(org("gemeente-oude-ijsselstreek")).get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json(r)["status"], "ok");
  EXPECT_EQ(json(r)["storage"], "ok");
  EXPECT_EQ(r.headers["X-Request-Id"].size(), 32u);
  EXPECT_EQ(r.headers["Cache-Control"], "no-store");
}

TEST_F(ServerTest, ServesTheOpenApiDocumentItWasBuiltWith) {
  auto r = client(org("laborijn")).get("/v1/openapi.yaml");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/yaml");
  EXPECT_EQ(r.body, TempDir::read(std::string(BRUG_SOURCE_DIR) + "/docs/openapi.yaml"));
  // Every route the gateway serves is in it (tests/openapi checks the shapes).
  for (const auto& route : gateway_->routes()) {
    const std::string method = route.substr(0, route.find(' '));
    std::string pattern = route.substr(route.find(' ') + 1);
    if (pattern.ends_with("...}")) pattern = pattern.substr(0, pattern.size() - 4) + "}";
    const auto at = r.body.find("\n  " + pattern + ":\n");
    ASSERT_NE(at, std::string::npos) << pattern;
    std::string lower = method;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
    const auto next = r.body.find("\n  /", at + 1);
    EXPECT_NE(r.body.substr(at, next - at).find("\n    " + lower + ":\n"), std::string::npos)
        << route;
  }
}

// The exposition passes Prometheus' own linter (Debian's prometheus package), after traffic that
// fills every family: answers, refusals, unmatched paths.
TEST_F(ServerTest, MetricsPassPromtoolCheckMetrics) {
  auto c = client(org("laborijn"));
  ASSERT_EQ(c.get("/healthz").status, 200);
  ASSERT_EQ(c.get("/no/such/path").status, 404);
  ASSERT_EQ(c.get("/v1/audit/checkpoint").status, 403);
  auto r = client(org("fg-oude-ijsselstreek")).get("/metrics");  // the configured operator
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.body.find("brug_http_requests_total"), std::string::npos);
  const std::string file = dir_->write("metrics.txt", r.body);
  auto check = testing::run_program(
      "/bin/sh", {"-c", "promtool check metrics < " + testing::shell_quote(file)});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool check metrics warns";
}

TEST_F(ServerTest, EveryDemoOrganisationIsRecognised) {
  for (const char* id : {"gemeente-oude-ijsselstreek", "laborijn", "reconnact-leusden",
                         "jobhulpmaatje-soest", "fg-oude-ijsselstreek"}) {
    EXPECT_EQ(client(org(id)).get("/healthz").status, 200) << id;
  }
}

TEST_F(ServerTest, AHandshakeWithoutAClientCertificateFails) {
  EXPECT_THROW(client(Identity{}).get("/healthz"), Poco::Exception);
}

TEST_F(ServerTest, ACertificateOfAnotherCaFailsTheHandshake) {
  auto foreign_ca = make_dev_ca("some other CA");
  ASSERT_TRUE(foreign_ca);
  // Same CN as a registered organisation: only the CA decides, not the name.
  const Identity impostor = issue(*foreign_ca, "gemeente-oude-ijsselstreek");
  EXPECT_THROW(client(impostor).get("/healthz"), Poco::Exception);
}

TEST_F(ServerTest, AValidCertificateOfAnUnknownOrganisationGets403) {
  const PemPair ca{TempDir::read(pki("ca.key")), TempDir::read(pki("ca.pem"))};
  const Identity stranger = issue(ca, "stranger");
  auto r = client(stranger).get("/healthz");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(json(r)["type"], "urn:brug:problem:unknown-organisation");
  // Any path: an unknown organisation learns nothing about which routes exist.
  EXPECT_EQ(client(stranger).get("/v1/nothing").status, 403);
}

TEST_F(ServerTest, AnOversizedBodyGets413) {
  auto r = client(org("laborijn")).post("/healthz", std::string(kBodyLimit + 1, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json(r)["type"], "urn:brug:problem:payload-too-large");
}

TEST_F(ServerTest, AnOversizedChunkedBodyGets413) {
  auto r = client(org("laborijn"))
               .send("POST", "/healthz", std::string(kBodyLimit + 100, 'x'), {}, true);
  EXPECT_EQ(r.status, 413);
}

TEST_F(ServerTest, ABodyAtTheLimitIsAccepted) {
  // Reaches routing: /healthz has no POST, so 405 rather than 413.
  auto r = client(org("laborijn")).post("/healthz", std::string(kBodyLimit, 'x'));
  EXPECT_EQ(r.status, 405);
}

TEST_F(ServerTest, AnUnknownRouteGetsA404Problem) {
  auto r = client(org("laborijn")).get("/v1/unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto j = json(r);
  EXPECT_EQ(j["type"], "urn:brug:problem:not-found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["instance"], "urn:brug:request:" + r.headers["X-Request-Id"]);
}

TEST_F(ServerTest, AMalformedQueryGets400) {
  auto r = client(org("laborijn")).get("/healthz?after=%zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json(r)["type"], "urn:brug:problem:bad-query");
}

TEST_F(ServerTest, RequestIdAndTraceparentAreEchoed) {
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto r = client(org("laborijn"))
               .get("/healthz", {{"X-Request-Id", "client-req-7"}, {"traceparent", trace}});
  EXPECT_EQ(r.headers["X-Request-Id"], "client-req-7");
  EXPECT_EQ(r.headers["traceparent"], trace);
}

TEST_F(ServerTest, AnUnacceptableRequestIdIsReplaced) {
  auto r = client(org("laborijn")).get("/healthz", {{"X-Request-Id", std::string(300, 'a')}});
  EXPECT_EQ(r.headers["X-Request-Id"].size(), 32u);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto c = client(org("laborijn"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_F(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  auto c = client(org("fg-oude-ijsselstreek"));
  c.get("/v1/missing-for-metrics");
  auto r = c.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(
      r.body.find("brug_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"),
      std::string::npos)
      << r.body;
  // Raw paths never become labels.
  EXPECT_EQ(r.body.find("missing-for-metrics"), std::string::npos);
}

TEST_F(ServerTest, LogLinesAreJsonWithoutBodiesOrQueries) {
  const std::string marker = "123456782";  // BSN-shaped, must never be logged
  client(org("laborijn")).post("/healthz", R"({"bsn": ")" + marker + R"("})");
  client(org("laborijn")).get("/healthz?subject=" + marker, {{"X-Request-Id", "log-check-1"}});
  const std::string log = log_text();
  EXPECT_EQ(log.find(marker), std::string::npos);
  bool found = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);  // every line is JSON
    if (j.value("request_id", "") == "log-check-1") {
      found = true;
      EXPECT_EQ(j["org"], "laborijn");
      EXPECT_EQ(j["route"], "/healthz");
      EXPECT_EQ(j["status"], 200);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ServerTest, TheServerKeepsServingAfterGarbageAndHalfSentRequests) {
  {
    // Plain HTTP on the TLS port.
    Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", gateway_->port()));
    const std::string junk = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    s.sendBytes(junk.data(), static_cast<int>(junk.size()));
  }
  {
    // Random bytes, then hang up mid-handshake.
    Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", gateway_->port()));
    const std::string junk(517, '\x16');
    s.sendBytes(junk.data(), static_cast<int>(junk.size()));
  }
  // A TLS client that sends half a request line and stops.
  Poco::Net::Context::Params p;
  p.caLocation = pki("ca.pem");
  p.certificateFile = org("laborijn").cert_file;
  p.privateKeyFile = org("laborijn").key_file;
  p.loadDefaultCAs = false;
  Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
  Poco::Net::HTTPSClientSession half("localhost", gateway_->port(), ctx);
  half.socket();  // connect
  // Meanwhile everyone else is served.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client(org("laborijn")).get("/healthz").status, 200);
}

TEST_F(ServerTest, ParallelClientsAreAllServed) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto c = client(org("reconnact-leusden"));
      for (int i = 0; i < 10; ++i) ok += c.get("/healthz").status == 200 ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace brug::gateway
