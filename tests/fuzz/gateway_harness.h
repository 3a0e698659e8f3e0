// The real gateway for the fuzz targets that speak HTTP: `brug init` into a fresh folder (on
// tmpfs when there is one), the real composition root (registry, SQLite store, policies, audit
// log, every route), and requests built as the HTTPS edge builds them (gateway/http/server.cc),
// handed to the chain without the TLS socket.
#pragma once

#include <string>
#include <string_view>

#include "gateway/http/http.h"

namespace brug::fuzz {

// The organisations of the development setup, by role.
inline constexpr const char* kGemeente = "gemeente-oude-ijsselstreek";
inline constexpr const char* kProject = "reconnact-leusden";
inline constexpr const char* kAuditor = "fg-oude-ijsselstreek";

// Started on first use and kept for the life of the process (the store grows with the inputs,
// as a gateway's does).
gateway::Response serve(gateway::Request& request);

// A request as the edge reads it: `uri` split at the first '?', the query string decoded (a
// malformed one marks the request), the body and JSON content type, and the client certificate
// of organisation `org` (its CN, as the development PKI issues them).
gateway::Request edge_request(std::string_view org, std::string_view method, std::string_view uri,
                              std::string_view body);

// Checks what every answer must be whatever the input: never a 500 (a hostile input is a 4xx),
// problem+json or JSON that parses, and a problem with its stable type. Traps otherwise.
void check_answer(const gateway::Response& response);

}  // namespace brug::fuzz
