#include "gateway/http/server.h"

#include <Poco/ErrorHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/ThreadPool.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "gateway/http/http.h"
#include "gateway/http/log.h"
#include "gateway/http/metrics.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {

struct HttpsServer::State {
  ServerOptions options;
  Serve serve;
  Logger& log;
  Metrics& metrics;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
  std::once_flag stopped;
  std::unique_ptr<Poco::ErrorHandler> error_handler;
  Poco::ErrorHandler* previous_error_handler = nullptr;

  State(ServerOptions o, Serve s, Logger& l, Metrics& m)
      : options(std::move(o)), serve(std::move(s)), log(l), metrics(m) {}
};

namespace {

using Clock = std::chrono::steady_clock;

// The subject of the peer's client certificate (the handshake already verified that it chains
// to the configured CA): serialNumber (the OIN) and CN.
void peer_subject(Poco::Net::HTTPServerRequest& req, Request& r) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&req);
  if (impl == nullptr) return;
  Poco::Net::SecureStreamSocket socket(impl->socket());
  if (!socket.havePeerCertificate()) return;
  const Poco::Net::X509Certificate cert = socket.peerCertificate();
  r.peer_serial_number = cert.subjectName(Poco::Crypto::X509Certificate::NID_SERIAL_NUMBER);
  r.peer_common_name = cert.commonName();
}

enum class BodyRead { kOk, kTooLarge };

bool takes_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// How much of a refused body is still read (and dropped) before the answer, so that closing
// with unread data does not reset the connection before the client has read the 413. Larger
// bodies are cut off without reading: their sender may see a reset instead.
constexpr std::int64_t kDrainBytes = 1 << 20;

void drain(std::istream& in, std::int64_t max) {
  char buf[16384];
  while (in && max > 0) {
    in.read(buf, static_cast<std::streamsize>(std::min<std::int64_t>(sizeof buf, max)));
    max -= in.gcount();
  }
}

BodyRead read_body(Poco::Net::HTTPServerRequest& req, std::int64_t limit, std::string& body) {
  std::istream& in = req.stream();
  if (req.hasContentLength() && req.getContentLength64() > limit) {
    if (req.getContentLength64() <= kDrainBytes) drain(in, req.getContentLength64());
    return BodyRead::kTooLarge;
  }
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    body.append(buf, static_cast<std::size_t>(in.gcount()));
    if (static_cast<std::int64_t>(body.size()) > limit) {
      drain(in, kDrainBytes);
      return BodyRead::kTooLarge;
    }
  }
  return BodyRead::kOk;
}

class EdgeHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit EdgeHandler(HttpsServer::State& s) : s_(s) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    const auto started = Clock::now();
    Request r;
    r.method = known_method(req.getMethod());
    const std::string& uri = req.getURI();
    const std::size_t q = uri.find('?');
    r.path = uri.substr(0, q);
    const std::string incoming_id = req.get("X-Request-Id", "");
    r.request_id = is_acceptable_request_id(incoming_id) ? incoming_id : generate_request_id();
    const std::string trace = req.get("traceparent", "");
    if (is_valid_traceparent(trace)) r.traceparent = trace;
    r.content_type = req.getContentType();

    Response out;
    bool close = false;
    try {
      peer_subject(req, r);
      const bool framed = req.hasContentLength() || req.getChunkedTransferEncoding();
      if (!framed && takes_body(r.method)) {
        // Without a length the body would run to the end of the connection: refuse at once.
        r.length_required = true;
        close = true;
      } else if (!framed) {
        // RFC 9112 6.3: a request without Content-Length or chunked coding has no body.
      } else if (read_body(req, s_.options.max_body_bytes, r.body) == BodyRead::kTooLarge) {
        r.body.clear();
        r.body_too_large = true;
        close = true;  // the rest of the body is still on the wire
      }
      if (q != std::string::npos && !parse_query(uri.substr(q + 1), r.query)) r.bad_query = true;
      out = s_.serve(r);
      if (r.caller == nullptr) close = true;
    } catch (const std::exception& e) {
      s_.log.error("handler-failed", {{"request_id", r.request_id}, {"route", r.route}});
      out = problem_response(internal_problem(), r.request_id);
    }
    send(req, resp, r, out, close);

    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    s_.metrics.record(r.route, r.method, out.status, seconds);
    s_.log.info("request", {{"request_id", r.request_id},
                            {"trace_id", r.traceparent.empty() ? "" : r.traceparent.substr(3, 32)},
                            {"org", r.caller != nullptr ? r.caller->id : ""},
                            {"method", r.method},
                            {"route", r.route},
                            {"status", std::int64_t{out.status}},
                            {"duration_ms", seconds * 1000.0},
                            {"bytes_in", static_cast<std::int64_t>(r.body.size())},
                            {"bytes_out", static_cast<std::int64_t>(out.body.size())}});
  }

 private:
  static void send(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp,
                   const Request& r, const Response& out, bool close) {
    resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
    resp.setContentType(out.content_type);
    resp.set("X-Request-Id", r.request_id);
    if (!r.traceparent.empty()) resp.set("traceparent", r.traceparent);
    resp.set("Cache-Control", "no-store");
    resp.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : out.headers) resp.set(k, v);
    if (close) resp.setKeepAlive(false);
    (void)req;
    resp.sendBuffer(out.body.data(), out.body.size());
  }

  HttpsServer::State& s_;
};

class EdgeFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit EdgeFactory(HttpsServer::State& s) : s_(s) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new EdgeHandler(s_);
  }

 private:
  HttpsServer::State& s_;
};

// Exceptions that escape Poco's connection threads (failed handshakes, resets) become log lines.
// Their texts come from Poco and OpenSSL and carry no request data.
class LoggingErrorHandler final : public Poco::ErrorHandler {
 public:
  explicit LoggingErrorHandler(Logger& log) : log_(log) {}
  void exception(const Poco::Exception& e) override {
    log_.info("connection-error", {{"error", e.displayText()}});
  }
  void exception(const std::exception& e) override {
    log_.info("connection-error", {{"error", std::string(e.what())}});
  }
  void exception() override { log_.info("connection-error", {{"error", "unknown"}}); }

 private:
  Logger& log_;
};

Result<Poco::Net::Context::Ptr> make_tls_context(const ServerOptions& c) {
  for (const std::string* f : {&c.tls_ca_file, &c.tls_cert_file, &c.tls_key_file}) {
    if (!std::filesystem::is_regular_file(*f)) {
      return Status::error(Code::kNotFound,
                           *f + ": TLS file not found (see " + c.config_file + ")");
    }
  }
  try {
    Poco::Net::Context::Params p;
    p.privateKeyFile = c.tls_key_file;
    p.certificateFile = c.tls_cert_file;
    p.caLocation = c.tls_ca_file;
    p.verificationMode = Poco::Net::Context::VERIFY_STRICT;  // a client certificate is required
    p.verificationDepth = 4;
    p.loadDefaultCAs = false;  // only the configured CA vouches for clients
    p.cipherList = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!RC4";
    p.ecdhCurve = "prime256v1";
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
    ctx->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    ctx->preferServerCiphers();
    ctx->enableSessionCache(true, "brug");
    // Poco would match the client certificate against the client's IP address as if it were a
    // server name; a client is identified by the registry lookup instead.
    ctx->enableExtendedCertificateVerification(false);
    // OpenSSL keeps a key that does not match the certificate; every handshake would then fail.
    if (SSL_CTX_check_private_key(ctx->sslContext()) != 1) {
      return Status::error(Code::kInvalidArgument,
                           c.tls_key_file + ": the key does not match the certificate " +
                               c.tls_cert_file + " (see " + c.config_file + ")");
    }
    return ctx;
  } catch (const Poco::Exception& e) {
    return Status::error(Code::kInvalidArgument, "TLS setup failed: " + e.displayText());
  }
}

}  // namespace

HttpsServer::HttpsServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
HttpsServer::~HttpsServer() { stop(); }

std::uint16_t HttpsServer::port() const { return state_->port; }

std::uint64_t HttpsServer::refused_connections() const {
  return state_->server ? static_cast<std::uint64_t>(state_->server->refusedConnections()) : 0;
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(const ServerOptions& options, Serve serve,
                                                        Logger& log, Metrics& metrics) {
  static std::once_flag ssl_once;
  std::call_once(ssl_once, [] { Poco::Net::initializeSSL(); });
  auto state = std::make_unique<State>(options, std::move(serve), log, metrics);
  auto ctx = make_tls_context(options);
  if (!ctx) return ctx.status();
  const ServerOptions& config = options;
  try {
    // Poco's bind(address, true) also sets SO_REUSEPORT, with which a second gateway on the
    // same port would start and share the connections: reuse the address, never the port.
    Poco::Net::SecureServerSocket socket(*ctx);
    socket.bind(Poco::Net::SocketAddress(config.host, config.port), true, false);
    socket.listen(128);
    state->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(config.threads);
    params->setMaxQueued(config.max_queued);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(config.keep_alive_requests);
    params->setKeepAliveTimeout(Poco::Timespan(config.keep_alive_timeout_s, 0));
    params->setTimeout(Poco::Timespan(config.timeout_s, 0));
    params->setServerName("brug");
    state->pool =
        std::make_unique<Poco::ThreadPool>(std::min(2, config.threads), config.threads, 60);
    state->server = std::make_unique<Poco::Net::HTTPServer>(new EdgeFactory(*state), *state->pool,
                                                            socket, params);
    state->server->start();
    // Process-wide in Poco: the last server started owns it until it stops (one per process in
    // production); the previous one is put back then.
    state->error_handler = std::make_unique<LoggingErrorHandler>(state->log);
    state->previous_error_handler = Poco::ErrorHandler::set(state->error_handler.get());
  } catch (const Poco::Exception& e) {
    return Status::error(Code::kUnavailable, "cannot listen on " + config.host + ":" +
                                                 std::to_string(config.port) + ": " +
                                                 e.displayText());
  }
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(state)));
}

void HttpsServer::stop() {
  State& s = *state_;
  std::call_once(s.stopped, [&s] {
    if (!s.server) return;
    // Stop accepting; keep-alive connections end after the request they are serving.
    s.server->stopAll(false);
    const auto deadline = Clock::now() + std::chrono::seconds(s.options.shutdown_grace_s);
    while (s.server->currentThreads() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int unfinished = s.server->currentThreads();
    if (unfinished > 0) s.server->stopAll(true);
    s.pool->joinAll();
    if (Poco::ErrorHandler::get() == s.error_handler.get()) {
      Poco::ErrorHandler::set(s.previous_error_handler);
    }
    s.log.info("stopped", {{"unfinished_connections", std::int64_t{unfinished}}});
  });
}

}  // namespace brug::gateway
