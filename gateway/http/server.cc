#include "gateway/http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/http/http.h"
#include "gateway/http/http1.h"
#include "gateway/http/log.h"
#include "gateway/http/metrics.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace edge {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;

}  // namespace edge

using edge::SslCtx;

namespace {

using Clock = std::chrono::steady_clock;

// How much of a refused body is still read (and dropped) before the answer, so that closing
// with unread data does not reset the connection before the client has read the 413. Larger
// bodies are cut off without reading: their sender may see a reset instead.
constexpr std::int64_t kDrainBytes = 1 << 20;
// How many event loops accept, shake hands and move bytes (workers only run requests).
constexpr int kEventLoops = 2;
// How often deadlines are checked.
constexpr auto kSweep = std::chrono::milliseconds(50);

bool takes_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed";
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "TLS error";
}

// One entry of the certificate subject as UTF-8, or empty.
std::string subject_entry(X509_NAME* name, int nid) {
  const int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return {};
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

Result<SslCtx> make_tls_context(const ServerOptions& c) {
  for (const std::string* f : {&c.tls_ca_file, &c.tls_cert_file, &c.tls_key_file}) {
    if (!std::filesystem::is_regular_file(*f)) {
      return Status::error(Code::kNotFound,
                           *f + ": TLS file not found (see " + c.config_file + ")");
    }
  }
  auto fail = [&](const std::string& what) {
    return Status::error(
        Code::kInvalidArgument,
        "TLS setup failed: " + what + ": " + openssl_error() + " (see " + c.config_file + ")");
  };
  SslCtx ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return fail("no context");
  SSL_CTX* x = ctx.get();
  SSL_CTX_set_min_proto_version(x, TLS1_2_VERSION);
  SSL_CTX_set_options(
      x, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_set_cipher_list(x, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!RC4") != 1) {
    return fail("cipher list");
  }
  if (SSL_CTX_set1_curves_list(x, "P-256") != 1) return fail("curves");
  if (SSL_CTX_use_certificate_chain_file(x, c.tls_cert_file.c_str()) != 1) {
    return fail(c.tls_cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(x, c.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(x) != 1) {
    ERR_clear_error();
    // OpenSSL would keep a key that does not match; every handshake would then fail.
    return Status::error(Code::kInvalidArgument,
                         c.tls_key_file + ": the key does not match the certificate " +
                             c.tls_cert_file + " (see " + c.config_file + ")");
  }
  // Only the configured CA vouches for clients, and a client certificate is required.
  if (SSL_CTX_load_verify_locations(x, c.tls_ca_file.c_str(), nullptr) != 1) {
    return fail(c.tls_ca_file);
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.tls_ca_file.c_str());
  if (names != nullptr) SSL_CTX_set_client_CA_list(x, names);
  SSL_CTX_set_verify(x, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(x, 4);
  static const unsigned char kSessionContext[] = "brug";
  SSL_CTX_set_session_id_context(x, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_SERVER);
  return ctx;
}

// Binds and listens. SO_REUSEADDR (a restart need not wait for TIME_WAIT) but never
// SO_REUSEPORT, with which a second gateway on the port would start and share the connections.
Result<int> listen_on(const std::string& host, std::uint16_t port, int& bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    return Status::error(Code::kUnavailable, "cannot listen on " + where + ": " + gai_strerror(rc));
  }
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Status::error(Code::kUnavailable, "cannot listen on " + where + ": " + error);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  bound_port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

std::string peer_address(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

// The edge's own types (named, since HttpsServer::State holds them).
namespace edge {

class EventLoop;

// One client connection. Its event loop owns it; while a worker runs its request the loop
// leaves it alone (kWorking), and the hand-over through the queues orders the two.
struct Connection {
  enum class State { kHandshake, kHead, kBody, kWorking, kWrite, kClosed };
  int fd = -1;
  SSL* ssl = nullptr;
  EventLoop* loop = nullptr;
  std::string address;
  State state = State::kHandshake;
  Clock::time_point deadline;
  std::uint32_t events = 0;  // what epoll watches now
  bool registered = false;
  std::string in;  // bytes read and not yet consumed
  bool head_started = false;
  std::optional<http1::RequestHead> head;
  http1::ChunkedDecoder chunked;
  std::string body;
  std::int64_t body_seen = 0;  // bytes of the body read, kept or dropped
  bool too_large = false, length_required = false, bad_request = false;
  std::string out;  // the response, written from `written`
  std::size_t written = 0;
  bool close_after = false;
  int requests = 0;
  std::string peer_serial_number, peer_common_name;
};

}  // namespace edge

using edge::Connection;
using edge::EventLoop;

struct HttpsServer::State {
  ServerOptions options;
  Serve serve;
  Logger& log;
  Metrics& metrics;
  SslCtx ctx;
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::atomic<std::uint64_t> refused{0};
  std::atomic<bool> stopping{false};
  std::once_flag stopped;

  // Open connections per client address, and in all.
  std::mutex addresses_mu;
  std::unordered_map<std::string, int> per_address;
  int open = 0;

  // Requests waiting for a worker.
  std::mutex work_mu;
  std::condition_variable work_cv;
  std::deque<Connection*> work;
  bool workers_done = false;

  std::vector<std::unique_ptr<EventLoop>> loops;
  std::vector<std::thread> workers;

  State(ServerOptions o, Serve s, Logger& l, Metrics& m)
      : options(std::move(o)), serve(std::move(s)), log(l), metrics(m) {}

  bool admit(const std::string& address) {
    std::lock_guard lock(addresses_mu);
    int& n = per_address[address];
    if (n >= options.max_connections_per_address || open >= options.max_connections) {
      if (n == 0) per_address.erase(address);
      return false;
    }
    ++n;
    ++open;
    return true;
  }
  void release(const std::string& address) {
    std::lock_guard lock(addresses_mu);
    auto it = per_address.find(address);
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
    --open;
  }
  // Queues a complete request for a worker; false when max_queued are waiting already.
  bool submit(Connection* c) {
    {
      std::lock_guard lock(work_mu);
      if (static_cast<int>(work.size()) >= options.max_queued) return false;
      work.push_back(c);
    }
    work_cv.notify_one();
    return true;
  }
  void run_worker();
  void handle(Connection& c);
};

namespace edge {

// Accepts, shakes hands, reads request heads and bodies and writes answers, for many
// connections at once without blocking: a connection that trickles its bytes costs a slot in
// this loop and nothing else, and is closed at its deadline.
class EventLoop {
 public:
  explicit EventLoop(HttpsServer::State& s) : s_(s) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up fd
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = &s_;  // the listening socket
    epoll_ctl(epoll_, EPOLL_CTL_ADD, s_.listen_fd, &ev);
  }
  ~EventLoop() {
    for (auto& [fd, c] : conns_) free_connection(*c);
    ::close(epoll_);
    ::close(wake_);
  }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // From a worker: the answer is in `c.out`.
  void answered(Connection* c) {
    {
      std::lock_guard lock(mu_);
      answered_.push_back(c);
    }
    wake();
  }
  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
  }
  // Stop accepting; finish the requests in flight until `grace`, then stop.
  void drain_until(Clock::time_point grace) {
    grace_ = grace;
    draining_ = true;
    wake();
  }
  int unfinished() const { return unfinished_; }

 private:
  void run() {
    std::vector<epoll_event> events(256);
    bool accepting = true;
    while (true) {
      if (draining_ && accepting) {
        epoll_ctl(epoll_, EPOLL_CTL_DEL, s_.listen_fd, nullptr);
        accepting = false;
      }
      if (draining_) {
        close_idle();
        reap();
        if (conns_.empty() || Clock::now() >= grace_) break;
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(kSweep.count()));
      for (int i = 0; i < n; ++i) {
        void* p = events[static_cast<std::size_t>(i)].data.ptr;
        if (p == nullptr) {
          std::uint64_t v;
          [[maybe_unused]] auto r = ::read(wake_, &v, sizeof v);
        } else if (p == &s_) {
          if (accepting) accept_some();
        } else {
          step(*static_cast<Connection*>(p));
        }
      }
      take_answers();
      sweep();
      reap();
    }
    unfinished_ = 0;
    for (auto& [fd, c] : conns_) unfinished_ += c->state == Connection::State::kWorking ? 1 : 0;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, s_.listen_fd, nullptr);
  }

  void accept_some() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(s_.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors until one closes
      std::string address = peer_address(addr);
      if (!s_.admit(address)) {
        ++s_.refused;
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->loop = this;
      c->address = std::move(address);
      c->ssl = SSL_new(s_.ctx.get());
      SSL_set_fd(c->ssl, fd);
      SSL_set_accept_state(c->ssl);
      c->deadline = Clock::now() + std::chrono::seconds(s_.options.handshake_timeout_s);
      Connection& ref = *c;
      conns_.emplace(fd, std::move(c));
      watch(ref, EPOLLIN);
      step(ref);
    }
  }

  // What epoll reports for `c`; none while a worker has it (a hang-up would be reported
  // again and again otherwise).
  void watch(Connection& c, std::uint32_t events) {
    if (c.registered && c.events == events) return;
    if (events == 0) {
      if (c.registered) epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      c.registered = false;
      c.events = 0;
      return;
    }
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    epoll_ctl(epoll_, c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev);
    c.registered = true;
    c.events = events;
  }

  // After an SSL call on `c` returned `n` <= 0: waits for what TLS wants, or closes.
  void wait_or_close(Connection& c, int n) {
    const int err = SSL_get_error(c.ssl, n);
    if (err == SSL_ERROR_WANT_READ) return watch(c, EPOLLIN);
    if (err == SSL_ERROR_WANT_WRITE) return watch(c, EPOLLOUT);
    ERR_clear_error();
    close(c);
  }

  // Moves a connection on as far as its bytes allow.
  void step(Connection& c) {
    switch (c.state) {
      case Connection::State::kHandshake:
        return handshake(c);
      case Connection::State::kHead:
      case Connection::State::kBody:
        return read_request(c);
      case Connection::State::kWrite:
        return write_answer(c);
      default:
        return;
    }
  }

  void handshake(Connection& c) {
    const int rc = SSL_do_handshake(c.ssl);
    if (rc == 1) {
      if (X509* cert = SSL_get0_peer_certificate(c.ssl)) {
        X509_NAME* subject = X509_get_subject_name(cert);
        c.peer_serial_number = subject_entry(subject, NID_serialNumber);
        c.peer_common_name = subject_entry(subject, NID_commonName);
      }
      wait_for_request(c);
      return;
    }
    const int err = SSL_get_error(c.ssl, rc);
    if (err == SSL_ERROR_WANT_READ) return watch(c, EPOLLIN);
    if (err == SSL_ERROR_WANT_WRITE) return watch(c, EPOLLOUT);
    // A failed handshake (no certificate, another CA, garbage): OpenSSL's reason, no client data.
    s_.log.info("connection-error", {{"error", openssl_error()}});
    close(c);
  }

  // Between requests: the head's deadline starts with its first byte, the keep-alive timeout
  // bounds the wait for it.
  void wait_for_request(Connection& c) {
    c.state = Connection::State::kHead;
    c.head.reset();
    c.head_started = false;
    c.chunked = {};
    c.body.clear();
    c.body_seen = 0;
    c.too_large = c.length_required = c.bad_request = false;
    c.out.clear();
    c.written = 0;
    c.deadline =
        Clock::now() + std::chrono::seconds(c.requests == 0 ? s_.options.head_timeout_s
                                                            : s_.options.keep_alive_timeout_s);
    watch(c, EPOLLIN);
    read_request(c);
  }

  // Reads what is there (TLS may hold decrypted bytes that epoll does not see) and parses.
  void read_request(Connection& c) {
    char buf[16384];
    while (c.state == Connection::State::kHead || c.state == Connection::State::kBody) {
      if (parse(c)) continue;
      if (c.state != Connection::State::kHead && c.state != Connection::State::kBody) return;
      const int n = SSL_read(c.ssl, buf, sizeof buf);
      if (n <= 0) return wait_or_close(c, n);
      if (c.state == Connection::State::kHead && !c.head_started) {
        c.head_started = true;
        if (c.requests > 0) {
          c.deadline = Clock::now() + std::chrono::seconds(s_.options.head_timeout_s);
        }
      }
      c.in.append(buf, static_cast<std::size_t>(n));
    }
  }

  // Takes what it can from `c.in`; true if it made progress and should be called again.
  bool parse(Connection& c) {
    if (c.state == Connection::State::kHead) {
      if (c.in.empty()) return false;
      c.head_started = true;
      const std::size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > http1::kMaxHeadBytes) refuse_head(c);
        return false;
      }
      c.head = http1::parse_request_head(std::string_view(c.in).substr(0, end + 4));
      c.in.erase(0, end + 4);
      if (!c.head) {
        refuse_head(c);
        return false;
      }
      ++c.requests;
      c.close_after = !c.head->keep_alive || c.requests >= s_.options.keep_alive_requests;
      c.deadline = Clock::now() + std::chrono::seconds(s_.options.timeout_s);
      const bool body = c.head->framing != http1::Framing::kNone;
      if (!body && takes_body(c.head->method)) {
        // Without a length the body would run to the end of the connection: refuse at once.
        c.length_required = true;
        c.close_after = true;
        dispatch(c);
        return false;
      }
      if (!body) {
        dispatch(c);
        return false;
      }
      if (c.head->framing == http1::Framing::kLength &&
          c.head->content_length > s_.options.max_body_bytes) {
        c.too_large = true;
        c.close_after = true;
        if (c.head->content_length > kDrainBytes) {
          dispatch(c);
          return false;
        }
      }
      if (c.head->expect_continue && !c.too_large) {
        c.out = "HTTP/1.1 100 Continue\r\n\r\n";
        c.written = 0;
        flush_interim(c);
      }
      c.state = Connection::State::kBody;
      return true;
    }
    if (c.state != Connection::State::kBody) return false;
    if (c.head->framing == http1::Framing::kLength && c.body_seen == c.head->content_length) {
      dispatch(c);  // complete (Content-Length: 0 arrives with its head)
      return false;
    }
    if (c.in.empty()) return false;
    if (c.head->framing == http1::Framing::kLength) {
      const std::int64_t want = c.head->content_length - c.body_seen;
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::int64_t>(want, static_cast<std::int64_t>(c.in.size())));
      if (!c.too_large) c.body.append(c.in, 0, n);
      c.in.erase(0, n);
      c.body_seen += static_cast<std::int64_t>(n);
      if (c.body_seen == c.head->content_length) dispatch(c);
      return c.state == Connection::State::kBody;
    }
    const std::size_t before = c.body.size();
    const auto result = c.chunked.feed(c.in, c.body);
    c.body_seen += static_cast<std::int64_t>(c.body.size() - before);
    if (static_cast<std::int64_t>(c.body.size()) > s_.options.max_body_bytes) {
      c.too_large = true;
      c.close_after = true;
      c.body.clear();
    }
    if (result == http1::ChunkedDecoder::Result::kMalformed) {
      refuse_head(c);
      return false;
    }
    if (result == http1::ChunkedDecoder::Result::kDone || c.body_seen > kDrainBytes) {
      dispatch(c);
      return false;
    }
    return false;
  }

  // A 100 Continue goes out at once; it is small, so a full socket here is the client's loss.
  void flush_interim(Connection& c) {
    const int n = SSL_write(c.ssl, c.out.data(), static_cast<int>(c.out.size()));
    if (n <= 0) ERR_clear_error();
    c.out.clear();
  }

  // A head that is not HTTP/1.1: a bare 400 and close (nothing reached the chain to audit).
  void refuse_head(Connection& c) {
    static const std::string kBody =
        R"({"type":"urn:brug:problem:bad-request","title":"Bad request","status":400,)"
        R"("detail":"The request is not well-formed HTTP/1.1."})";
    c.out = http1::response_head(400, {{"Content-Type", "application/problem+json"}}, kBody.size(),
                                 true, false) +
            kBody;
    c.close_after = true;
    start_writing(c);
  }

  void dispatch(Connection& c) {
    if (c.too_large) c.body.clear();
    c.state = Connection::State::kWorking;
    watch(c, 0);
    if (s_.submit(&c)) return;
    // Every worker is busy and the queue is full: shed this request at once.
    static const std::string kBody =
        R"({"type":"urn:brug:problem:busy","title":"Busy","status":503,)"
        R"("detail":"The gateway has more requests than it can queue; try again shortly."})";
    ++s_.refused;
    c.out = http1::response_head(
                503, {{"Content-Type", "application/problem+json"}, {"Retry-After", "1"}},
                kBody.size(), true, c.head->http10) +
            kBody;
    c.close_after = true;
    start_writing(c);
  }

  void take_answers() {
    std::vector<Connection*> done;
    {
      std::lock_guard lock(mu_);
      done.swap(answered_);
    }
    for (Connection* c : done) {
      if (draining_) c->close_after = true;
      start_writing(*c);
    }
  }

  void start_writing(Connection& c) {
    c.state = Connection::State::kWrite;
    c.written = 0;
    c.deadline = Clock::now() + std::chrono::seconds(s_.options.timeout_s);
    write_answer(c);
  }

  void write_answer(Connection& c) {
    while (c.written < c.out.size()) {
      const int n =
          SSL_write(c.ssl, c.out.data() + c.written,
                    static_cast<int>(std::min<std::size_t>(c.out.size() - c.written, 1 << 20)));
      if (n <= 0) return wait_or_close(c, n);
      c.written += static_cast<std::size_t>(n);
    }
    if (c.close_after || draining_) {
      SSL_shutdown(c.ssl);
      ERR_clear_error();
      return close(c);
    }
    wait_for_request(c);
  }

  // Closes what has passed its deadline: a handshake, a head, a body or an answer that took too
  // long in all, however steadily its bytes trickled.
  void sweep() {
    const auto now = Clock::now();
    std::vector<Connection*> late;
    for (auto& [fd, c] : conns_) {
      if (c->state != Connection::State::kWorking && c->state != Connection::State::kClosed &&
          now >= c->deadline) {
        late.push_back(c.get());
      }
    }
    for (Connection* c : late) close(*c);
  }

  // While draining: connections between requests go now.
  void close_idle() {
    std::vector<Connection*> idle;
    for (auto& [fd, c] : conns_) {
      if (c->state == Connection::State::kHandshake ||
          (c->state == Connection::State::kHead && c->in.empty())) {
        idle.push_back(c.get());
      }
    }
    for (Connection* c : idle) close(*c);
  }

  void free_connection(Connection& c) {
    SSL_free(c.ssl);
    ::close(c.fd);
    s_.release(c.address);
  }

  // Marks `c` closed; it is freed after the current round of events, when nothing on the
  // stack refers to it any more.
  void close(Connection& c) {
    if (c.state == Connection::State::kClosed) return;
    watch(c, 0);
    c.state = Connection::State::kClosed;
    dead_.push_back(c.fd);
  }

  void reap() {
    for (int fd : dead_) {
      auto it = conns_.find(fd);
      if (it == conns_.end()) continue;
      free_connection(*it->second);
      conns_.erase(it);
    }
    dead_.clear();
  }

  HttpsServer::State& s_;
  int epoll_ = -1, wake_ = -1;
  std::thread thread_;
  std::unordered_map<int, std::unique_ptr<Connection>> conns_;
  std::vector<int> dead_;
  std::mutex mu_;
  std::vector<Connection*> answered_;
  std::atomic<bool> draining_{false};
  Clock::time_point grace_;
  int unfinished_ = 0;
};

}  // namespace edge

void HttpsServer::State::run_worker() {
  while (true) {
    Connection* c = nullptr;
    {
      std::unique_lock lock(work_mu);
      work_cv.wait(lock, [&] { return workers_done || !work.empty(); });
      if (work.empty()) return;
      c = work.front();
      work.pop_front();
    }
    handle(*c);
    c->loop->answered(c);
  }
}

// One request through the chain, its answer into `c.out`, one metric and one log line.
void HttpsServer::State::handle(Connection& c) {
  const auto started = Clock::now();
  const http1::RequestHead& h = *c.head;
  Request r;
  r.method = known_method(h.method);
  const std::size_t q = h.target.find('?');
  r.path = h.target.substr(0, q);
  const std::string incoming_id = h.field("x-request-id");
  r.request_id = is_acceptable_request_id(incoming_id) ? incoming_id : generate_request_id();
  const std::string trace = h.field("traceparent");
  if (is_valid_traceparent(trace)) r.traceparent = trace;
  r.content_type = h.field("content-type");
  for (const auto& [name, value] : h.fields) {
    if (name != "accept") continue;
    if (!r.accept.empty()) r.accept += ", ";
    r.accept += value;
  }
  r.peer_serial_number = c.peer_serial_number;
  r.peer_common_name = c.peer_common_name;
  r.body = std::move(c.body);
  r.body_too_large = c.too_large;
  r.length_required = c.length_required;
  if (q != std::string::npos && !parse_query(h.target.substr(q + 1), r.query)) r.bad_query = true;

  Response out;
  try {
    out = serve(r);
    if (r.caller == nullptr) c.close_after = true;
  } catch (const std::exception&) {
    log.error("handler-failed", {{"request_id", r.request_id}, {"route", r.route}});
    out = problem_response(internal_problem(), r.request_id);
  }
  std::vector<std::pair<std::string, std::string>> fields = {{"Content-Type", out.content_type},
                                                             {"X-Request-Id", r.request_id},
                                                             {"Cache-Control", "no-store"},
                                                             {"X-Content-Type-Options", "nosniff"},
                                                             {"Server", "brug"}};
  if (!r.traceparent.empty()) fields.emplace_back("traceparent", r.traceparent);
  for (const auto& f : out.headers) fields.push_back(f);
  c.out = http1::response_head(out.status, fields, out.body.size(), c.close_after, h.http10);
  if (h.method != "HEAD") c.out += out.body;

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  metrics.record(r.route, r.method, out.status, seconds);
  log.info("request", {{"request_id", r.request_id},
                       {"trace_id", r.traceparent.empty() ? "" : r.traceparent.substr(3, 32)},
                       {"org", r.caller != nullptr ? r.caller->id : ""},
                       {"method", r.method},
                       {"route", r.route},
                       {"status", std::int64_t{out.status}},
                       {"duration_ms", seconds * 1000.0},
                       {"bytes_in", static_cast<std::int64_t>(r.body.size())},
                       {"bytes_out", static_cast<std::int64_t>(out.body.size())}});
}

HttpsServer::HttpsServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
HttpsServer::~HttpsServer() { stop(); }

std::uint16_t HttpsServer::port() const { return state_->port; }

std::uint64_t HttpsServer::refused_connections() const { return state_->refused.load(); }

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(const ServerOptions& options, Serve serve,
                                                        Logger& log, Metrics& metrics) {
  // A client that hangs up while its answer is written must cost an error return, not the
  // process: OpenSSL writes with write(2), which raises SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  auto state = std::make_unique<State>(options, std::move(serve), log, metrics);
  auto ctx = make_tls_context(options);
  if (!ctx) return ctx.status();
  state->ctx = std::move(ctx).value();
  int port = 0;
  auto fd = listen_on(options.host, options.port, port);
  if (!fd) return fd.status();
  state->listen_fd = *fd;
  state->port = static_cast<std::uint16_t>(port);
  for (int i = 0; i < options.threads; ++i) {
    state->workers.emplace_back([s = state.get()] { s->run_worker(); });
  }
  for (int i = 0; i < kEventLoops; ++i) {
    state->loops.push_back(std::make_unique<EventLoop>(*state));
  }
  for (auto& loop : state->loops) loop->start();
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(state)));
}

void HttpsServer::stop() {
  State& s = *state_;
  std::call_once(s.stopped, [&s] {
    // Stop accepting; keep-alive connections end after the request they are serving.
    const auto grace = Clock::now() + std::chrono::seconds(s.options.shutdown_grace_s);
    for (auto& loop : s.loops) loop->drain_until(grace);
    int unfinished = 0;
    for (auto& loop : s.loops) {
      loop->join();
      unfinished += loop->unfinished();
    }
    {
      std::lock_guard lock(s.work_mu);
      s.workers_done = true;
    }
    s.work_cv.notify_all();
    for (auto& w : s.workers) w.join();
    s.loops.clear();  // frees what is left
    ::close(s.listen_fd);
    s.log.info("stopped", {{"unfinished_connections", std::int64_t{unfinished}}});
  });
}

}  // namespace brug::gateway
