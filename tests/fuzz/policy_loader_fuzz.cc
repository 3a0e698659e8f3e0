// Fuzz target for the policy loader: any bytes as a policy file, and as a catalogue file.
// Built with clang and -fsanitize=fuzzer (BRUG_FUZZ=ON) it is a libFuzzer binary; otherwise
// replay_main.cc runs it over the seed corpus as a regular test.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/catalogue.h"
#include "policies/policy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<brug::Diagnostic> diagnostics;
  auto policy = brug::parse_policy(text, "fuzz.json", brug::fuzz::shipped_catalogue(), diagnostics);
  // Either a policy or a reason: never both, never neither.
  if (policy.has_value() == !diagnostics.empty()) __builtin_trap();
  diagnostics.clear();
  auto catalogue = brug::Catalogue::parse(text, "fuzz-catalogue.json", diagnostics);
  if (catalogue.has_value() == !diagnostics.empty()) __builtin_trap();
  return 0;
}
