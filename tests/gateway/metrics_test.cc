#include "gateway/http/metrics.h"

#include <gtest/gtest.h>

namespace brug::gateway {
namespace {

TEST(Metrics, CountsRequestsByRouteMethodAndStatus) {
  Metrics m;
  m.record("/healthz", "GET", 200, 0.0001);
  m.record("/healthz", "GET", 200, 0.0002);
  m.record("unmatched", "GET", 404, 0.0001);
  const std::string text = m.render(3);
  EXPECT_NE(
      text.find("brug_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("brug_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"),
      std::string::npos);
  EXPECT_NE(text.find("brug_connections_refused_total 3"), std::string::npos);
}

TEST(Metrics, TheHistogramIsCumulative) {
  Metrics m;
  m.record("/r", "GET", 200, 0.0004);  // <= 0.0005
  m.record("/r", "GET", 200, 0.003);   // <= 0.005
  m.record("/r", "GET", 200, 7.0);     // only +Inf
  const std::string text = m.render(0);
  EXPECT_NE(text.find("brug_http_request_duration_seconds_bucket{route=\"/r\",le=\"0.0005\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("brug_http_request_duration_seconds_bucket{route=\"/r\",le=\"0.005\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("brug_http_request_duration_seconds_bucket{route=\"/r\",le=\"2.5\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("brug_http_request_duration_seconds_bucket{route=\"/r\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("brug_http_request_duration_seconds_count{route=\"/r\"} 3"),
            std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics m;
  m.record("a\"b\\c", "GET", 200, 0.1);
  EXPECT_NE(m.render(0).find("route=\"a\\\"b\\\\c\""), std::string::npos);
}

TEST(Metrics, CountsRecordsThatDoNotOpenByWhatFailed) {
  Metrics m;
  m.record_integrity_failure("referral");
  m.record_integrity_failure("referral");
  m.record_integrity_failure("key");
  const std::string text = m.render(0);
  EXPECT_NE(text.find("brug_integrity_failures_total{record=\"referral\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("brug_integrity_failures_total{record=\"key\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace brug::gateway
