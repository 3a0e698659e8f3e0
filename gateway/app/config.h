// The gateway's configuration file (JSON), as written by `brug init`. Relative paths in it are
// relative to the file's folder. Unknown keys are errors: a typo must not silently fall back to
// a default.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "crypto/result.h"
#include "gateway/http/client.h"

namespace brug::gateway {

struct Config {
  std::string file;  // where it was loaded from

  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: any free port

  std::string tls_ca_file;    // CA that client certificates must chain to
  std::string tls_cert_file;  // server certificate
  std::string tls_key_file;   // server key

  std::string registry_file;   // organisations
  std::string key_dir;         // gateway keys (crypto)
  std::string sqlite_path;     // embedded database
  std::string policy_dir;      // exchange policies (*.json)
  std::string catalogue_file;  // the field catalogue

  int threads = 16;                // worker threads (also the max concurrent requests)
  int max_queued = 64;             // accepted connections waiting for a thread; more are refused
  int keep_alive_requests = 1000;  // requests per connection (each new one is a handshake)
  int keep_alive_timeout_s = 5;    // idle keep-alive connection lifetime
  int timeout_s = 10;              // socket send/receive timeout (also the TLS handshake)
  std::int64_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  int shutdown_grace_s = 10;              // how long SIGTERM waits for requests in flight

  std::string log_file;  // empty: standard error

  std::uint64_t audit_checkpoint_every_events = 1000;  // sign a checkpoint at least this often
  int audit_checkpoint_every_s = 60;                   // or when the newest is this old
  // Witnesses whose C2SP cosignatures the gateway accepts and serves with its checkpoint.
  struct Witness {
    std::string name, public_key;  // key name, Ed25519 public key (hex)
  };
  std::vector<Witness> audit_witnesses;
  std::string audit_origin;  // the C2SP checkpoint origin; empty: brug.invalid/audit/<key id>
  // Logboek Dataverwerkingen: each purpose code -> the gemeente's processing-activity id in its
  // register of processing activities (dpl.core.processing_activity_id).
  std::map<std::string, std::string> processing_activities;
  int report_delay_days = 30;  // days after a period's end before its report is published
};

// Loads and validates; an error message reads "FILE:LINE: key: what is wrong".
Result<Config> load_config(const std::string& path);

// The identity of organisation `org` in a `brug init` setup: DIR/pki/ORG.pem and .key, the
// config's CA and listen address (0.0.0.0 and 127.0.0.1 are reached as localhost).
ClientIdentity dev_identity(const Config& config, const std::string& org);

}  // namespace brug::gateway
