// Helpers shared by the policies tests: the shipped data and temporary policy directories.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "policies/catalogue.h"
#include "policies/policy_set.h"

namespace brug::testing {

std::filesystem::path policies_source_dir();  // <source>/policies
const Catalogue& shipped_catalogue();
const PolicySet& shipped_policies();
std::chrono::year_month_day date(std::string_view text);  // aborts the test on a bad date

// A PolicySet from policy texts (one JSON object each); fails the test on any diagnostic.
PolicySet policy_set_from(const std::vector<std::string>& texts);

// A fresh directory under the system temp dir, removed again on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, std::string_view text) const;

 private:
  std::filesystem::path path_;
};

}  // namespace brug::testing
