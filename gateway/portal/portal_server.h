// `brug portal`: one organisation's local web app. It holds the organisation's client
// certificate, speaks the gateway's HTTPS API, keeps a local copy (LocalStore) pulled in the
// background, and serves the web files compiled into the binary on 127.0.0.1 (another address
// only when configured). Entry is by a one-time token in the URL; it becomes a session cookie,
// and every state-changing request must also carry the session's CSRF token in a header.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "crypto/result.h"
#include "gateway/portal/portal_config.h"

namespace brug::portal {

class Portal {
 public:
  // Opens the local copy, loads the catalogue and starts serving; `log` gets one line per
  // request (method, route, status; never a body, query or personal data).
  static Result<std::unique_ptr<Portal>> start(const PortalConfig& config, std::ostream& log);
  ~Portal();
  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  std::uint16_t port() const;
  // http://HOST:PORT/login?token=...: valid once; print it for the user, never log it.
  std::string login_url() const;
  // Pulls the feed now (what the background thread does every sync_every_s).
  Status sync_now();
  void stop();

  struct Impl;

 private:
  explicit Portal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace brug::portal
