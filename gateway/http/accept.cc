#include "gateway/http/accept.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "gateway/http/tokens.h"

namespace brug::gateway {
namespace {

struct Range {
  std::string type, subtype;  // lower case; "*" for a wildcard
  int q = 1000;               // thousandths
};

using http_tokens::is_token;
using http_tokens::trim;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "0", "0.5", "1", "1.000": at most three decimals, at most 1.
std::optional<int> parse_q(std::string_view v) {
  if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.') return std::nullopt;
  int scale = 100;
  for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
    q += (v[i] - '0') * scale;
  }
  return q <= 1000 ? std::optional<int>(q) : std::nullopt;
}

// Splits on `sep` outside double-quoted strings (a quoted parameter value may hold one).
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"' && (i == 0 || s[i - 1] != '\\')) quoted = !quoted;
    if (s[i] == sep && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// One media range, or none when it is malformed or carries a parameter brug cannot honour
// (then it matches nothing, as RFC 9110 has it for parameters the server does not produce).
std::optional<Range> parse_range(std::string_view text) {
  const auto parts = split(text, ';');
  const std::string_view media = trim(parts[0]);
  const std::size_t slash = media.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  Range r{lower(media.substr(0, slash)), lower(media.substr(slash + 1))};
  if (!is_token(r.type) || !is_token(r.subtype) || (r.type == "*" && r.subtype != "*")) {
    return std::nullopt;
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view p = trim(parts[i]);
    const std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string name = lower(trim(p.substr(0, eq)));
    std::string_view value = trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (name == "q") {
      auto q = parse_q(value);
      if (!q) return std::nullopt;
      r.q = *q;
      break;  // what follows q are accept-extensions, which carry no meaning here
    }
    const std::string v = lower(value);
    if (!((name == "charset" && v == "utf-8") || (name == "fhirversion" && v == "4.0"))) {
      return std::nullopt;
    }
  }
  return r;
}

// How specifically `r` names `offer`: 3 exactly, 2 type/*, 1 */*, 0 not at all.
int specificity(const Range& r, std::string_view offer) {
  const std::size_t slash = offer.find('/');
  const std::string_view type = offer.substr(0, slash), subtype = offer.substr(slash + 1);
  if (r.type == "*") return 1;
  if (r.type != type) return 0;
  if (r.subtype == "*") return 2;
  return r.subtype == subtype ? 3 : 0;
}

}  // namespace

std::optional<std::string> negotiate(const std::string& accept,
                                     const std::vector<std::string>& offers) {
  if (offers.empty()) return std::nullopt;
  if (trim(accept).empty()) return offers.front();
  std::vector<Range> ranges;
  for (std::string_view element : split(accept, ',')) {
    if (trim(element).empty()) continue;  // RFC 9110 lists allow empty elements
    if (auto r = parse_range(element)) ranges.push_back(std::move(*r));
  }
  std::optional<std::string> best;
  int best_q = 0, best_specificity = 0;
  for (const std::string& offer : offers) {
    int q = 0, most = 0;
    for (const Range& r : ranges) {
      const int s = specificity(r, offer);
      if (s > most) {
        most = s;
        q = r.q;
      }
    }
    if (q == 0) continue;
    const bool better = q > best_q || (q == best_q && most > best_specificity) ||
                        (q == best_q && most == best_specificity && most == 3);
    if (!best || better) {
      best = offer;
      best_q = q;
      best_specificity = most;
    }
  }
  return best;
}

}  // namespace brug::gateway
