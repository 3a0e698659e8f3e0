// The gateway's configuration file (JSON), as written by `brug init`. Relative paths in it are
// relative to the file's folder. Unknown keys are errors: a typo must not silently fall back to
// a default.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/stores.h"

#include "crypto/keydir.h"
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

  std::string registry_file;  // organisations
  std::string key_dir;        // gateway keys (crypto)
  // The database: exactly one of the two. sqlite_path: the embedded file (one gateway).
  // postgresql_url: postgresql://USER@HOST:PORT/DB[?sslmode=...] (several gateways may share
  // it); never with a password: libpq reads PGPASSWORD, ~/.pgpass or the URL's passfile.
  std::string sqlite_path;
  std::string postgresql_url;
  int storage_max_connections = 8;  // the pool of database connections
  std::string policy_dir;           // exchange policies (*.json)
  std::string catalogue_file;       // the field catalogue

  int threads = 16;                // worker threads (also the max concurrent requests)
  int max_queued = 64;             // complete requests waiting for a worker; more get 503
  int keep_alive_requests = 1000;  // requests per connection (each new one is a handshake)
  int keep_alive_timeout_s = 5;    // idle keep-alive connection lifetime
  int timeout_s = 10;              // total time to receive a request's body and to send its answer
  int handshake_timeout_s = 5;     // total time for a TLS handshake, however its bytes trickle
  int head_timeout_s = 5;          // total time for a request head, from its first byte
  int max_connections_per_address = 32;   // open connections from one client address
  int max_connections = 1024;             // open connections in all
  std::int64_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  int shutdown_grace_s = 10;              // how long SIGTERM waits for requests in flight

  std::string log_file;  // empty: standard error

  // A client certificate without a subject serialNumber (OIN) may be mapped by its CN: only for
  // the development PKI of `brug init`. With a serialNumber, the OIN alone decides.
  bool identity_cn_fallback = false;
  // The organisations (operators) that may read /metrics; nobody when empty.
  std::vector<std::string> metrics_organisations;

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

// Opens the configured database (SQLite or PostgreSQL) and applies its pending migrations.
Result<std::unique_ptr<adapters::Database>> open_database(const Config& config);

// How many wrapped data keys in `db` name each KEK version (one read transaction).
Result<std::map<std::uint32_t, std::int64_t>> kek_versions_in_use(adapters::Database& db);
// Whether `keks` (loaded from `key_dir`) holds every KEK version a wrapped data key in `db`
// names; kFailedPrecondition naming the missing kek.<N> file otherwise (a key directory older
// than the database: restored from the wrong backup, or not yet copied after a rotation).
// Reads every participant once (a gateway's start, brug keys rotate).
Status check_kek_versions(adapters::Database& db, const crypto::KekRing& keks,
                          const std::string& key_dir);

// The identity of organisation `org` in a `brug init` setup: DIR/pki/ORG.pem and .key, the
// config's CA and listen address (0.0.0.0 and 127.0.0.1 are reached as localhost).
ClientIdentity dev_identity(const Config& config, const std::string& org);

}  // namespace brug::gateway
