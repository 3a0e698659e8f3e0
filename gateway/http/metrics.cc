#include "gateway/http/metrics.h"

#include <sstream>

namespace brug::gateway {
namespace {

// Label values are route patterns and methods we chose, but escape anyway.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Metrics::record(const std::string& route, const std::string& method, int status,
                     double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::record_integrity_failure(const std::string& what) {
  std::lock_guard lock(mu_);
  ++integrity_failures_[what];
}

std::string Metrics::render(std::uint64_t refused_connections) const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  out << "# HELP brug_http_requests_total HTTP requests answered, by route, method and status.\n"
      << "# TYPE brug_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out << "brug_http_requests_total{route=\"" << label(route) << "\",method=\"" << label(method)
        << "\",status=\"" << status << "\"} " << n << "\n";
  }
  out << "# HELP brug_http_request_duration_seconds Time from request line to response sent.\n"
      << "# TYPE brug_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string r = label(route);
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out << "brug_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"" << kBuckets[i]
          << "\"} " << h.buckets[i] << "\n";
    }
    out << "brug_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"+Inf\"} "
        << h.count << "\n"
        << "brug_http_request_duration_seconds_sum{route=\"" << r << "\"} " << h.sum << "\n"
        << "brug_http_request_duration_seconds_count{route=\"" << r << "\"} " << h.count << "\n";
  }
  out << "# HELP brug_integrity_failures_total Stored records or keys that did not open.\n"
      << "# TYPE brug_integrity_failures_total counter\n";
  for (const auto& [what, n] : integrity_failures_) {
    out << "brug_integrity_failures_total{record=\"" << label(what) << "\"} " << n << "\n";
  }
  out << "# HELP brug_connections_refused_total Connections refused (queue full).\n"
      << "# TYPE brug_connections_refused_total counter\n"
      << "brug_connections_refused_total " << refused_connections << "\n";
  return out.str();
}

}  // namespace brug::gateway
