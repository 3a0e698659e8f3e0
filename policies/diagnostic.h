// A problem found in a catalogue or policy file, located as `file:line: message`.
#pragma once

#include <string>
#include <vector>

namespace brug {

struct Diagnostic {
  std::string file;
  int line = 0;  // 1-based; 0 when the problem concerns the file as a whole
  std::string message;

  std::string to_string() const;
};

// One diagnostic per line, each ending in '\n'.
std::string to_string(const std::vector<Diagnostic>& diagnostics);

}  // namespace brug
