// Request metrics in the Prometheus text exposition format: counts by route, method and status,
// and a latency histogram by route. Labels are route patterns, never raw paths (no ids leak and
// the number of series stays bounded).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace brug::gateway {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

  void record(const std::string& route, const std::string& method, int status, double seconds);
  // A stored record or wrapped key that did not open and was left out (`what`: its type).
  void record_integrity_failure(const std::string& what);
  // `refused_connections`: connections closed at once (over the caps per address and in all)
  // and requests shed because the queue for the workers was full.
  std::string render(std::uint64_t refused_connections) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::uint64_t> integrity_failures_;
};

}  // namespace brug::gateway
