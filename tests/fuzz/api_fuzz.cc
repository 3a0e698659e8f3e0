// Fuzz target for every route's request body and query string: the input is one request,
//   <organisation> <METHOD> <path>[?query]\n<body>
// (the first line as a client's request line, the organisation standing for its certificate),
// built as the HTTPS edge builds it and run through the real chain of a real gateway (SQLite
// store, policies, audit log; gateway_harness.h). Any answer but a 4xx or 2xx with a well-formed
// body, and any crash or sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/gateway_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t eol = text.find('\n');
  const std::string_view line = text.substr(0, eol);
  const std::string_view body = eol == std::string_view::npos ? "" : text.substr(eol + 1);
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return 0;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return 0;
  brug::gateway::Request request = brug::fuzz::edge_request(
      line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1), line.substr(sp2 + 1), body);
  brug::fuzz::check_answer(brug::fuzz::serve(request));
  return 0;
}
