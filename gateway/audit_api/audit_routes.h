// The auditor's API (role auditor): checkpoint, entries, inclusion and consistency proofs,
// event search, the Logboek Dataverwerkingen read API (POST /v1/processing-activities); the same
// log in the C2SP formats (a tlog-checkpoint signed note, tlog-tiles); and the subject report a
// gemeente or the FG needs for an access request (AVG art. 15). A look-up by BSN (the report, a
// search by subject) is audited.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace brug::adapters {
class Database;
}
namespace brug::crypto {
class Env;
class KeyDir;
}  // namespace brug::crypto

namespace brug::gateway {

class AuditLog;
class OrgRegistry;
class Pipeline;

struct AuditRouteDeps {
  AuditLog& log;
  const OrgRegistry& orgs;
  const crypto::KeyDir& keys;
  adapters::Database& db;  // the consents of the access report
  crypto::Env& env;
  std::string origin;  // the checkpoint note's origin line and the log's key name
  // The witnesses whose cosignatures are accepted: key name and Ed25519 public key (hex).
  std::vector<std::pair<std::string, std::string>> witnesses;
  // Purpose code -> processing-activity id (config logboek.processing_activities).
  std::map<std::string, std::string> activities = {};
};

// The origin a configuration without `audit.origin` gets: "brug.invalid/audit/" + the signing
// key id, unique per gateway key.
std::string default_audit_origin(const crypto::KeyDir& keys);

void add_audit_routes(Pipeline& pipeline, AuditRouteDeps deps);

}  // namespace brug::gateway
