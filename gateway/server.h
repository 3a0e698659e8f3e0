// The gateway process: HTTPS with mutual TLS in front of the router, storage and registry.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>

#include "crypto/result.h"
#include "gateway/config.h"

namespace brug::gateway {

class Gateway {
 public:
  // Loads the registry, opens storage (applying migrations), sets up TLS and starts listening.
  // `log` receives the JSON log lines; it must outlive the gateway.
  static Result<std::unique_ptr<Gateway>> start(const Config& config, std::ostream& log);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The port actually bound (useful when the config asked for port 0).
  std::uint16_t port() const;
  // Stops accepting, lets requests in flight finish for up to the configured grace, then
  // closes. Idempotent; the destructor calls it.
  void stop();

  struct State;

 private:
  explicit Gateway(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace brug::gateway
