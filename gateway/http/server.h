// The HTTPS edge: Poco's server with mutual TLS in front of one function that answers a request.
// It reads the request (client certificate subject, body up to the limit, query) and hands it on;
// every judgement (who the caller is, whether the body may be that large, which route) belongs to
// the chain in gateway/disclosure/, so that every refusal is audited in one place.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "crypto/result.h"
#include "gateway/http/http.h"

namespace brug::gateway {

class Logger;
class Metrics;

struct ServerOptions {
  std::string config_file;  // named in errors about the TLS files
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: any free port
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  int threads = 16;
  int max_queued = 64;
  int keep_alive_requests = 1000;
  int keep_alive_timeout_s = 5;
  int timeout_s = 10;           // total: a request's body, and its answer
  int handshake_timeout_s = 5;  // total: the TLS handshake
  int head_timeout_s = 5;       // total: a request head, from its first byte
  int max_connections_per_address = 32;
  int max_connections = 1024;
  std::int64_t max_body_bytes = 1 << 20;
  int shutdown_grace_s = 10;
};

class HttpsServer {
 public:
  using Serve = std::function<Response(Request&)>;
  // Sets up TLS and starts listening. `log` and `metrics` must outlive the server.
  static Result<std::unique_ptr<HttpsServer>> start(const ServerOptions& options, Serve serve,
                                                    Logger& log, Metrics& metrics);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  std::uint16_t port() const;
  std::uint64_t refused_connections() const;
  // Stops accepting, lets requests in flight finish for up to the grace, then closes.
  void stop();

  struct State;

 private:
  explicit HttpsServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace brug::gateway
