#include "gateway/http/http.h"

#include "gateway/http/accept.h"
#include "gateway/http/http1.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace brug::gateway {
namespace {

TEST(Router, MatchesPatternsAndCapturesParameters) {
  Router router;
  EXPECT_EQ(router.add("GET", "/healthz"), 0U);
  EXPECT_EQ(router.add("POST", "/v1/consents/{id}/withdraw"), 1U);
  auto m = router.match("POST", "/v1/consents/c-42/withdraw");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(*m.route, 1U);
  EXPECT_EQ(m.params.at("id"), "c-42");
  EXPECT_FALSE(router.match("POST", "/v1/consents//withdraw").route);
  for (const char* path : {"/healthz/", "/healthzz", "healthz", ""}) {
    EXPECT_FALSE(router.match("GET", path).route) << path;
  }
  auto wrong = router.match("DELETE", "/healthz");
  EXPECT_FALSE(wrong.route);
  EXPECT_TRUE(wrong.method_mismatch);
}

TEST(Router, ARestSegmentTakesTheRestOfThePath) {
  Router router;
  router.add("GET", "/v1/audit/log/tile/{tile...}");
  auto m = router.match("GET", "/v1/audit/log/tile/entries/x001/234.p/5");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params.at("tile"), "entries/x001/234.p/5");
  EXPECT_EQ(router.match("GET", "/v1/audit/log/tile/0").params.at("tile"), "0");
  for (const char* path :
       {"/v1/audit/log/tile", "/v1/audit/log/tile/", "/v1/audit/log/tile/0//1"}) {
    EXPECT_FALSE(router.match("GET", path).route) << path;
  }
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

TEST(Http1, ParsesARequestHeadWithItsFraming) {
  auto h = http1::parse_request_head(
      "POST /v1/referrals?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 12\r\nX-Request-Id:  r-1 \r\n\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->method, "POST");
  EXPECT_EQ(h->target, "/v1/referrals?x=1");
  EXPECT_EQ(h->framing, http1::Framing::kLength);
  EXPECT_EQ(h->content_length, 12);
  EXPECT_EQ(h->field("x-request-id"), "r-1");
  EXPECT_TRUE(h->keep_alive);
  auto chunked = http1::parse_request_head(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->framing, http1::Framing::kChunked);
  EXPECT_FALSE(chunked->keep_alive);
  auto old = http1::parse_request_head("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->keep_alive);
  EXPECT_EQ(old->framing, http1::Framing::kNone);
}

TEST(Http1, RefusesMalformedAndAmbiguousHeads) {
  for (const char* head : {
           "GET / HTTP/1.1\r\n",                         // no blank line
           "GET /\r\n\r\n",                              // no version
           "GET / HTTP/2.0\r\n\r\n",                     // another version
           "GET x HTTP/1.1\r\n\r\n",                     // not origin form
           "G(T / HTTP/1.1\r\n\r\n",                     // not a token
           "GET / HTTP/1.1\r\nHost : a\r\n\r\n",         // space before the colon
           "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",  // folded line
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n",          //
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nExpect: something\r\n\r\n",
           "GET / HTTP/1.1\r\nA: \x01\r\n\r\n",
       }) {
    EXPECT_FALSE(http1::parse_request_head(head)) << head;
  }
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= http1::kMaxHeaderFields; ++i) many += "A: b\r\n";
  EXPECT_FALSE(http1::parse_request_head(many + "\r\n"));
}

TEST(Http1, DecodesChunkedBodiesAsTheyArrive) {
  const std::string wire = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, wire.size()}) {
    http1::ChunkedDecoder d;
    std::string in, body;
    auto r = http1::ChunkedDecoder::Result::kNeedMore;
    for (std::size_t i = 0; i < wire.size() && r == http1::ChunkedDecoder::Result::kNeedMore;
         i += step) {
      in += wire.substr(i, step);
      r = d.feed(in, body);
    }
    EXPECT_EQ(r, http1::ChunkedDecoder::Result::kDone) << step;
    EXPECT_EQ(body, "hello world") << step;
  }
  http1::ChunkedDecoder bad;
  std::string in = "zz\r\n", body;
  EXPECT_EQ(bad.feed(in, body), http1::ChunkedDecoder::Result::kMalformed);
}

}  // namespace
}  // namespace brug::gateway

namespace brug::gateway {
namespace {

const std::vector<std::string> kConsentTypes = {"application/json", "application/fhir+json"};

TEST(Negotiate, NoAcceptOrAWildcardGivesTheDefault) {
  EXPECT_EQ(negotiate("", kConsentTypes), "application/json");
  EXPECT_EQ(negotiate("  ", kConsentTypes), "application/json");
  EXPECT_EQ(negotiate("*/*", kConsentTypes), "application/json");
  EXPECT_EQ(negotiate("application/*", kConsentTypes), "application/json");
  EXPECT_EQ(negotiate("text/html, */*;q=0.8", kConsentTypes), "application/json");
}

TEST(Negotiate, FhirIsChosenWhenNamedAndNotOutweighed) {
  EXPECT_EQ(negotiate("application/fhir+json", kConsentTypes), "application/fhir+json");
  EXPECT_EQ(negotiate("Application/FHIR+JSON", kConsentTypes), "application/fhir+json");
  EXPECT_EQ(negotiate("application/fhir+json; fhirVersion=4.0", kConsentTypes),
            "application/fhir+json");
  // Named exactly at equal q: the more specialised type wins.
  EXPECT_EQ(negotiate("application/json, application/fhir+json", kConsentTypes),
            "application/fhir+json");
  EXPECT_EQ(negotiate("application/fhir+json;q=0.9, application/json;q=0.5", kConsentTypes),
            "application/fhir+json");
  EXPECT_EQ(negotiate("application/fhir+json, */*;q=0.1", kConsentTypes), "application/fhir+json");
  // An exact name beats a wildcard of the same q.
  EXPECT_EQ(negotiate("*/*, application/fhir+json", kConsentTypes), "application/fhir+json");
}

TEST(Negotiate, QValuesDecide) {
  EXPECT_EQ(negotiate("application/fhir+json;q=0.4, application/json;q=0.5", kConsentTypes),
            "application/json");
  EXPECT_EQ(negotiate("application/fhir+json;q=0.5, application/json;q=0.500", kConsentTypes),
            "application/fhir+json");
  // q=0 excludes, even under a wildcard that would allow it.
  EXPECT_EQ(negotiate("*/*, application/json;q=0", kConsentTypes), "application/fhir+json");
  EXPECT_EQ(negotiate("application/fhir+json;q=0, application/*", kConsentTypes),
            "application/json");
}

TEST(Negotiate, AnAcceptThatAllowsNoneIsRefused) {
  EXPECT_EQ(negotiate("text/html", kConsentTypes), std::nullopt);
  EXPECT_EQ(negotiate("application/xml, text/*", kConsentTypes), std::nullopt);
  EXPECT_EQ(negotiate("application/json;q=0, application/fhir+json;q=0", kConsentTypes),
            std::nullopt);
  EXPECT_EQ(negotiate("*/*;q=0", kConsentTypes), std::nullopt);
  // A FHIR version brug does not write, a charset other than UTF-8: no match.
  EXPECT_EQ(negotiate("application/fhir+json; fhirVersion=5.0", kConsentTypes), std::nullopt);
  EXPECT_EQ(negotiate("application/json; charset=latin1", kConsentTypes), std::nullopt);
}

TEST(Negotiate, MalformedRangesAreIgnored) {
  EXPECT_EQ(negotiate("application/json;q=2, application/fhir+json;q=0.3", kConsentTypes),
            "application/fhir+json");
  EXPECT_EQ(negotiate("application/json;q=0.1234", kConsentTypes), std::nullopt);
  EXPECT_EQ(negotiate("json, */json, application/json;q", kConsentTypes), std::nullopt);
  EXPECT_EQ(negotiate(",,application/fhir+json,,", kConsentTypes), "application/fhir+json");
  EXPECT_EQ(negotiate(std::string(2000, ','), kConsentTypes), std::nullopt);
  EXPECT_EQ(negotiate("application/json; x=\"a,b\", text/plain", kConsentTypes), std::nullopt);
}

}  // namespace
}  // namespace brug::gateway
