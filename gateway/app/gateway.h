// The composition root: builds the gateway from its configuration (key directory, database,
// registry, catalogue, policies, audit log, the chain and its routes) and serves it over HTTPS.
// Only `brug serve` (gateway/cli/serve.cc), the tests, benchmarks and fuzz targets reach it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "crypto/result.h"
#include "gateway/app/config.h"

namespace brug::adapters {
class Database;
}
namespace brug::crypto {
class Env;
}

namespace brug::gateway {

struct Request;
struct Response;

// What a test may swap for a fault it cannot cause otherwise (LevelDB's Env is the model).
struct Seams {
  crypto::Env* env = nullptr;  // null: the real clock and random source
  // Wraps the opened database (e.g. adapters/testing's FaultyDatabase); null: used as it is.
  std::function<std::unique_ptr<adapters::Database>(std::unique_ptr<adapters::Database>)>
      wrap_database;
};

class Gateway {
 public:
  // Loads the registry, opens storage (applying migrations), sets up TLS and starts listening.
  // `log` receives the JSON log lines; it must outlive the gateway.
  static Result<std::unique_ptr<Gateway>> start(const Config& config, std::ostream& log,
                                                Seams seams = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The port actually bound (useful when the config asked for port 0).
  std::uint16_t port() const;
  // One request through the chain the server runs, without the transport: the fuzz targets
  // (tests/fuzz) build the Request as gateway/http/server.cc does and call this.
  Response serve(Request& request) const;
  // "METHOD PATTERN" of every route the chain serves (for the OpenAPI document's test).
  std::vector<std::string> routes() const;
  // Stops accepting, lets requests in flight finish for up to the configured grace, then
  // closes. Idempotent; the destructor calls it.
  void stop();

  struct State;

 private:
  explicit Gateway(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace brug::gateway
