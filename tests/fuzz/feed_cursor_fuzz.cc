// Fuzz target for the feed cursor: the input is the cursor a recipient sends back, as the
// decoded value of `after` on GET /v1/feed (the feed's cursor decoder reads nothing else), asked
// by a project of a real gateway (gateway_harness.h) that has items in its feed. When the cursor
// gets a decoder of its own, point this target at it as well.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "gateway/cli/synthetic.h"
#include "tests/fuzz/gateway_harness.h"

namespace {

using brug::fuzz::edge_request;
using brug::fuzz::kGemeente;
using brug::fuzz::kProject;

void expect(const char* org, const char* uri, const nlohmann::json& body, int status) {
  auto r = edge_request(org, "POST", uri, body.dump());
  const auto answer = brug::fuzz::serve(r);
  if (answer.status != status) {
    std::fprintf(stderr, "feed_cursor_fuzz: setup %s answered %d: %s\n", uri, answer.status,
                 answer.body.c_str());
    __builtin_trap();
  }
}

// Three consented referrals from the gemeente to the project, so a cursor can point into,
// before and past a non-empty feed.
bool fill_feed() {
  for (int n = 0; n < 3; ++n) {
    const std::string bsn = brug::gateway::synthetic_bsn(n);
    expect(kGemeente, "/v1/consents",
           {{"subject", {{"bsn", bsn}}},
            {"grantee", kProject},
            {"purpose", "begeleiding-naar-werk"},
            {"categories", {"contact", "profiel", "segmentatie"}},
            {"valid_from", "2026-01-01"},
            {"valid_until", "2030-12-31"},
            {"evidence", {{"method", "digitaal"}, {"reference", "portaal"}}}},
           201);
    const nlohmann::json item = {{"source_ref", "fuzz-" + std::to_string(n)},
                                 {"to", kProject},
                                 {"purpose", "begeleiding-naar-werk"},
                                 {"subject", {{"bsn", bsn}}},
                                 {"record", brug::gateway::synthetic_referral(n)}};
    expect(kGemeente, "/v1/referrals", {{"items", {item}}}, 200);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool filled = fill_feed();
  (void)filled;
  brug::gateway::Request request = edge_request(kProject, "GET", "/v1/feed?limit=5", "");
  request.query["after"] = std::string(reinterpret_cast<const char*>(data), size);
  brug::fuzz::check_answer(brug::fuzz::serve(request));
  return 0;
}
