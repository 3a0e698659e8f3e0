// HTTP/1.1 framing for the HTTPS edge (RFC 9112), as hostile input: the request head, the body's
// framing (Content-Length or chunked), and the response head. No sockets here, so that every
// rule can be tested on bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brug::gateway::http1 {

// Limits on a request head: larger heads are refused before they are parsed.
inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;
inline constexpr std::size_t kMaxHeaderFields = 100;

enum class Framing { kNone, kLength, kChunked };

struct RequestHead {
  std::string method, target;  // target in origin form ("/path?query")
  bool http10 = false;
  std::vector<std::pair<std::string, std::string>> fields;  // names in lower case
  Framing framing = Framing::kNone;
  std::int64_t content_length = 0;
  bool keep_alive = true;        // after the version and the Connection field
  bool expect_continue = false;  // "Expect: 100-continue"

  // The first field of that (lower-case) name, or empty.
  std::string field(std::string_view name) const;
};

// Parses a head that ends with its blank line (the bytes up to and including "\r\n\r\n").
// Anything malformed, ambiguous (Content-Length with chunked, two lengths, a space before a
// colon, folded lines) or unsupported (a transfer coding other than chunked) is none.
std::optional<RequestHead> parse_request_head(std::string_view head);

// Decodes a chunked body as its bytes arrive: feed() consumes what it can of `in` and appends
// the data to `body`.
class ChunkedDecoder {
 public:
  enum class Result { kNeedMore, kDone, kMalformed };
  Result feed(std::string& in, std::string& body);

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone };
  State state_ = State::kSize;
  std::uint64_t remaining_ = 0;
};

// The status line and fields of a response whose body has `content_length` bytes.
std::string response_head(int status,
                          const std::vector<std::pair<std::string, std::string>>& fields,
                          std::size_t content_length, bool close, bool http10);

}  // namespace brug::gateway::http1
