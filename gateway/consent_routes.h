// POST /v1/consents, POST /v1/consents/{id}/withdraw, POST /v1/consents/search.
#pragma once

#include <functional>

#include "crypto/result.h"

namespace brug::crypto {
class KeyDir;
}
namespace brug::consent {
class ConsentRegistry;
struct Consent;
}  // namespace brug::consent

namespace brug::gateway {

class AuditSink;
class OrgRegistry;
class Router;

struct ConsentRouteDeps {
  consent::ConsentRegistry& consents;
  const OrgRegistry& orgs;
  const crypto::KeyDir& keys;
  AuditSink& audit;
  // Runs after a withdrawal committed (the exchange purges and sends deletion notices).
  std::function<Status(const consent::Consent&)> on_withdrawn;
};

void add_consent_routes(Router& router, ConsentRouteDeps deps);

}  // namespace brug::gateway
