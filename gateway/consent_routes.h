// POST /v1/consents, POST /v1/consents/{id}/withdraw, POST /v1/consents/search.
#pragma once

namespace brug::crypto {
class KeyDir;
}
namespace brug::consent {
class ConsentRegistry;
}

namespace brug::gateway {

class OrgRegistry;
class Router;

struct ConsentRouteDeps {
  consent::ConsentRegistry& consents;
  const OrgRegistry& orgs;
  const crypto::KeyDir& keys;
};

void add_consent_routes(Router& router, ConsentRouteDeps deps);

}  // namespace brug::gateway
