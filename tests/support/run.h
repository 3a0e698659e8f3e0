// Runs the real `brug` binary for integration tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

namespace brug::testing {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Runs a shell command line, stdout and stderr together.
inline RunResult run_shell(const std::string& command) {
  RunResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `program` with `args`, stdout and stderr together.
inline RunResult run_program(const std::string& program, const std::vector<std::string>& args) {
  std::string cmd = shell_quote(program);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd);
}

inline RunResult run_brug(const std::vector<std::string>& args) {
  std::string cmd = shell_quote(BRUG_BINARY);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd);
}

// `brug` under timeout(1): killed after `seconds` (exit code 124) if it has not ended.
inline RunResult run_brug_with_timeout(int seconds, const std::vector<std::string>& args) {
  std::string cmd =
      "timeout --kill-after=5 " + std::to_string(seconds) + "s " + shell_quote(BRUG_BINARY);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd);
}

}  // namespace brug::testing
