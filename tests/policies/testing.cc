#include "testing.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>

namespace brug::testing {

std::filesystem::path policies_source_dir() {
  return std::filesystem::path(BRUG_SOURCE_DIR) / "policies";
}

const Catalogue& shipped_catalogue() {
  static const Catalogue catalogue = [] {
    auto c = Catalogue::load(policies_source_dir() / "catalogue.json");
    if (!c) {
      ADD_FAILURE() << c.message();
      std::abort();
    }
    return std::move(c).value();
  }();
  return catalogue;
}

const PolicySet& shipped_policies() {
  static const PolicySet set = [] {
    auto s = PolicySet::load(policies_source_dir() / "default", shipped_catalogue());
    if (!s) {
      ADD_FAILURE() << s.message();
      std::abort();
    }
    return std::move(s).value();
  }();
  return set;
}

std::chrono::year_month_day date(std::string_view text) {
  auto d = parse_date(text);
  if (!d) {
    ADD_FAILURE() << "bad date in test: " << text;
    return std::chrono::year_month_day{};
  }
  return *d;
}

PolicySet policy_set_from(const std::vector<std::string>& texts) {
  std::vector<Diagnostic> diagnostics;
  std::vector<Policy> policies;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto p = parse_policy(texts[i], "inline-" + std::to_string(i) + ".json", shipped_catalogue(),
                          diagnostics);
    if (p) policies.push_back(std::move(*p));
  }
  auto set = PolicySet::from_policies(std::move(policies), shipped_catalogue(), diagnostics);
  if (!set || !diagnostics.empty()) {
    ADD_FAILURE() << to_string(diagnostics);
    std::abort();
  }
  return std::move(*set);
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() /
          ("brug-policies-test-" + std::to_string(random()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, std::string_view text) const {
  const auto file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

}  // namespace brug::testing
