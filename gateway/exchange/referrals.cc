// POST /v1/referrals: a gemeente or participatiebedrijf refers participants to a recipient.
// One transaction stores the batch's accepted referrals together with one audit event per item.
#include <algorithm>
#include <map>
#include <set>

#include "adapters/stores.h"
#include "crypto/env.h"
#include "crypto/hash.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/audit/audit_log.h"
#include "gateway/disclosure/flow.h"
#include "gateway/disclosure/subject.h"
#include "gateway/exchange/use_cases.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"
#include "policies/catalogue.h"

namespace brug::gateway {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// A printable source reference of 1-128 characters.
bool valid_source_ref(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

struct ReferralItem {
  std::string source_ref;
  const Organisation* to = nullptr;
  Purpose purpose = Purpose::kBegeleidingNaarWerk;
  std::string participant, bsn;
  json record;
  std::vector<std::string> fields;
  PlannedFlow plan;
  std::string content_hash;
  std::optional<Problem> problem;
};

ReferralItem parse_referral(const ExchangeDeps& d, const json& item, const Organisation& caller) {
  ReferralItem it;
  if (!item.is_object()) {
    it.problem = validation_problem("item", "must be an object");
    return it;
  }
  FieldReader r(item);
  r.only({"source_ref", "to", "purpose", "subject", "record"});
  it.source_ref = r.text("source_ref", true, 128);
  const std::string to = r.text("to", true, 64);
  const std::string purpose = r.text("purpose", true, 64);
  const json* subject = r.object("subject");
  const json* record = r.object("record");
  if (r.problem()) {
    it.problem = r.problem();
    return it;
  }
  if (!valid_source_ref(it.source_ref)) {
    it.problem = validation_problem("source_ref", "must be 1-128 printable characters");
    return it;
  }
  it.to = d.orgs.find(to);
  if (it.to == nullptr || it.to->id == caller.id) {
    it.problem = validation_problem("to", "is not a registered recipient");
    return it;
  }
  const auto p = parse_purpose(purpose);
  if (!p) {
    it.problem = validation_problem("purpose", "unknown purpose");
    return it;
  }
  it.purpose = *p;
  const ResolvedSubject who = resolve_subject(*subject, caller, d.keys);
  if (who.problem) {
    it.problem = who.problem;
    return it;
  }
  it.participant = who.participant;
  it.bsn = subject->at("bsn").get<std::string>();
  const auto errors = d.catalogue.validate(RecordType::kReferral, *record);
  if (!errors.empty()) {
    it.problem = validation_problem("record." + errors.front().field, errors.front().problem);
    return it;
  }
  const Flow flow{party_of(caller), party_of(*it.to), RecordType::kReferral, it.purpose};
  auto plan = plan_flow(d.policies, flow);
  if (!plan) {
    it.problem = no_policy_problem(flow);
    return it;
  }
  it.plan = *plan;
  it.record = *record;
  for (const auto& [k, v] : record->items()) it.fields.push_back(k);
  // What idempotency compares: the same source_ref must mean the same referral.
  const std::string canonical = it.to->id + '\0' + std::string(to_string(it.purpose)) + '\0' +
                                it.participant + '\0' + it.record.dump();
  it.content_hash = crypto::to_hex(crypto::sha256(canonical));
  return it;
}

// A new data key for the participant, with the row that stores it wrapped and the BSN sealed.
struct NewParticipant {
  crypto::DataKey key;
  adapters::ParticipantRow row;
};

Result<NewParticipant> new_participant(const ExchangeDeps& d, const ReferralItem& it) {
  auto index = crypto::ParticipantIndex::from_hex(it.participant);
  if (!index) return index.status();
  auto key = crypto::DataKey::generate();
  if (!key) return key.status();
  auto wrapped = crypto::wrap_data_key(d.keys.keks(), *index, *key);
  if (!wrapped) return wrapped.status();
  auto sealed_bsn = crypto::seal_record(*key, {it.participant, *index, "bsn"}, bytes_of(it.bsn));
  if (!sealed_bsn) return sealed_bsn.status();
  adapters::ParticipantRow row{it.participant,
                               adapters::Blob(wrapped->bytes().begin(), wrapped->bytes().end()),
                               std::move(sealed_bsn).value()};
  return NewParticipant{std::move(key).value(), std::move(row)};
}

// The referral's record sealed under the participant's key, bound to its id and addressing.
Result<adapters::Blob> seal_referral(const crypto::DataKey& key, const std::string& id,
                                     const std::string& sender, const ReferralItem& it) {
  auto index = crypto::ParticipantIndex::from_hex(it.participant);
  if (!index) return index.status();
  const std::string purpose(to_string(it.purpose));
  return crypto::seal_record(key, {id, *index, "referral", sender, it.to->id, purpose},
                             bytes_of(it.record.dump()));
}

// The participant's data key, creating the participant (and sealing the BSN) when new or
// erased before.
Result<const crypto::DataKey*> participant_key(const ExchangeDeps& d, adapters::ExchangeStore& s,
                                               KeyCache& keys, const ReferralItem& it,
                                               const std::string& now) {
  auto existing = keys.get(s, it.participant);
  if (!existing) return existing.status();
  if (*existing != nullptr) return *existing;
  auto made = new_participant(d, it);
  if (!made) return made.status();
  BRUG_RETURN_IF_ERROR(s.put_participant(made->row, now));
  keys.put(it.participant, std::move(made->key));
  return keys.get(s, it.participant);
}

// An item refused: its event says deny, for the problem's stable reason.
void deny(AuditEvent& event, const Problem& problem) {
  event.decision = "deny";
  event.reason = problem.slug;
}

Problem idempotency_conflict() {
  return {409, "idempotency-conflict", "Idempotency conflict",
          "source_ref: this sender already used it for another referral."};
}

}  // namespace

std::optional<Problem> batch_problem(const ExchangeDeps& d, const json& body) {
  FieldReader r(body);
  r.only({"items"});
  if (r.problem()) return r.problem();
  const auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty()) {
    return validation_problem("items", "must be a non-empty array");
  }
  if (items->size() > static_cast<std::size_t>(d.max_batch)) {
    return Problem{413, "batch-too-large", "Batch too large",
                   "A push may hold at most " + std::to_string(d.max_batch) + " items."};
  }
  return std::nullopt;
}

namespace {

// What a push prepares outside the write transaction for one participant: the data key its
// referrals are sealed with, and the row to store when the participant is new (or was erased).
// `seen` is the wrapped key the read snapshot held (empty: no participant or an erased one); the
// write transaction uses the preparation only if the row still holds exactly that.
struct PreparedParticipant {
  std::optional<adapters::Blob> seen;
  std::optional<crypto::DataKey> key;
  std::optional<adapters::ParticipantRow> new_row;
};

// A referral sealed ahead of the transaction.
struct PreparedReferral {
  std::string id;
  adapters::Blob sealed;
};

// The earlier referrals of this sender under the batch's source_refs and the rows of its
// participants, from one read snapshot.
struct Snapshot {
  std::map<std::string, adapters::StoredReferral> by_source;
  std::map<std::string, adapters::ParticipantRow> people;
};

// Names of what a push changes, for AuditLog::unchanged_since (a sender id holds no NUL).
std::string participant_name(const std::string& participant) {
  return std::string("participant\0", 12) + participant;
}
std::string referral_name(const std::string& sender, const std::string& source_ref) {
  return std::string("referral\0", 9) + sender + '\0' + source_ref;
}

Result<Snapshot> look_up(adapters::ExchangeStore& s, const std::string& sender,
                         const std::vector<std::string>& refs,
                         const std::vector<std::string>& people) {
  Snapshot out;
  auto found = s.referrals_by_source(sender, refs);
  if (!found) return found.status();
  for (auto& [ref, r] : *found) out.by_source.emplace(ref, std::move(r));
  auto rows = s.participants(people);
  if (!rows) return rows.status();
  for (auto& r : *rows) out.people.emplace(r.participant, std::move(r));
  return out;
}

}  // namespace

Answer push_referrals(const ExchangeDeps& d, Call& call) {
  if (auto refused = batch_problem(d, call.body)) return Answer::refuse(*refused);
  const Organisation& caller = call.caller;
  std::vector<ReferralItem> parsed;
  parsed.reserve(call.body["items"].size());
  for (const auto& item : call.body["items"]) parsed.push_back(parse_referral(d, item, caller));
  std::vector<std::string> refs, people;
  for (const ReferralItem& it : parsed) {
    if (it.problem) continue;
    refs.push_back(it.source_ref);
    people.push_back(it.participant);
  }
  std::sort(people.begin(), people.end());
  people.erase(std::unique(people.begin(), people.end()), people.end());

  // 1. What the database holds now, read without the write lock, with the log's size then.
  Snapshot before;
  std::uint64_t logged_before = 0;
  if (!refs.empty()) {
    Status read = d.db.read([&](adapters::Stores& s) {
      auto size = s.audit.size();
      if (!size) return size.status();
      logged_before = *size;
      auto got = look_up(s.exchange, caller.id, refs, people);
      if (!got) return got.status();
      before = std::move(got).value();
      return Status::ok();
    });
    if (!read.is_ok()) return Answer::fail(read);
  }
  // What the write below may change: these participants and this sender's source_refs.
  const Changes changes = [&] {
    std::vector<std::string> names;
    names.reserve(people.size() + refs.size());
    for (const std::string& p : people) names.push_back(participant_name(p));
    for (const std::string& r : refs) names.push_back(referral_name(caller.id, r));
    return Changes::of(names);
  }();

  // 2. The cryptography, also outside the lock: data keys (new participants get one, wrapped,
  // with their sealed BSN), record ids and sealed records.
  std::map<std::string, PreparedParticipant> keys_of;
  std::vector<std::optional<PreparedReferral>> prepared(parsed.size());
  {
    KeyCache unwrapped(d.keys);
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      const ReferralItem& it = parsed[i];
      if (it.problem || before.by_source.count(it.source_ref) > 0) continue;
      auto [pos, fresh] = keys_of.try_emplace(it.participant);
      PreparedParticipant& who = pos->second;
      if (fresh) {
        const auto row = before.people.find(it.participant);
        if (row != before.people.end() && row->second.wrapped_key) {
          who.seen = row->second.wrapped_key;
          auto key = unwrapped.from_row(row->second);
          if (!key) return Answer::fail(key.status());
          if (*key == nullptr) return Answer::fail();
          auto copy = (*key)->clone();
          if (!copy) return Answer::fail(copy.status());
          who.key = std::move(copy).value();
        } else {
          auto made = new_participant(d, it);
          if (!made) return Answer::fail(made.status());
          who.key = std::move(made->key);
          who.new_row = std::move(made->row);
        }
      }
      if (!who.key) return Answer::fail();
      PreparedReferral r{new_record_id(d.env, "ref_"), {}};
      auto sealed = seal_referral(*who.key, r.id, caller.id, it);
      if (!sealed) return Answer::fail(sealed.status());
      r.sealed = std::move(sealed).value();
      prepared[i] = std::move(r);
    }
  }

  // 3. Each item's audit event as far as it does not depend on what the transaction finds, also
  // made outside the lock.
  // One time for all of the batch's events, taken before the write lock.
  const std::string before_lock = d.env.now_rfc3339();
  std::vector<AuditEvent> base(parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const ReferralItem& it = parsed[i];
    AuditEvent& e = base[i];
    e = call.event();
    e.time = before_lock;
    e.record_type = "referral";
    if (!it.participant.empty()) e.subject = audit_subject(d.keys, it.participant);
    if (it.to != nullptr) e.recipient = it.to->id;
    if (it.problem) {
      deny(e, *it.problem);
    } else {
      e.purpose = std::string(to_string(it.purpose));
      e.basis = it.plan.basis();
      e.policy_ids = it.plan.policy_ids;
    }
  }
  // The event of an item that is stored (nearly every item), its leaf made here too: under the
  // lock the log only fills in the leaf's place in the tree.
  std::vector<AuditEvent> accepted(parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].problem) continue;
    accepted[i] = base[i];
    accepted[i].decision = "permit";
    accepted[i].fields = parsed[i].fields;
    prepare_leaf(accepted[i], before_lock);
  }

  // 4. One write transaction: check that nothing changed since the snapshot, store the batch
  // and its audit events. What did change (another push of the same source_ref, a participant
  // created or erased meanwhile) is done here as it would have been without the preparation.
  // What each item came to; the answer is written from it after the commit.
  struct Outcome {
    const char* status = nullptr;  // accepted, duplicate or rejected
    std::string id;
    std::optional<Problem> problem;
  };
  std::vector<Outcome> outcome(parsed.size());
  auto write = [&](adapters::Stores& s, std::vector<AuditEvent>& events) -> Status {
    // The snapshot still holds when no write since can have changed these rows; else read
    // again.
    Snapshot read_again;
    const Snapshot* current = &before;
    if (!refs.empty()) {
      auto same = d.audit.unchanged_since(s.audit, logged_before, changes);
      if (!same) return same.status();
      if (!*same) {
        auto got = look_up(s.exchange, caller.id, refs, people);
        if (!got) return got.status();
        read_again = std::move(got).value();
        current = &read_again;
      }
    }
    const Snapshot& now_held = *current;
    KeyCache keys(d.keys);
    const std::string now = d.env.now_rfc3339();
    std::map<std::string, adapters::StoredReferral> in_batch;
    std::set<std::string> created, stale;
    for (const auto& [participant, who] : keys_of) {
      const auto row = now_held.people.find(participant);
      const std::optional<adapters::Blob> held =
          row == now_held.people.end() ? std::nullopt : row->second.wrapped_key;
      if (held != who.seen) stale.insert(participant);
    }
    std::vector<adapters::ParticipantRow> new_people;
    std::vector<adapters::NewReferral> new_referrals;
    events.reserve(parsed.size());
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      const ReferralItem& it = parsed[i];
      Outcome& out = outcome[i];
      out = {"rejected", {}, it.problem};
      AuditEvent& e = events.emplace_back(base[i]);
      if (it.problem) continue;
      const adapters::StoredReferral* old = nullptr;
      if (auto f = now_held.by_source.find(it.source_ref); f != now_held.by_source.end()) {
        old = &f->second;
      } else if (auto b = in_batch.find(it.source_ref); b != in_batch.end()) {
        old = &b->second;
      }
      if (old != nullptr) {
        const bool same = old->content_hash.empty()
                              ? old->recipient == it.to->id && old->participant == it.participant &&
                                    old->purpose == e.purpose
                              : old->content_hash == it.content_hash;
        if (same) {
          out = {"duplicate", old->id, std::nullopt};
          e.decision = "permit";
          e.reason = "duplicate";
        } else {
          out.problem = idempotency_conflict();
          deny(e, *out.problem);
        }
        continue;
      }
      adapters::NewReferral r{
          {}, caller.id, it.source_ref, it.participant, it.to->id, e.purpose, {}, it.content_hash,
          now};
      if (prepared[i] && stale.count(it.participant) == 0) {
        const PreparedParticipant& who = keys_of.at(it.participant);
        if (who.new_row && created.insert(it.participant).second) {
          new_people.push_back(*who.new_row);
        }
        r.id = prepared[i]->id;
        r.sealed = prepared[i]->sealed;
      } else {
        // Changed since the snapshot: the key as the database holds it now.
        BRUG_RETURN_IF_ERROR(s.exchange.put_participants(new_people, now));
        new_people.clear();
        BRUG_RETURN_IF_ERROR(s.exchange.add_referrals(new_referrals));
        new_referrals.clear();
        auto key = participant_key(d, s.exchange, keys, it, now);
        if (!key) return key.status();
        r.id = new_record_id(d.env, "ref_");
        auto sealed = seal_referral(**key, r.id, caller.id, it);
        if (!sealed) return sealed.status();
        r.sealed = std::move(sealed).value();
      }
      in_batch[it.source_ref] = {r.id, r.recipient, r.purpose, r.participant, r.content_hash};
      out = {"accepted", r.id, std::nullopt};
      e = accepted[i];
      new_referrals.push_back(std::move(r));
    }
    BRUG_RETURN_IF_ERROR(s.exchange.put_participants(new_people, now));
    return s.exchange.add_referrals(new_referrals);
  };
  Status stored = d.audit.record(write, changes);
  if (!stored.is_ok()) return Answer::fail(stored);
  ordered_json results = ordered_json::array();
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const Outcome& out = outcome[i];
    ordered_json res = {{"source_ref", parsed[i].source_ref}, {"status", out.status}};
    if (out.problem) {
      res["problem"] = problem_json(*out.problem);
    } else {
      res["id"] = out.id;
    }
    results.push_back(std::move(res));
  }
  return batch_answer(stored, std::move(results));
}

void reject_item(nlohmann::ordered_json& result, AuditEvent& event, const Problem& problem) {
  result["status"] = "rejected";
  result["problem"] = problem_json(problem);
  deny(event, problem);
}

Answer batch_answer(const Status& stored, nlohmann::ordered_json results) {
  if (!stored.is_ok()) return Answer::fail(stored);
  return Answer::committed(
      json_response(200, nlohmann::ordered_json{{"results", std::move(results)}}.dump()));
}

}  // namespace brug::gateway
