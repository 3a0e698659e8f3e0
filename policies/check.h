// The work behind `brug policy check DIR` and `brug policy explain`: text out, exit code back.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "policies/policy_set.h"

namespace brug {

// Checks a catalogue file and every policy file of `dir`; prints `file:line: message` per
// problem, or a summary with the set's content hash. Returns 0 if all is well, else 1.
int check_policy_dir(const std::filesystem::path& dir, const std::filesystem::path& catalogue,
                     std::ostream& out);
// The same with the catalogue beside the policies: DIR/catalogue.json if it exists, else
// DIR/../catalogue.json (the shipped layout: policies/catalogue.json, policies/default/).
int check_policy_dir(const std::string& dir, std::ostream& out);
std::filesystem::path default_catalogue_path(const std::filesystem::path& policy_dir);

// Prints which fields flow, transformed how, under which policy, and what a deny withholds.
// Returns 0 if the flow is permitted, 1 if it is refused.
int explain_flow(const PolicySet& set, const Party& from, const Party& to, RecordType record,
                 Purpose purpose, std::ostream& out);

// "project" or "project:jhm-soest" (role, optionally an organisation id).
std::optional<Party> parse_party(std::string_view text);

}  // namespace brug
