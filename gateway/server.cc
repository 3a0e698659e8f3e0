#include "gateway/server.h"

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

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "adapters/consent_store.h"
#include "adapters/storage.h"
#include "consent/registry.h"
#include "crypto/keydir.h"
#include "gateway/audit.h"
#include "gateway/audit_log.h"
#include "gateway/audit_routes.h"
#include "gateway/consent_routes.h"
#include "gateway/exchange.h"
#include "gateway/http.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/registry.h"
#include "policies/catalogue.h"
#include "policies/policy_set.h"

namespace brug::gateway {

struct Gateway::State {
  Config config;
  Logger log;
  OrgRegistry registry;
  std::unique_ptr<crypto::KeyDir> keys;
  std::unique_ptr<adapters::Storage> storage;
  std::optional<Catalogue> catalogue;
  std::optional<PolicySet> policies;
  std::unique_ptr<consent::ConsentStore> consent_store;
  std::unique_ptr<consent::ConsentRegistry> consents;
  std::unique_ptr<AuditLog> audit_log;
  AuditSink* audit = nullptr;  // the audit log; every route writes through it
  std::unique_ptr<Exchange> exchange;
  Metrics metrics;
  Router router;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
  std::once_flag stopped;
  std::unique_ptr<Poco::ErrorHandler> error_handler;

  State(Config c, std::ostream& out, OrgRegistry r)
      : config(std::move(c)), log(out), registry(std::move(r)) {}
};

namespace {

using Clock = std::chrono::steady_clock;

// The organisation behind the peer's client certificate (the handshake already verified it
// chains to the configured CA), or null when the registry does not know it.
const Organisation* identify(Poco::Net::HTTPServerRequest& req, const OrgRegistry& registry) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&req);
  if (impl == nullptr) return nullptr;
  Poco::Net::SecureStreamSocket socket(impl->socket());
  if (!socket.havePeerCertificate()) return nullptr;
  const Poco::Net::X509Certificate cert = socket.peerCertificate();
  return registry.find_by_certificate(
      cert.subjectName(Poco::Crypto::X509Certificate::NID_SERIAL_NUMBER), cert.commonName());
}

enum class BodyRead { kOk, kTooLarge };

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
  explicit EdgeHandler(Gateway::State& s) : s_(s) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    const auto started = Clock::now();
    Request r;
    r.method = req.getMethod();
    const std::string& uri = req.getURI();
    const std::size_t q = uri.find('?');
    r.path = uri.substr(0, q);
    const std::string incoming_id = req.get("X-Request-Id", "");
    r.request_id = is_acceptable_request_id(incoming_id) ? incoming_id : generate_request_id();
    const std::string trace = req.get("traceparent", "");
    if (is_valid_traceparent(trace)) r.traceparent = trace;
    r.content_type = req.getContentType();

    std::string route = "unmatched";
    Response out;
    bool close = false;
    try {
      r.caller = identify(req, s_.registry);
      if (r.caller == nullptr) {
        route = "unauthenticated";
        out = problem_response(unknown_organisation_problem(), r.request_id);
        close = true;
      } else if (read_body(req, s_.config.max_body_bytes, r.body) == BodyRead::kTooLarge) {
        out = problem_response(payload_too_large_problem(s_.config.max_body_bytes), r.request_id);
        close = true;  // the rest of the body is still on the wire
      } else if (q != std::string::npos && !parse_query(uri.substr(q + 1), r.query)) {
        out = problem_response({400, "bad-query", "Malformed query string",
                                "The query string has malformed percent-encoding."},
                               r.request_id);
      } else {
        out = s_.router.dispatch(r, route);
      }
    } catch (const std::exception& e) {
      s_.log.error("handler-failed", {{"request_id", r.request_id}, {"route", route}});
      out = problem_response(internal_problem(), r.request_id);
    }
    // Every refusal of access leaves an audit event. It is refused whatever the append says.
    if (out.status == 403 && s_.audit != nullptr) {
      AuditEvent e = audit_event(r, "request.refused");
      e.decision = "deny";
      e.reason = route;
      if (!s_.audit->append({std::move(e)}).is_ok()) {
        s_.log.error("audit-append-failed", {{"request_id", r.request_id}});
      }
    }
    send(req, resp, r, out, close);

    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    s_.metrics.record(route, r.method, out.status, seconds);
    s_.log.info("request", {{"request_id", r.request_id},
                            {"trace_id", r.traceparent.empty() ? "" : r.traceparent.substr(3, 32)},
                            {"org", r.caller != nullptr ? r.caller->id : ""},
                            {"method", r.method},
                            {"route", route},
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

  Gateway::State& s_;
};

class EdgeFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit EdgeFactory(Gateway::State& s) : s_(s) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new EdgeHandler(s_);
  }

 private:
  Gateway::State& s_;
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

void add_builtin_routes(Gateway::State& s) {
  s.router.add({"GET", "/healthz", {}, [&s](const Request&) {
                  const bool db_ok =
                      s.storage
                          ->read([](adapters::Tx& tx) { return tx.query("SELECT 1").status(); })
                          .is_ok();
                  nlohmann::json j = {{"status", db_ok ? "ok" : "degraded"},
                                      {"version", BRUG_VERSION},
                                      {"storage", db_ok ? "ok" : "unavailable"}};
                  return json_response(db_ok ? 200 : 503, j.dump());
                }});
  s.router.add({"GET", "/metrics", {}, [&s](const Request&) {
                  Response r;
                  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                  const auto refused = s.server ? s.server->refusedConnections() : 0;
                  r.body = s.metrics.render(static_cast<std::uint64_t>(refused));
                  return r;
                }});
}

Result<Poco::Net::Context::Ptr> make_tls_context(const Config& c) {
  for (const std::string* f : {&c.tls_ca_file, &c.tls_cert_file, &c.tls_key_file}) {
    if (!std::filesystem::is_regular_file(*f)) {
      return Status::error(Code::kNotFound, *f + ": TLS file not found (see " + c.file + ")");
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
    return ctx;
  } catch (const Poco::Exception& e) {
    return Status::error(Code::kInvalidArgument, "TLS setup failed: " + e.displayText());
  }
}

}  // namespace

Gateway::Gateway(std::unique_ptr<State> state) : state_(std::move(state)) {}
Gateway::~Gateway() { stop(); }

std::uint16_t Gateway::port() const { return state_->port; }

Result<std::unique_ptr<Gateway>> Gateway::start(const Config& config, std::ostream& log) {
  static std::once_flag ssl_once;
  std::call_once(ssl_once, [] { Poco::Net::initializeSSL(); });

  auto registry = OrgRegistry::load(config.registry_file);
  if (!registry) return registry.status();
  auto state = std::make_unique<State>(config, log, std::move(registry).value());
  auto keys = crypto::KeyDir::load(config.key_dir);
  if (!keys) return keys.status();
  state->keys = std::make_unique<crypto::KeyDir>(std::move(keys).value());
  auto storage = adapters::open_sqlite({.path = config.sqlite_path});
  if (!storage) return storage.status();
  state->storage = std::move(storage).value();
  BRUG_RETURN_IF_ERROR(state->registry.sync_to(*state->storage));
  auto catalogue = Catalogue::load(config.catalogue_file);
  if (!catalogue) return catalogue.status();
  state->catalogue = std::move(catalogue).value();
  auto policies = PolicySet::load(config.policy_dir, *state->catalogue);
  if (!policies) return policies.status();
  state->policies = std::move(policies).value();
  state->consent_store = adapters::make_sql_consent_store(*state->storage);
  state->consents =
      std::make_unique<consent::ConsentRegistry>(*state->consent_store, utc_now_rfc3339);
  add_builtin_routes(*state);
  state->audit_log = std::make_unique<AuditLog>(
      *state->storage, state->keys->signing_key(),
      AuditOptions{config.audit_checkpoint_every_events, config.audit_checkpoint_every_s});
  state->audit = state->audit_log.get();
  {
    AuditEvent loaded;
    loaded.request_id = "system";
    loaded.action = "policy.load";
    loaded.policy_set = state->policies->content_hash();
    loaded.decision = "permit";
    BRUG_RETURN_IF_ERROR(state->audit->append({loaded}));
  }
  ExchangeDeps deps{*state->storage,  *state->keys,    *state->catalogue, *state->policies,
                    *state->consents, state->registry, *state->audit};
  deps.report_delay_days = config.report_delay_days;
  if (config.clock) deps.now = config.clock;
  state->exchange = std::make_unique<Exchange>(std::move(deps));
  state->exchange->add_routes(state->router);
  Exchange* exchange = state->exchange.get();
  add_audit_routes(state->router, {*state->audit_log, state->registry, *state->keys});
  add_consent_routes(state->router, {*state->consents, state->registry, *state->keys, *state->audit,
                                     [exchange](const consent::Consent& c) {
                                       return exchange->on_consent_withdrawn(c);
                                     }});
  // Process-wide in Poco: the last gateway started owns it (one per process in production).
  state->error_handler = std::make_unique<LoggingErrorHandler>(state->log);
  Poco::ErrorHandler::set(state->error_handler.get());

  auto ctx = make_tls_context(config);
  if (!ctx) return ctx.status();
  try {
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress(config.host, config.port), 128,
                                         *ctx);
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
  } catch (const Poco::Exception& e) {
    return Status::error(Code::kUnavailable, "cannot listen on " + config.host + ":" +
                                                 std::to_string(config.port) + ": " +
                                                 e.displayText());
  }
  state->log.info("listening",
                  {{"host", config.host},
                   {"port", std::int64_t{state->port}},
                   {"organisations", static_cast<std::int64_t>(state->registry.all().size())},
                   {"schema_version", std::int64_t{state->storage->schema_version()}},
                   {"policy_set", state->policies->content_hash()},
                   {"version", BRUG_VERSION}});
  return std::unique_ptr<Gateway>(new Gateway(std::move(state)));
}

void Gateway::stop() {
  State& s = *state_;
  std::call_once(s.stopped, [&s] {
    if (!s.server) return;
    // Stop accepting; keep-alive connections end after the request they are serving.
    s.server->stopAll(false);
    const auto deadline = Clock::now() + std::chrono::seconds(s.config.shutdown_grace_s);
    while (s.server->currentThreads() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int unfinished = s.server->currentThreads();
    if (unfinished > 0) s.server->stopAll(true);
    s.pool->joinAll();
    s.log.info("stopped", {{"unfinished_connections", std::int64_t{unfinished}}});
  });
}

}  // namespace brug::gateway
