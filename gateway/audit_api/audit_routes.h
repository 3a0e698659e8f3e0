// The auditor's API (role auditor): checkpoint, entries, inclusion and consistency proofs,
// event search; and the subject report a gemeente needs for an access request (AVG art. 15).
#pragma once

namespace brug::crypto {
class KeyDir;
}

namespace brug::gateway {

class AuditLog;
class OrgRegistry;
class Pipeline;

struct AuditRouteDeps {
  AuditLog& log;
  const OrgRegistry& orgs;
  const crypto::KeyDir& keys;
};

void add_audit_routes(Pipeline& pipeline, AuditRouteDeps deps);

}  // namespace brug::gateway
