// Command-line arguments of one subcommand: positionals, `--name value` / `--name=value`
// options and `--flag`s. Anything not declared is a usage error.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "crypto/result.h"

namespace brug::gateway {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::set<std::string> flags;

  bool has(const std::string& flag) const { return flags.contains(flag); }
  std::string get(const std::string& option, const std::string& fallback = "") const {
    auto it = options.find(option);
    return it == options.end() ? fallback : it->second;
  }
};

// `value_options` and `flag_options` are names without the leading dashes.
Result<Args> parse_args(const std::vector<std::string>& argv,
                        const std::set<std::string>& value_options,
                        const std::set<std::string>& flag_options);

}  // namespace brug::gateway
