#include "gateway/http/http.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"

namespace brug::gateway {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    parts.push_back(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

bool match_pattern(const std::string& pattern, const std::string& path,
                   std::map<std::string, std::string>& params) {
  if (path.empty() || path[0] != '/') return false;
  const auto want = split_path(pattern);
  const auto got = split_path(path);
  // A last segment "{name...}" takes one or more remaining segments, joined by '/'.
  const bool rest = !want.empty() && want.back().ends_with("...}");
  if (rest ? got.size() < want.size() : want.size() != got.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::string& w = want[i];
    if (rest && i + 1 == want.size()) {
      std::string joined;
      for (std::size_t j = i; j < got.size(); ++j) {
        if (got[j].empty()) return false;
        joined += (j == i ? "" : "/") + got[j];
      }
      found[w.substr(1, w.size() - 5)] = joined;
      break;
    }
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (got[i].empty()) return false;
      found[w.substr(1, w.size() - 2)] = got[i];
    } else if (w != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(const std::string& in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return true;
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool is_lower_hex(const std::string& s, std::size_t from, std::size_t n) {
  bool nonzero = false;
  for (std::size_t i = from; i < from + n; ++i) {
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

}  // namespace

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response problem_response(const Problem& p, const std::string& request_id) {
  nlohmann::ordered_json j = {{"type", "urn:brug:problem:" + p.slug},
                              {"title", p.title},
                              {"status", p.status},
                              {"detail", p.detail},
                              {"instance", "urn:brug:request:" + request_id}};
  Response r;
  r.status = p.status;
  r.content_type = "application/problem+json";
  r.body = j.dump();
  return r;
}

Problem not_found_problem(const std::string&) {
  return {404, "not-found", "Not found", "No resource exists at this path."};
}
Problem method_not_allowed_problem(const std::string&) {
  return {405, "method-not-allowed", "Method not allowed",
          "This resource does not accept this method."};
}
Problem forbidden_problem(const std::string& detail) {
  return {403, "forbidden", "Forbidden", detail};
}
Problem unknown_organisation_problem() {
  return {403, "unknown-organisation", "Unknown organisation",
          "The client certificate is valid but belongs to no registered organisation."};
}
Problem payload_too_large_problem(std::int64_t limit) {
  return {413, "payload-too-large", "Payload too large",
          "Request bodies may be at most " + std::to_string(limit) + " bytes."};
}
Problem length_required_problem() {
  return {411, "length-required", "Length required",
          "A request with a body must send Content-Length or use chunked transfer encoding."};
}
Problem not_acceptable_problem() {
  return {406, "not-acceptable", "Not acceptable",
          "The Accept header allows none of the media types this route answers in (see the "
          "API description); nothing was stored or disclosed."};
}
Problem internal_problem() {
  return {500, "internal", "Internal error",
          "The request failed inside the gateway; nothing was disclosed. Quote the instance."};
}

Problem unavailable_problem() {
  return {503, "unavailable", "Service unavailable",
          "The gateway cannot reach its database just now; nothing was stored or disclosed. "
          "Try again later."};
}

std::size_t Router::add(std::string method, std::string pattern) {
  routes_.push_back({std::move(method), std::move(pattern)});
  return routes_.size() - 1;
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match m;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    std::map<std::string, std::string> params;
    if (!match_pattern(routes_[i].pattern, path, params)) continue;
    if (routes_[i].method == method) {
      m.route = i;
      m.method_mismatch = false;
      m.params = std::move(params);
      return m;
    }
    m.method_mismatch = true;
  }
  return m;
}

bool parse_query(const std::string& query, std::map<std::string, std::string>& out) {
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      std::string key, value;
      if (!percent_decode(pair.substr(0, eq), key) || !is_utf8(key)) return false;
      if (eq != std::string::npos &&
          (!percent_decode(pair.substr(eq + 1), value) || !is_utf8(value))) {
        return false;
      }
      out[key] = value;
    }
    start = end + 1;
  }
  return true;
}

std::string known_method(const std::string& method) {
  static const std::set<std::string, std::less<>> known = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return known.contains(method) ? method : "OTHER";
}

bool is_acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

std::string generate_request_id() {
  std::uint8_t bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  return crypto::to_hex(bytes);
}

bool is_valid_traceparent(const std::string& v) {
  // version(2)-trace-id(32)-parent-id(16)-flags(2)
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  if (v.compare(0, 2, "ff") == 0) return false;
  auto hex = [&](std::size_t from, std::size_t n) {
    return std::all_of(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(from + n),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  return hex(0, 2) && is_lower_hex(v, 3, 32) && is_lower_hex(v, 36, 16) && hex(53, 2);
}

}  // namespace brug::gateway
