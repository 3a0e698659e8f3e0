// The HTTP edge without the transport: requests, responses, RFC 9457 problems and the router.
// Poco lives in server.cc only, so routes and handlers can be tested without sockets.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policies/vocabulary.h"

namespace brug::gateway {

struct Organisation;

struct Request {
  std::string method;
  std::string path;  // without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> path_params;  // {name} segments of the matched route
  std::string body;
  std::string content_type;
  std::string accept;       // the Accept fields, joined with ", " (RFC 9110 list semantics)
  std::string request_id;   // accepted from X-Request-Id or generated
  std::string traceparent;  // W3C trace context, when valid
  // What the transport saw, for the chain to judge: the client certificate's subject
  // serialNumber (OIN) and CN, whether the body was over the limit (and so not read), whether
  // the query string was malformed.
  std::string peer_serial_number, peer_common_name;
  bool body_too_large = false;
  bool bad_query = false;
  bool length_required = false;          // a POST without Content-Length or chunked encoding
  const Organisation* caller = nullptr;  // set by the chain once the certificate is known
  std::string route = "unmatched";       // the matched route's pattern, for metrics and logs
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// An RFC 9457 problem. `slug` makes the stable type urn:brug:problem:<slug>. `detail` must
// never carry personal data (no BSN, no field values).
struct Problem {
  int status;
  std::string slug;
  std::string title;
  std::string detail;
};

Response problem_response(const Problem& problem, const std::string& request_id);
Response json_response(int status, std::string body);

// The problems the edge itself produces; handlers add their own slugs (docs/API.md lists all).
Problem not_found_problem(const std::string& path);
Problem method_not_allowed_problem(const std::string& method);
Problem forbidden_problem(const std::string& detail);
Problem unknown_organisation_problem();
Problem payload_too_large_problem(std::int64_t limit);
Problem length_required_problem();
// 406: the Accept header allows none of the media types the route answers in.
Problem not_acceptable_problem();
Problem internal_problem();
// 503: the database cannot take the request now (down, restarting, retries exhausted).
Problem unavailable_problem();

// Paths to routes: "/v1/consents/{id}/withdraw" patterns with {name} segments; a last
// segment "{name...}" takes the rest of the path (one or more segments). What a route
// does is the caller's business (gateway/disclosure/ keeps a route table by these indexes).
class Router {
 public:
  // Returns the index of the new route.
  std::size_t add(std::string method, std::string pattern);

  struct Match {
    std::optional<std::size_t> route;  // none: no route for this path (or method, see below)
    bool method_mismatch = false;      // the path exists under another method
    std::map<std::string, std::string> params;
  };
  Match match(const std::string& method, const std::string& path) const;

 private:
  struct Entry {
    std::string method, pattern;
  };
  std::vector<Entry> routes_;
};

// Splits "a=1&b=x%20y" into decoded pairs; false on malformed percent-encoding or a name or
// value that is not UTF-8 once decoded.
bool parse_query(const std::string& query, std::map<std::string, std::string>& out);

// The request method as it may appear in a log line, a metric label or a route: one of the
// methods of RFC 9110 (and PATCH), else "OTHER", so that no client text is recorded.
std::string known_method(const std::string& method);

// X-Request-Id: 1-128 of [A-Za-z0-9._:-]; anything else is replaced by a generated id.
bool is_acceptable_request_id(const std::string& id);
std::string generate_request_id();
// W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>", not all-zero ids.
bool is_valid_traceparent(const std::string& value);

}  // namespace brug::gateway
