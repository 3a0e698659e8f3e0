// The exchange: referrals in, consented profiles out through each recipient's feed, outcomes
// back, deletion notices after withdrawal or erasure. Each route is a use case of the chain in
// gateway/disclosure/ (authenticate -> validate -> policy -> consent -> view -> audit).
#pragma once

#include <optional>
#include <string>

#include "crypto/result.h"

namespace brug {
class Catalogue;
class PolicySet;
namespace adapters {
class Database;
class ExchangeStore;
}  // namespace adapters
namespace crypto {
class Env;
class KeyDir;
}  // namespace crypto
}  // namespace brug

namespace brug::gateway {

class AuditLog;
class Logger;
class Metrics;
class OrgRegistry;
class Pipeline;

struct ExchangeDeps {
  adapters::Database& db;
  AuditLog& audit;
  const crypto::KeyDir& keys;
  const Catalogue& catalogue;
  const PolicySet& policies;
  const OrgRegistry& orgs;
  crypto::Env& env;
  Metrics& metrics;  // counts records that do not open
  Logger& log;
  int max_batch = 1000;  // items per push
};

// POST /v1/referrals, GET /v1/feed, POST /v1/outcomes, POST /v1/participants/erase. `deps`
// must outlive the pipeline.
void add_exchange_routes(Pipeline& pipeline, const ExchangeDeps& deps);

// Inside the transaction that withdraws a consent or erases a participant: destroys the
// participant's referrals to `recipient` (for one purpose, or all), takes them out of its feed
// and leaves one deletion notice there, if the recipient was ever sent a referral of them.
// Returns whether a notice is due (the recipient had a referral).
Result<bool> purge_for(adapters::ExchangeStore& store, const std::string& participant,
                       const std::string& recipient, const std::optional<std::string>& purpose,
                       const std::string& now);

}  // namespace brug::gateway
