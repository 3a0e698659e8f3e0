// What the fuzz targets share: the shipped catalogue, a scratch file for the loaders that read
// files, and a check that traps (a finding) with a message.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "policies/catalogue.h"

namespace brug::fuzz {

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  __builtin_trap();
}

inline void require(bool ok, const char* what) {
  if (!ok) finding(what);
}

// policies/catalogue.json of the source tree, loaded once.
const Catalogue& shipped_catalogue();

// Writes `bytes` to a file `name` in a per-process scratch folder (on tmpfs when there is one)
// and returns its path, for loaders that take a path.
std::string scratch_file(std::string_view name, std::string_view bytes);

}  // namespace brug::fuzz
