#include "gateway/http/http1.h"

#include <algorithm>
#include <cctype>

namespace brug::gateway::http1 {
namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated field value lists `token` (case-insensitive).
bool lists(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = std::min(value.find(','), value.size());
    if (lower(trim(value.substr(0, comma))) == token) return true;
    value.remove_prefix(std::min(comma + 1, value.size()));
  }
  return false;
}

bool field_value_ok(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

std::string_view reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::string RequestHead::field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

std::optional<RequestHead> parse_request_head(std::string_view head) {
  if (head.size() > kMaxHeadBytes || head.size() < 4 ||
      head.substr(head.size() - 4) != "\r\n\r\n") {
    return std::nullopt;
  }
  RequestHead h;
  std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  h.method = std::string(line.substr(0, sp1));
  h.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(h.method) || h.method.size() > 32 || h.target.empty() || h.target[0] != '/' ||
      !std::all_of(h.target.begin(), h.target.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return std::nullopt;
  }
  if (version == "HTTP/1.1") {
    h.http10 = false;
  } else if (version == "HTTP/1.0") {
    h.http10 = true;
  } else {
    return std::nullopt;
  }
  std::size_t pos = line_end + 2;
  while (pos < head.size() - 2) {
    line_end = head.find("\r\n", pos);
    const std::string_view f = head.substr(pos, line_end - pos);
    pos = line_end + 2;
    const std::size_t colon = f.find(':');
    // No folded lines, no space between a name and its colon (RFC 9112 5.1, 5.2).
    if (colon == std::string_view::npos || !is_token(f.substr(0, colon))) return std::nullopt;
    const std::string_view value = trim(f.substr(colon + 1));
    if (!field_value_ok(value) || h.fields.size() >= kMaxHeaderFields) return std::nullopt;
    h.fields.emplace_back(lower(f.substr(0, colon)), std::string(value));
  }
  bool has_length = false, has_coding = false;
  for (const auto& [name, value] : h.fields) {
    if (name == "content-length") {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
      }
      const std::int64_t n = std::stoll(value);
      if (has_length && n != h.content_length) return std::nullopt;
      has_length = true;
      h.content_length = n;
    } else if (name == "transfer-encoding") {
      if (has_coding || lower(value) != "chunked") return std::nullopt;
      has_coding = true;
    } else if (name == "connection") {
      if (lists(value, "close")) h.keep_alive = false;
      if (h.http10 && lists(value, "keep-alive")) h.keep_alive = true;
    } else if (name == "expect") {
      if (lower(value) != "100-continue") return std::nullopt;
      h.expect_continue = true;
    }
  }
  if (has_length && has_coding) return std::nullopt;
  if (has_coding && h.http10) return std::nullopt;
  if (h.http10 && !lists(h.field("connection"), "keep-alive")) h.keep_alive = false;
  h.framing = has_coding ? Framing::kChunked : has_length ? Framing::kLength : Framing::kNone;
  return h;
}

ChunkedDecoder::Result ChunkedDecoder::feed(std::string& in, std::string& body) {
  std::size_t pos = 0;
  Result result = Result::kNeedMore;
  while (result == Result::kNeedMore) {
    if (state_ == State::kSize || state_ == State::kDataEnd || state_ == State::kTrailer) {
      const std::size_t eol = in.find("\r\n", pos);
      if (eol == std::string::npos) {
        // A size line or trailer field has no business being long.
        if (in.size() - pos > 4096) result = Result::kMalformed;
        break;
      }
      const std::string_view line(in.data() + pos, eol - pos);
      pos = eol + 2;
      if (state_ == State::kDataEnd) {
        if (!line.empty()) result = Result::kMalformed;
        state_ = State::kSize;
      } else if (state_ == State::kTrailer) {
        if (line.empty()) {
          state_ = State::kDone;
          result = Result::kDone;
        }
      } else {
        const std::string_view size = line.substr(0, std::min(line.find(';'), line.size()));
        if (size.empty() || size.size() > 15 ||
            size.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
          result = Result::kMalformed;
          break;
        }
        remaining_ = std::stoull(std::string(size), nullptr, 16);
        state_ = remaining_ == 0 ? State::kTrailer : State::kData;
      }
    } else if (state_ == State::kData) {
      const std::size_t n = std::min<std::uint64_t>(remaining_, in.size() - pos);
      if (n == 0) break;
      body.append(in, pos, n);
      pos += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::kDataEnd;
    } else {
      result = Result::kDone;
    }
  }
  in.erase(0, pos);
  return result;
}

std::string response_head(int status,
                          const std::vector<std::pair<std::string, std::string>>& fields,
                          std::size_t content_length, bool close, bool http10) {
  std::string out = http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason(status);
  out += "\r\n";
  for (const auto& [k, v] : fields) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "Content-Length: " + std::to_string(content_length) + "\r\n";
  if (close) {
    out += "Connection: close\r\n";
  } else if (http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace brug::gateway::http1
