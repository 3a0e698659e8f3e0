// The exchange: referrals in, consented profiles out through each recipient's feed, outcomes
// back, deletion notices after withdrawal or erasure. Every route takes the one path:
// authenticate (router) -> validate -> policy -> consent -> view -> audit -> respond.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "crypto/result.h"

namespace brug {
class Catalogue;
class PolicySet;
namespace adapters {
class Storage;
}
namespace consent {
class ConsentRegistry;
struct Consent;
}  // namespace consent
namespace crypto {
class KeyDir;
}
}  // namespace brug

namespace brug::gateway {

class AuditSink;
class OrgRegistry;
class Router;

struct ExchangeDeps {
  adapters::Storage& storage;
  const crypto::KeyDir& keys;
  const Catalogue& catalogue;
  const PolicySet& policies;
  consent::ConsentRegistry& consents;
  const OrgRegistry& orgs;
  AuditSink& audit;
  int max_batch = 1000;  // items per push
  // Days after a period's end before its report is published (docs/REPORTS.md).
  int report_delay_days = 30;
  // The clock that stamps outcomes as received and says which periods are published.
  std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
};

class Exchange {
 public:
  explicit Exchange(ExchangeDeps deps);
  ~Exchange();

  // POST /v1/referrals, GET /v1/feed, POST /v1/outcomes, POST /v1/participants/erase.
  void add_routes(Router& router);

  // After a withdrawal has committed: purges what waits for the grantee and puts a deletion
  // notice in its feed. Idempotent.
  Status on_consent_withdrawn(const consent::Consent& consent);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace brug::gateway
