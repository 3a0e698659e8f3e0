// The auditor's API (role auditor): checkpoint, entries, inclusion and consistency proofs,
// event search; and the subject report a gemeente or the FG needs for an access request (AVG
// art. 15). A look-up by BSN (the report, a search by subject) is audited.
#pragma once

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
};

void add_audit_routes(Pipeline& pipeline, AuditRouteDeps deps);

}  // namespace brug::gateway
