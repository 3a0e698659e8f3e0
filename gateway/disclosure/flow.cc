#include "gateway/disclosure/flow.h"

#include <cstring>

#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {

Party party_of(const Organisation& o) { return Party{o.role, o.id}; }

std::optional<PlannedFlow> plan_flow(const PolicySet& policies, const Flow& flow) {
  const FlowPlan plan = policies.plan_for(flow);
  if (plan.refusal) return std::nullopt;
  PlannedFlow out;
  out.policy_ids = plan.policies;
  // Public-task flows disclose without consent; a flow needs consent when every field does.
  for (const auto& f : plan.fields) {
    if (!f.needs_consent) out.needs_consent = false;
  }
  return out;
}

Problem no_policy_problem(const Flow& flow) {
  return {403, "no-policy", "No policy", "No policy permits " + flow.to_string() + "."};
}

std::string audit_subject(const crypto::KeyDir& keys, const std::string& participant) {
  auto index = crypto::ParticipantIndex::from_hex(participant);
  if (!index) return {};
  return crypto::audit_pseudonym(keys.audit_pseudonym_key(), *index).text();
}

namespace {
constexpr char kIdDigits[] = "234567abcdefghijklmnopqrstuvwxyz";
}

std::chrono::system_clock::time_point record_time(std::string_view id, std::size_t prefix) {
  std::uint64_t ms = 0;
  if (id.size() < prefix + 9) return {};
  for (char c : id.substr(prefix, 9)) {
    const char* at = c == '\0' ? nullptr : std::strchr(kIdDigits, c);
    if (at == nullptr) return {};
    ms = (ms << 5) | static_cast<std::uint64_t>(at - kIdDigits);
  }
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

std::string new_record_id(crypto::Env& env, std::string_view prefix) {
  static constexpr const char* kDigits = kIdDigits;
  std::uint64_t ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(env.now().time_since_epoch()).count());
  std::string id(prefix);
  id.resize(prefix.size() + 9 + 17);
  for (std::size_t i = prefix.size() + 9; i-- > prefix.size(); ms >>= 5) id[i] = kDigits[ms & 31];
  std::uint8_t bytes[17];
  env.random_bytes(bytes);  // 256 is a multiple of 32, so no bias
  for (std::size_t i = 0; i < sizeof bytes; ++i) id[prefix.size() + 9 + i] = kDigits[bytes[i] & 31];
  return id;
}

std::chrono::year_month_day today(crypto::Env& env) {
  return std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(env.now()));
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Result<const crypto::DataKey*> KeyCache::get(adapters::ExchangeStore& store,
                                             const std::string& participant) {
  auto it = cache_.find(participant);
  if (it != cache_.end()) return it->second ? &*it->second : nullptr;
  auto row = store.participant(participant);
  if (!row) return row.status();
  if (!*row) {
    cache_.emplace(participant, std::nullopt);
    return static_cast<const crypto::DataKey*>(nullptr);
  }
  return from_row(**row);
}

Result<const crypto::DataKey*> KeyCache::from_row(const adapters::ParticipantRow& row) {
  auto it = cache_.find(row.participant);
  if (it != cache_.end()) return it->second ? &*it->second : nullptr;
  if (!row.wrapped_key) {
    cache_.emplace(row.participant, std::nullopt);
    return static_cast<const crypto::DataKey*>(nullptr);
  }
  auto index = crypto::ParticipantIndex::from_hex(row.participant);
  if (!index) return index.status();
  auto wrapped = crypto::WrappedDataKey::from_bytes(*row.wrapped_key);
  if (!wrapped) return wrapped.status();
  auto key = crypto::unwrap_data_key(keys_.keks(), *index, *wrapped);
  if (!key) return key.status();
  auto [pos, _] = cache_.emplace(row.participant, std::move(key).value());
  return &*pos->second;
}

void KeyCache::put(const std::string& participant, crypto::DataKey key) {
  cache_.insert_or_assign(participant, std::move(key));
}

Result<nlohmann::json> open_json(const crypto::DataKey& key, const std::string& id,
                                 const std::string& participant, const std::string& type,
                                 const Addressing& a, const adapters::Blob& sealed) {
  auto index = crypto::ParticipantIndex::from_hex(participant);
  if (!index) return index.status();
  auto plain =
      crypto::open_record(key, {id, *index, type, a.sender, a.recipient, a.purpose}, sealed);
  if (!plain) return plain.status();
  nlohmann::json record = nlohmann::json::parse(plain->begin(), plain->end(), nullptr, false);
  if (record.is_discarded()) return Status::error(Code::kCorrupt, "stored record " + id);
  return record;
}

nlohmann::ordered_json problem_json(const Problem& p) {
  return {{"type", "urn:brug:problem:" + p.slug},
          {"title", p.title},
          {"status", p.status},
          {"detail", p.detail}};
}

}  // namespace brug::gateway
