// The policy, consent and view steps of the chain, as the use cases call them, and what the
// exchange and the reports share about sealed records.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/stores.h"
#include "crypto/envelope.h"
#include "crypto/result.h"
#include "gateway/disclosure/pipeline.h"
#include "policies/policy_set.h"

namespace brug::crypto {
class Env;
class KeyDir;
}  // namespace brug::crypto

namespace brug::gateway {

struct Organisation;

Party party_of(const Organisation& org);

// The policy step for one flow: the policies that permit it and the basis they rest on, or the
// refusal (no-policy). Fills the call's audit context either way.
struct PlannedFlow {
  std::vector<std::string> policy_ids;
  bool needs_consent = true;  // false: the flow rests on a public task
  std::string basis() const { return needs_consent ? "consent" : "public-task"; }
};
std::optional<PlannedFlow> plan_flow(const PolicySet& policies, const Flow& flow);
Problem no_policy_problem(const Flow& flow);

// The participant's pseudonym in the audit log's own domain.
std::string audit_subject(const crypto::KeyDir& keys, const std::string& participant);

// A new record id: the prefix, 9 base32 digits of the millisecond clock, then 17 random ones
// (85 bits). Ids sort by creation time, so the unique indexes on them grow at their end.
std::string new_record_id(crypto::Env& env, std::string_view prefix);

// When a record with an id from new_record_id() was made (its millisecond digits); the epoch if
// the id has another shape. Reports use it as the time an outcome was received.
std::chrono::system_clock::time_point record_time(std::string_view id, std::size_t prefix);

std::chrono::year_month_day today(crypto::Env& env);

std::span<const std::uint8_t> bytes_of(const std::string& s);

// The data keys of the participants one request touches, unwrapped once each.
class KeyCache {
 public:
  explicit KeyCache(const crypto::KeyDir& keys) : keys_(keys) {}
  // The participant's key; nullptr when the participant is unknown or erased.
  Result<const crypto::DataKey*> get(adapters::ExchangeStore& store,
                                     const std::string& participant);
  // The same from a row the caller already read (no key: erased).
  Result<const crypto::DataKey*> from_row(const adapters::ParticipantRow& row);
  void put(const std::string& participant, crypto::DataKey key);

 private:
  const crypto::KeyDir& keys_;
  std::map<std::string, std::optional<crypto::DataKey>> cache_;
};

// Who sent a stored record, for whom and why: what its seal binds besides its identity.
// Referrals: the source, the recipient, the purpose. Outcomes: the project only (who may read
// an outcome follows from the referrals of the participant to that project).
struct Addressing {
  std::string_view sender, recipient, purpose;
};

// Opens a sealed JSON record (`type`: referral, outcome) of a participant.
Result<nlohmann::json> open_json(const crypto::DataKey& key, const std::string& id,
                                 const std::string& participant, const std::string& type,
                                 const Addressing& addressing, const adapters::Blob& sealed);

// {"type": ..., "title": ..., "status": ..., "detail": ...} for per-item results of a batch.
nlohmann::ordered_json problem_json(const Problem& p);

}  // namespace brug::gateway
