// POST /v1/consents, POST /v1/consents/{id}/withdraw, POST /v1/consents/search.
// Each answers brug's JSON, or on Accept: application/fhir+json the FHIR R4 Consent (a searchset
// Bundle of them for a search) in the mapping of adapters/formats/fhir_consent.h.
// A consent and its audit event commit together; a withdrawal commits together with the purge
// of what waits for the grantee, its deletion notice and its audit event.
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

struct ConsentRouteDeps {
  adapters::Database& db;
  AuditLog& audit;
  const OrgRegistry& orgs;
  const crypto::KeyDir& keys;
  crypto::Env& env;
};

void add_consent_routes(Pipeline& pipeline, ConsentRouteDeps deps);

}  // namespace brug::gateway
