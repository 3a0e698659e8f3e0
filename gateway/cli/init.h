// `brug init DIR [--postgresql URL]`: a complete local development setup in one folder.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "crypto/result.h"

namespace brug::gateway {

struct InitOptions {
  std::string dir;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
  // Where the shipped catalogue.json and default/ policies are; copied into DIR/policies.
  std::string shipped_policies;  // empty: the source tree's policies/
  // Non-empty: brug.json stores into this PostgreSQL database (storage.postgresql) instead of
  // DIR/brug.db. A URL without a password (checked by the caller).
  std::string postgresql_url;
};

// Writes DIR/pki (CA, server and one client certificate per demo organisation), DIR/keys (the
// gateway key directory), DIR/organisations.json and DIR/brug.json. Refuses a folder that
// already holds a setup. Private keys are 0600, their folders 0700.
Status init_dev_setup(const InitOptions& options, std::ostream& out);

}  // namespace brug::gateway
