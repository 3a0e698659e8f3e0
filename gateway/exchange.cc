#include "gateway/exchange.h"

#include <sodium.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "adapters/storage.h"
#include "consent/date.h"
#include "consent/registry.h"
#include "crypto/bsn.h"
#include "crypto/envelope.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/audit.h"
#include "gateway/http.h"
#include "gateway/json_body.h"
#include "gateway/json_writer.h"
#include "gateway/log.h"
#include "gateway/registry.h"
#include "gateway/subject.h"
#include "policies/catalogue.h"
#include "policies/cell_key.h"
#include "policies/policy_set.h"
#include "policies/publication.h"

namespace brug::gateway {

using adapters::Row;
using adapters::SqlValue;
using adapters::Tx;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr std::int64_t kDefaultFeedLimit = 100;
constexpr std::int64_t kMaxFeedLimit = 1000;

// A new record id: the prefix, 9 base32 digits of the millisecond clock, then 17 random ones
// (85 bits). Ids sort by creation time, so the unique indexes on them grow at their end instead
// of taking every insert at a random page (which at 10^6 records costs a page read and write
// each); the random part keeps them unguessable. The digits are in ASCII order.
constexpr char kIdDigits[] = "234567abcdefghijklmnopqrstuvwxyz";

std::string new_id(std::string_view prefix,
                   std::chrono::system_clock::time_point at = std::chrono::system_clock::now()) {
  static constexpr const char* kDigits = kIdDigits;
  std::uint64_t ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  std::string id(prefix);
  id.resize(prefix.size() + 9 + 17);
  for (std::size_t i = prefix.size() + 9; i-- > prefix.size(); ms >>= 5) id[i] = kDigits[ms & 31];
  std::uint8_t bytes[17];
  randombytes_buf(bytes, sizeof bytes);  // 256 is a multiple of 32, so no bias
  for (std::size_t i = 0; i < sizeof bytes; ++i) id[prefix.size() + 9 + i] = kDigits[bytes[i] & 31];
  return id;
}

// When a record with an id from new_id() was made (its millisecond digits); the epoch if the id
// has another shape. Reports use it as the time an outcome was received.
std::chrono::system_clock::time_point made_at(std::string_view id, std::size_t prefix) {
  std::uint64_t ms = 0;
  if (id.size() < prefix + 9) return {};
  for (char c : id.substr(prefix, 9)) {
    const char* at = std::strchr(kIdDigits, c);
    if (c == '\0' || at == nullptr) return {};
    ms = (ms << 5) | static_cast<std::uint64_t>(at - kIdDigits);
  }
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

std::chrono::year_month_day today() {
  return std::chrono::year_month_day(
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Party party_of(const Organisation& o) { return Party{o.role, o.id}; }

CategorySet category_set(const std::vector<std::string>& names) {
  CategorySet set;
  for (const auto& n : names) {
    if (auto c = parse_category(n)) set.insert(*c);
  }
  return set;
}

Problem item_problem(std::string slug, std::string detail) {
  return {400, std::move(slug), "Item refused", std::move(detail)};
}

json problem_json(const Problem& p) {
  return {{"type", "urn:brug:problem:" + p.slug},
          {"title", p.title},
          {"status", p.status},
          {"detail", p.detail}};
}

// A printable source reference of 1-128 characters.
bool valid_source_ref(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

struct Exchange::Impl {
  ExchangeDeps d;

  // The data keys of the participants one request touches, unwrapped once each.
  class KeyCache {
   public:
    explicit KeyCache(const crypto::KeyDir& keys) : keys_(keys) {}
    // nullptr when the participant is unknown or erased.
    Result<const crypto::DataKey*> get(Tx& tx, const std::string& participant) {
      auto it = cache_.find(participant);
      if (it != cache_.end()) return it->second ? &*it->second : nullptr;
      auto rows =
          tx.query("SELECT wrapped_key FROM participants WHERE participant = ?", {participant});
      if (!rows) return rows.status();
      if (rows->empty() || rows->front().is_null(0)) {
        cache_.emplace(participant, std::nullopt);
        return static_cast<const crypto::DataKey*>(nullptr);
      }
      auto index = crypto::ParticipantIndex::from_hex(participant);
      if (!index) return index.status();
      const auto blob = rows->front().blob(0);
      auto wrapped = crypto::WrappedDataKey::from_bytes(blob);
      if (!wrapped) return wrapped.status();
      auto key = crypto::unwrap_data_key(keys_.keks(), *index, *wrapped);
      if (!key) return key.status();
      auto [pos, _] = cache_.emplace(participant, std::move(key).value());
      return &*pos->second;
    }
    // The same from a wrapped key the caller already read (null blob: erased).
    Result<const crypto::DataKey*> from_blob(const std::string& participant, const Row& row,
                                             std::size_t col) {
      auto it = cache_.find(participant);
      if (it != cache_.end()) return it->second ? &*it->second : nullptr;
      if (row.is_null(col)) {
        cache_.emplace(participant, std::nullopt);
        return static_cast<const crypto::DataKey*>(nullptr);
      }
      auto index = crypto::ParticipantIndex::from_hex(participant);
      if (!index) return index.status();
      const auto blob = row.blob(col);
      auto wrapped = crypto::WrappedDataKey::from_bytes(blob);
      if (!wrapped) return wrapped.status();
      auto key = crypto::unwrap_data_key(keys_.keks(), *index, *wrapped);
      if (!key) return key.status();
      auto [pos, _] = cache_.emplace(participant, std::move(key).value());
      return &*pos->second;
    }
    void put(const std::string& participant, crypto::DataKey key) {
      cache_.insert_or_assign(participant, std::move(key));
    }

   private:
    const crypto::KeyDir& keys_;
    std::map<std::string, std::optional<crypto::DataKey>> cache_;
  };

  AuditEvent event(const Request& r, std::string action) const {
    AuditEvent e = audit_event(r, std::move(action));
    e.policy_set = d.policies.content_hash();
    return e;
  }

  std::string audit_subject(const std::string& participant) const {
    auto index = crypto::ParticipantIndex::from_hex(participant);
    if (!index) return {};
    return crypto::audit_pseudonym(d.keys.audit_pseudonym_key(), *index).text();
  }

  Response audited(const Request& r, std::vector<AuditEvent> events, Response answer) {
    return gateway::audited(d.audit, r, std::move(events), std::move(answer));
  }

  // Public-task flows disclose without consent; consent flows need an active consent.
  bool needs_consent(const Flow& flow) const {
    const FlowPlan plan = d.policies.plan_for(flow);
    for (const auto& f : plan.fields) {
      if (!f.needs_consent) return false;
    }
    return true;
  }

  // The shape every push shares: {"items": [...]} with 1 to max_batch items.
  std::optional<Problem> batch_problem(const ParsedBody& body) const {
    if (body.problem) return body.problem;
    FieldReader r(body.json);
    r.only({"items"});
    if (r.problem()) return r.problem();
    const auto items = body.json.find("items");
    if (items == body.json.end() || !items->is_array() || items->empty()) {
      return validation_problem("items", "must be a non-empty array");
    }
    if (items->size() > static_cast<std::size_t>(d.max_batch)) {
      return Problem{413, "batch-too-large", "Batch too large",
                     "A push may hold at most " + std::to_string(d.max_batch) + " items."};
    }
    return std::nullopt;
  }

  // ---- POST /v1/referrals -------------------------------------------------------------

  struct ReferralItem {
    std::string source_ref;
    const Organisation* to = nullptr;
    Purpose purpose = Purpose::kBegeleidingNaarWerk;
    std::string participant;
    std::string bsn;
    json record;
    std::vector<std::string> fields;
    std::optional<Problem> problem;
    std::string status;  // accepted, duplicate, rejected
    std::string id;
  };

  ReferralItem parse_referral(const json& item, const Organisation& caller) {
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
    if (d.policies.plan_for(flow).refusal) {
      it.problem = item_problem("no-policy", "No policy permits " + flow.to_string() + ".");
      return it;
    }
    it.record = *record;
    for (const auto& [k, v] : record->items()) it.fields.push_back(k);
    return it;
  }

  // The participant's data key, creating the participant (and sealing the BSN) when new or
  // erased before.
  Result<const crypto::DataKey*> participant_key(Tx& tx, KeyCache& keys,
                                                 const std::string& participant,
                                                 const std::string& bsn) {
    auto existing = keys.get(tx, participant);
    if (!existing) return existing.status();
    if (*existing != nullptr) return *existing;
    auto index = crypto::ParticipantIndex::from_hex(participant);
    if (!index) return index.status();
    auto key = crypto::DataKey::generate();
    if (!key) return key.status();
    auto wrapped = crypto::wrap_data_key(d.keys.keks(), *index, *key);
    if (!wrapped) return wrapped.status();
    auto sealed_bsn = crypto::seal_record(*key, {participant, *index, "bsn"}, bytes_of(bsn));
    if (!sealed_bsn) return sealed_bsn.status();
    const adapters::Blob wrapped_blob(wrapped->bytes().begin(), wrapped->bytes().end());
    BRUG_RETURN_IF_ERROR(
        tx.exec("INSERT INTO participants (participant, wrapped_key, sealed_bsn, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (participant) DO UPDATE SET "
                "wrapped_key = excluded.wrapped_key, sealed_bsn = excluded.sealed_bsn, "
                "erased_at = NULL",
                {participant, wrapped_blob, *sealed_bsn, utc_now_rfc3339()})
            .status());
    keys.put(participant, std::move(key).value());
    return keys.get(tx, participant);
  }

  Status store_referral(Tx& tx, KeyCache& keys, const Organisation& caller, ReferralItem& it) {
    auto dup = tx.query("SELECT id FROM referrals WHERE source_org = ? AND source_ref = ?",
                        {caller.id, it.source_ref});
    if (!dup) return dup.status();
    if (!dup->empty()) {
      it.status = "duplicate";
      it.id = dup->front().text(0);
      return Status::ok();
    }
    auto key = participant_key(tx, keys, it.participant, it.bsn);
    if (!key) return key.status();
    auto index = crypto::ParticipantIndex::from_hex(it.participant);
    if (!index) return index.status();
    it.id = new_id("ref_");
    const std::string plain = it.record.dump();
    auto sealed = crypto::seal_record(**key, {it.id, *index, "referral"}, bytes_of(plain));
    if (!sealed) return sealed.status();
    BRUG_RETURN_IF_ERROR(
        tx.exec("INSERT INTO referrals (id, source_org, source_ref, participant, recipient, "
                "purpose, sealed, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                {it.id, caller.id, it.source_ref, it.participant, it.to->id,
                 std::string(to_string(it.purpose)), *sealed, utc_now_rfc3339()})
            .status());
    it.status = "accepted";
    return Status::ok();
  }

  Response push_referrals(const Request& req) {
    const Organisation& caller = *req.caller;
    ParsedBody body = parse_object_body(req);
    if (auto refused = batch_problem(body)) return problem_response(*refused, req.request_id);
    const auto items = body.json.find("items");
    std::vector<ReferralItem> parsed;
    parsed.reserve(items->size());
    for (const auto& item : *items) parsed.push_back(parse_referral(item, caller));

    // One transaction for the whole batch: all accepted items are stored, or none.
    KeyCache keys(d.keys);
    Status stored = d.storage.transact([&](Tx& tx) {
      for (ReferralItem& it : parsed) {
        if (it.problem) continue;
        BRUG_RETURN_IF_ERROR(store_referral(tx, keys, caller, it));
      }
      return Status::ok();
    });
    if (!stored.is_ok()) return problem_response(internal_problem(), req.request_id);

    ordered_json results = ordered_json::array();
    std::vector<AuditEvent> events;
    for (ReferralItem& it : parsed) {
      ordered_json res = {{"source_ref", it.source_ref}};
      AuditEvent e = event(req, "referral.push");
      e.record_type = "referral";
      if (it.problem) {
        res["status"] = "rejected";
        res["problem"] = problem_json(*it.problem);
        e.decision = "deny";
        e.reason = it.problem->slug;
      } else {
        res["status"] = it.status;
        res["id"] = it.id;
        e.decision = "permit";
        e.purpose = std::string(to_string(it.purpose));
        e.subject = audit_subject(it.participant);
        e.recipient = it.to->id;
        const Flow flow{party_of(caller), party_of(*it.to), RecordType::kReferral, it.purpose};
        e.basis = needs_consent(flow) ? "consent" : "public-task";
        e.policy_ids = d.policies.plan_for(flow).policies;
        if (it.status == "accepted") e.fields = it.fields;
        e.reason = it.status == "duplicate" ? "duplicate" : "";
      }
      results.push_back(std::move(res));
      events.push_back(std::move(e));
    }
    return audited(req, std::move(events),
                   json_response(200, ordered_json{{"results", results}}.dump()));
  }

  // ---- GET /v1/feed ----------------------------------------------------------------------

  // Puts in the caller's feed what has become deliverable: referrals whose consent now exists
  // (or whose flow rests on a public task), outcomes of participants the caller referred.
  // Referrals are taken in chunks of kMaterializeChunk, oldest first, until the page after
  // `after` can hold `want` items or none are left, so one pull never holds or writes the whole
  // backlog at once, and a pull whose page is already there adds nothing.
  Status materialize(const Organisation& caller, std::int64_t after, std::int64_t want) {
    constexpr std::int64_t kMaterializeChunk = 2000;
    // What is already in the feed beyond the cursor counts towards the page.
    BRUG_RETURN_IF_ERROR(d.storage.read([&](Tx& tx) {
      auto rows = tx.query(
          "SELECT COUNT(*) FROM (SELECT 1 FROM feed_items WHERE recipient = ? AND seq > ? "
          "LIMIT ?)",
          {caller.id, after, want});
      if (!rows) return rows.status();
      want -= rows->front().integer(0);
      return Status::ok();
    }));
    std::int64_t after_seq = 0, added = 0;
    while (want > 0) {
      std::vector<std::tuple<std::string, std::string, std::string, std::string>> pending;
      BRUG_RETURN_IF_ERROR(d.storage.read([&](Tx& tx) {
        auto rows = tx.query(
            "SELECT r.seq, r.id, r.participant, r.purpose, r.source_org FROM referrals r "
            "WHERE r.recipient = ? AND r.fed = 0 AND r.sealed IS NOT NULL AND r.seq > ? "
            "ORDER BY r.seq LIMIT ?",
            {caller.id, after_seq, kMaterializeChunk});
        if (!rows) return rows.status();
        for (const Row& row : *rows) {
          after_seq = row.integer(0);
          pending.emplace_back(row.text(1), row.text(2), row.text(3), row.text(4));
        }
        return Status::ok();
      }));
      if (pending.empty()) break;
      std::vector<std::tuple<std::string, std::string, std::string>> feed;  // id, participant, p
      for (const auto& [id, participant, purpose_text, source] : pending) {
        const auto purpose = parse_purpose(purpose_text);
        const Organisation* from = d.orgs.find(source);
        if (!purpose || from == nullptr) continue;
        const Flow flow{party_of(*from), party_of(caller), RecordType::kReferral, *purpose};
        bool deliverable = !needs_consent(flow);
        if (!deliverable) {
          auto decision = d.consents.permits(participant, caller.id, *purpose);
          if (!decision) return decision.status();
          deliverable = decision->permitted;
        }
        if (deliverable) feed.emplace_back(id, participant, purpose_text);
      }
      if (!feed.empty()) {
        BRUG_RETURN_IF_ERROR(d.storage.transact([&](Tx& tx) {
          const std::string now = utc_now_rfc3339();
          for (const auto& [id, participant, purpose] : feed) {
            BRUG_RETURN_IF_ERROR(
                tx.exec("INSERT OR IGNORE INTO feed_items (recipient, kind, participant, ref_id, "
                        "purpose, created_at) VALUES (?, 'referral', ?, ?, ?, ?)",
                        {caller.id, participant, id, purpose, now})
                    .status());
            BRUG_RETURN_IF_ERROR(
                tx.exec("UPDATE referrals SET fed = 1 WHERE id = ?", {id}).status());
          }
          return Status::ok();
        }));
      }
      added += static_cast<std::int64_t>(feed.size());
      if (added >= want || static_cast<std::int64_t>(pending.size()) < kMaterializeChunk) break;
    }
    std::vector<std::tuple<std::string, std::string>> outcomes;  // id, participant
    if (caller.role == Role::kGemeente || caller.role == Role::kParticipatiebedrijf) {
      BRUG_RETURN_IF_ERROR(d.storage.read([&](Tx& tx) {
        auto rows = tx.query(
            "SELECT DISTINCT o.id, o.participant FROM outcomes o JOIN referrals r "
            "ON r.participant = o.participant AND r.recipient = o.project "
            "WHERE r.source_org = ? AND o.sealed IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM feed_items f WHERE f.recipient = ? AND f.ref_id = o.id) "
            "ORDER BY o.seq",
            {caller.id, caller.id});
        if (!rows) return rows.status();
        for (const Row& row : *rows) outcomes.emplace_back(row.text(0), row.text(1));
        return Status::ok();
      }));
      std::erase_if(outcomes, [&](const auto& o) {
        auto decision = d.consents.permits(std::get<1>(o), caller.id,
                                           Purpose::kResultaatverantwoording, "uitkomsten");
        return !decision || !decision->permitted;
      });
    }
    if (outcomes.empty()) return Status::ok();
    return d.storage.transact([&](Tx& tx) {
      const std::string now = utc_now_rfc3339();
      for (const auto& [id, participant] : outcomes) {
        BRUG_RETURN_IF_ERROR(
            tx.exec("INSERT OR IGNORE INTO feed_items (recipient, kind, participant, ref_id, "
                    "purpose, created_at) VALUES (?, 'outcome', ?, ?, "
                    "'resultaatverantwoording', ?)",
                    {caller.id, participant, id, now})
                .status());
      }
      return Status::ok();
    });
  }

  // One row of the page query: the feed item with its sealed record, sender, and the
  // participant's wrapped key and sealed BSN (columns 5-8), read in one go.
  struct FeedRow {
    std::int64_t seq;
    std::string kind, participant, ref_id, purpose;
    const Row* row;
  };
  static constexpr std::size_t kSealedCol = 5, kFromCol = 6, kWrappedCol = 7, kBsnCol = 8;

  static Result<json> open_json(const crypto::DataKey& key, const std::string& id,
                                const crypto::ParticipantIndex& index, const std::string& type,
                                const adapters::Blob& sealed) {
    auto plain = crypto::open_record(key, {id, index, type}, sealed);
    if (!plain) return plain.status();
    json record = json::parse(plain->begin(), plain->end(), nullptr, false);
    if (record.is_discarded()) return Status::error(Code::kCorrupt, "stored record " + id);
    return record;
  }

  Response feed(const Request& req) {
    const Organisation& caller = *req.caller;
    std::int64_t after = 0, limit = kDefaultFeedLimit;
    auto number = [](const std::string& s, std::int64_t& out) {
      if (s.empty() || s.size() > 18) return false;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
      }
      out = std::stoll(s);
      return true;
    };
    for (const auto& [k, v] : req.query) {
      if (k == "after") {
        if (!number(v, after)) {
          return problem_response(
              {400, "bad-cursor", "Bad cursor", "after: must be a cursor this feed returned."},
              req.request_id);
        }
      } else if (k == "limit") {
        if (!number(v, limit) || limit < 1 || limit > kMaxFeedLimit) {
          return problem_response(validation_problem("limit", "must be a number from 1 to " +
                                                                  std::to_string(kMaxFeedLimit)),
                                  req.request_id);
        }
      } else {
        return problem_response(
            validation_problem(k.size() <= 32 ? k : "(parameter)", "unknown query parameter"),
            req.request_id);
      }
    }
    if (!materialize(caller, after, limit).is_ok())
      return problem_response(internal_problem(), req.request_id);

    auto domain = crypto::PseudonymDomain::open(d.keys.pseudonym_key(), caller.id);
    if (!domain) return problem_response(internal_problem(), req.request_id);
    // The answer is written as it goes: {"items": [...], "next_cursor": "N"}.
    JsonWriter out(static_cast<std::size_t>(limit) * 512);
    out.begin_object().key("items").begin_array();
    std::vector<AuditEvent> events;
    std::int64_t next = after;
    KeyCache keys(d.keys);
    Status read = d.storage.read([&](Tx& tx) {
      auto rows = tx.query(
          "SELECT f.seq, f.kind, f.participant, f.ref_id, f.purpose, "
          "COALESCE(r.sealed, o.sealed), COALESCE(r.source_org, o.project), p.wrapped_key, "
          "p.sealed_bsn FROM feed_items f "
          "LEFT JOIN referrals r ON f.kind = 'referral' AND r.id = f.ref_id "
          "LEFT JOIN outcomes o ON f.kind = 'outcome' AND o.id = f.ref_id "
          "LEFT JOIN participants p ON p.participant = f.participant "
          "WHERE f.recipient = ? AND f.seq > ? ORDER BY f.seq LIMIT ?",
          {caller.id, after, limit});
      if (!rows) return rows.status();
      for (const Row& row : *rows) {
        const FeedRow f{row.integer(0), row.text(1), row.text(2), row.text(3), row.text(4), &row};
        next = f.seq;
        BRUG_RETURN_IF_ERROR(feed_item(keys, req, caller, *domain, f, out, events));
      }
      return Status::ok();
    });
    if (!read.is_ok()) return problem_response(internal_problem(), req.request_id);
    out.end_array().key("next_cursor").value(std::to_string(next)).end_object();
    return audited(req, std::move(events), json_response(200, out.take()));
  }

  // Adds one feed row to the answer if it is still permitted, and its audit event either way.
  Status feed_item(KeyCache& keys, const Request& req, const Organisation& caller,
                   const crypto::PseudonymDomain& domain, const FeedRow& f, JsonWriter& out,
                   std::vector<AuditEvent>& events) {
    AuditEvent e = event(req, "feed.read");
    e.subject = audit_subject(f.participant);
    e.recipient = caller.id;
    e.purpose = f.purpose;
    auto deny = [&](std::string reason) {
      e.decision = "deny";
      e.reason = std::move(reason);
      events.push_back(std::move(e));
      return Status::ok();
    };
    auto index = crypto::ParticipantIndex::from_hex(f.participant);
    if (!index) return index.status();
    if (f.kind == "deletion") {
      auto p = domain.pseudonym(*index);
      if (!p) return p.status();
      out.begin_object().key("cursor").value(std::to_string(f.seq)).key("kind").value(f.kind);
      out.key("subject").value(p->text()).end_object();
      e.action = "feed.deletion";
      e.decision = "permit";
      events.push_back(std::move(e));
      return Status::ok();
    }
    const bool referral = f.kind == "referral";
    e.record_type = referral ? "referral" : "outcome";
    const Row& row = *f.row;
    if (row.is_null(kSealedCol)) return deny("purged");
    auto key = keys.from_blob(f.participant, row, kWrappedCol);
    if (!key) return key.status();
    if (*key == nullptr) return deny("erased");
    auto record = open_json(**key, f.ref_id, *index, e.record_type, row.blob(kSealedCol));
    if (!record) return record.status();
    const Organisation* from = d.orgs.find(row.text(kFromCol));
    const auto purpose = parse_purpose(f.purpose);
    if (from == nullptr || !purpose) return deny("no-policy");
    const Flow flow{party_of(*from), party_of(caller),
                    referral ? RecordType::kReferral : RecordType::kOutcome, *purpose};
    CategorySet consented;
    if (needs_consent(flow)) {
      auto c = d.consents.permits(f.participant, caller.id, *purpose);
      if (!c) return c.status();
      if (!c->permitted) return deny(std::string(consent::to_string(c->reason)));
      consented = category_set(c->categories);
      e.consent_ids = c->consent_ids;
      e.basis = "consent";
    } else {
      e.basis = "public-task";
    }
    const Decision decision = d.policies.view_for(flow, *record, consented, today());
    if (!decision.permitted()) return deny("policy");
    const View& view = decision.view();
    if (view.fields.empty()) return deny("nothing-permitted");
    // Projects know a participant only by their own pseudonym; government parties by BSN.
    std::string pseudonym;
    std::vector<std::uint8_t> bsn;
    if (caller.role == Role::kProject) {
      auto p = domain.pseudonym(*index);
      if (!p) return p.status();
      pseudonym = p->text();
    } else {
      if (row.is_null(kBsnCol)) return deny("erased");
      auto opened = crypto::open_record(**key, {f.participant, *index, "bsn"}, row.blob(kBsnCol));
      if (!opened) return opened.status();
      bsn = std::move(opened).value();
    }
    out.begin_object().key("cursor").value(std::to_string(f.seq)).key("kind").value(f.kind);
    if (caller.role == Role::kProject) {
      out.key("subject").value(pseudonym);
    } else {
      out.key("subject").begin_object().key("bsn");
      out.value(std::string_view(reinterpret_cast<const char*>(bsn.data()), bsn.size()));
      out.end_object();
      sodium_memzero(bsn.data(), bsn.size());
    }
    out.key("from").value(from->id).key("record").begin_object();
    for (const ViewField& field : view.fields) {
      out.key(field.name);
      std::visit([&](const auto& v) { out.value(v); }, field.value);
    }
    out.end_object().end_object();
    e.decision = "permit";
    e.fields = view.disclosed();
    e.policy_ids = view.policies;
    events.push_back(std::move(e));
    return Status::ok();
  }

  // ---- POST /v1/outcomes -----------------------------------------------------------------

  Response push_outcomes(const Request& req) {
    const Organisation& caller = *req.caller;
    ParsedBody body = parse_object_body(req);
    if (auto refused = batch_problem(body)) return problem_response(*refused, req.request_id);
    const auto items = body.json.find("items");
    struct OutcomeItem {
      std::string participant;
      json record;
      std::optional<Problem> problem;
      std::string id;
    };
    std::vector<OutcomeItem> parsed;
    for (const auto& item : *items) {
      OutcomeItem it;
      if (!item.is_object() || !item.contains("subject") || !item["subject"].is_object()) {
        it.problem = validation_problem("subject", "is required: {\"pseudonym\": ...}");
        parsed.push_back(std::move(it));
        continue;
      }
      const ResolvedSubject who = resolve_subject(item["subject"], caller, d.keys);
      if (who.problem) {
        it.problem = who.problem;
        parsed.push_back(std::move(it));
        continue;
      }
      it.participant = who.participant;
      it.record = item;
      it.record.erase("subject");
      const auto errors = d.catalogue.validate(RecordType::kOutcome, it.record);
      if (!errors.empty()) {
        it.problem = validation_problem(errors.front().field, errors.front().problem);
      }
      parsed.push_back(std::move(it));
    }
    KeyCache keys(d.keys);
    Status stored = d.storage.transact([&](Tx& tx) {
      for (OutcomeItem& it : parsed) {
        if (it.problem) continue;
        // Only participants referred to this project, and not erased.
        auto referred =
            tx.query("SELECT 1 FROM referrals WHERE participant = ? AND recipient = ? LIMIT 1",
                     {it.participant, caller.id});
        if (!referred) return referred.status();
        auto key = keys.get(tx, it.participant);
        if (!key) return key.status();
        if (referred->empty() || *key == nullptr) {
          it.problem = Problem{400, "unknown-subject", "Unknown subject",
                               "subject.pseudonym: is not a participant referred to you."};
          continue;
        }
        auto index = crypto::ParticipantIndex::from_hex(it.participant);
        if (!index) return index.status();
        it.id = new_id("out_", d.now());
        auto sealed =
            crypto::seal_record(**key, {it.id, *index, "outcome"}, bytes_of(it.record.dump()));
        if (!sealed) return sealed.status();
        BRUG_RETURN_IF_ERROR(tx.exec("INSERT INTO outcomes (id, project, participant, sealed, "
                                     "received_at) VALUES (?, ?, ?, ?, ?)",
                                     {it.id, caller.id, it.participant, *sealed, utc_now_rfc3339()})
                                 .status());
      }
      return Status::ok();
    });
    if (!stored.is_ok()) return problem_response(internal_problem(), req.request_id);
    ordered_json results = ordered_json::array();
    std::vector<AuditEvent> events;
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      const OutcomeItem& it = parsed[i];
      ordered_json res = {{"index", i}};
      AuditEvent e = event(req, "outcome.push");
      e.record_type = "outcome";
      e.subject = it.participant.empty() ? "" : audit_subject(it.participant);
      if (it.problem) {
        res["status"] = "rejected";
        res["problem"] = problem_json(*it.problem);
        e.decision = "deny";
        e.reason = it.problem->slug;
      } else {
        res["status"] = "accepted";
        res["id"] = it.id;
        e.decision = "permit";
        for (const auto& [k, v] : it.record.items()) e.fields.push_back(k);
      }
      results.push_back(std::move(res));
      events.push_back(std::move(e));
    }
    return audited(req, std::move(events),
                   json_response(200, ordered_json{{"results", results}}.dump()));
  }

  // ---- GET /v1/reports/outcomes -----------------------------------------------------------

  // A fixed period: one calendar month, quarter or year. Anything else is refused, so that two
  // overlapping windows cannot be subtracted to single out one person (docs/REPORTS.md).
  static std::optional<std::string> fixed_period_problem(const consent::Date& from,
                                                         const consent::Date& to) {
    const auto last_day = [](int y, int m) {
      const auto ymd = std::chrono::year_month_day_last(
          std::chrono::year(y), std::chrono::month_day_last(std::chrono::month(unsigned(m))));
      return static_cast<int>(unsigned(ymd.day()));
    };
    if (from.day() != 1 || to.day() != last_day(to.year(), to.month())) {
      return "from must be the first and to the last day of a month";
    }
    const int months = (to.year() - from.year()) * 12 + (to.month() - from.month()) + 1;
    const bool month = months == 1;
    const bool quarter = months == 3 && (from.month() - 1) % 3 == 0;
    const bool year = months == 12 && from.month() == 1;
    if (!month && !quarter && !year) {
      return "the period must be one calendar month, quarter or year";
    }
    return std::nullopt;
  }

  std::vector<std::string> dimension_values(const std::string& dim, const consent::Date& from,
                                            const consent::Date& to) const {
    std::vector<std::string> v;
    if (dim == "project") {
      for (const auto& o : d.orgs.all()) {
        if (o.role == Role::kProject) v.push_back(o.id);
      }
    } else if (dim == "status") {
      if (const FieldSpec* f = d.catalogue.find(RecordType::kOutcome, "status")) v = f->values;
    } else if (dim == "doelgroep") {
      if (const FieldSpec* f = d.catalogue.find(RecordType::kReferral, "doelgroep")) v = f->values;
      v.push_back("onbekend");
    } else if (dim == "ladder") {
      v = {"gestegen", "gelijk", "gedaald", "onbekend"};
    } else if (dim == "month") {
      for (int y = from.year(), m = from.month();
           y < to.year() || (y == to.year() && m <= to.month());) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
        v.push_back(buf);
        if (++m > 12) {
          m = 1;
          ++y;
        }
      }
    }
    return v;
  }

  Response report(const Request& req) {
    const Organisation& caller = *req.caller;
    auto bad = [&](const std::string& field, const std::string& why) {
      return problem_response(validation_problem(field, why), req.request_id);
    };
    std::string from_text, to_text, by_text = "project,status";
    std::int64_t min_cell = kDefaultMinCell;
    for (const auto& [k, v] : req.query) {
      if (k == "from") {
        from_text = v;
      } else if (k == "to") {
        to_text = v;
      } else if (k == "by") {
        by_text = v;
      } else if (k == "min_cell") {
        if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoll(v) < kLowestMinCell) {
          return bad("min_cell",
                     "must be a whole number of at least " + std::to_string(kLowestMinCell));
        }
        min_cell = std::stoll(v);
      } else {
        return bad(k.size() <= 32 ? k : "(parameter)", "unknown query parameter");
      }
    }
    auto from = consent::Date::parse(from_text);
    if (!from) return bad("from", from.message());
    auto to = consent::Date::parse(to_text);
    if (!to) return bad("to", to.message());
    if (auto why = fixed_period_problem(*from, *to)) {
      return problem_response({400, "unfixed-period", "Period not allowed", *why + "."},
                              req.request_id);
    }
    std::vector<std::string> dims;
    for (std::size_t start = 0; start <= by_text.size();) {
      const std::size_t comma = by_text.find(',', start);
      dims.push_back(
          by_text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    const std::set<std::string> known = {"project", "status", "doelgroep", "ladder", "month"};
    if (dims.empty() || dims.size() > 2 || (dims.size() == 2 && dims[0] == dims[1])) {
      return bad("by", "one or two of project, status, doelgroep, ladder, month");
    }
    for (const auto& dim : dims) {
      if (!known.contains(dim))
        return bad("by",
                   "one or two of project, status, doelgroep, "
                   "ladder, month");
    }
    // Frozen publications: answered once the period and the delay for late outcomes are over,
    // counting only what arrived before, so the answer never changes (docs/REPORTS.md).
    const std::chrono::sys_days last_day{std::chrono::year_month_day{
        std::chrono::year(to->year()), std::chrono::month(unsigned(to->month())),
        std::chrono::day(unsigned(to->day()))}};
    const std::chrono::sys_days published = publication_day(last_day, d.report_delay_days);
    const std::chrono::year_month_day ymd{published};
    char published_text[16];
    std::snprintf(published_text, sizeof published_text, "%04d-%02u-%02u", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()));
    if (std::chrono::floor<std::chrono::days>(d.now()) < published) {
      return problem_response(
          {409, "period-not-published", "Period not published yet",
           "The report of this period is published from " + std::string(published_text) + "."},
          req.request_id);
    }
    // The monitoring policy must let outcomes flow to the caller as aggregates.
    const Flow flow{Party{Role::kProject, ""}, party_of(caller), RecordType::kOutcome,
                    Purpose::kMonitoring};
    if (d.policies.plan_for(flow).refusal) {
      return problem_response(forbidden_problem("No monitoring policy covers this organisation."),
                              req.request_id);
    }

    // Each participant counts once per project: by the latest outcome inside the period.
    struct Latest {
      std::string date;
      std::int64_t seq = 0;
      json outcome, referral;
      std::string project;
    };
    std::map<std::pair<std::string, std::string>, Latest> latest;
    KeyCache keys(d.keys);
    const std::string lo = from->to_string(), hi = to->to_string();
    Status read = d.storage.read([&](Tx& tx) {
      auto rows = tx.query(
          "SELECT o.seq, o.id, o.participant, o.project, o.sealed, p.wrapped_key, r.id, r.sealed "
          "FROM outcomes o JOIN participants p ON p.participant = o.participant "
          "JOIN referrals r ON r.id = (SELECT id FROM referrals WHERE participant = o.participant "
          "AND recipient = o.project AND source_org = ? ORDER BY seq LIMIT 1) "
          "WHERE o.sealed IS NOT NULL",
          {caller.id});
      if (!rows) return rows.status();
      for (const Row& row : *rows) {
        if (!counts_for_period(made_at(row.text(1), 4), last_day, d.report_delay_days)) continue;
        const std::string participant = row.text(2);
        auto key = keys.from_blob(participant, row, 5);
        if (!key) return key.status();
        if (*key == nullptr) continue;  // erased
        auto index = crypto::ParticipantIndex::from_hex(participant);
        if (!index) return index.status();
        auto outcome = open_json(**key, row.text(1), *index, "outcome", row.blob(4));
        if (!outcome) return outcome.status();
        const std::string date = outcome->value("date", "");
        if (date < lo || date > hi) continue;
        Latest& l = latest[{participant, row.text(3)}];
        if (!l.date.empty() && (date < l.date || (date == l.date && row.integer(0) < l.seq))) {
          continue;
        }
        l = {date, row.integer(0), std::move(outcome).value(), json(), row.text(3)};
        if (!row.is_null(7)) {
          auto referral = open_json(**key, row.text(6), *index, "referral", row.blob(7));
          if (referral) l.referral = std::move(referral).value();
        }
      }
      return Status::ok();
    });
    if (!read.is_ok()) return problem_response(internal_problem(), req.request_id);

    auto value_of = [](const std::string& dim, const Latest& l) -> std::string {
      if (dim == "project") return l.project;
      if (dim == "status") return l.outcome.value("status", "");
      if (dim == "month") return l.date.substr(0, 7);
      if (dim == "doelgroep") {
        return l.referral.is_object() ? l.referral.value("doelgroep", "onbekend") : "onbekend";
      }
      // ladder: the rung in the outcome against the rung at referral
      if (!l.referral.is_object() || !l.referral.contains("participatieladder") ||
          !l.outcome.contains("participatieladder")) {
        return "onbekend";
      }
      const auto before = l.referral["participatieladder"].get<std::int64_t>();
      const auto after = l.outcome["participatieladder"].get<std::int64_t>();
      return after > before ? "gestegen" : after == before ? "gelijk" : "gedaald";
    };
    // Each participant's contribution, in every dimension, with their fixed record key.
    PeriodContributions period;
    for (const std::string& dim : known) {
      period.dimensions.push_back({dim, dimension_values(dim, *from, *to)});
    }
    for (const auto& [key, l] : latest) {
      auto index = crypto::ParticipantIndex::from_hex(key.first);
      if (!index) return problem_response(internal_problem(), req.request_id);
      Contribution c{crypto::report_record_key(d.keys.report_noise_key(), *index, l.project), {}};
      for (const Dimension& dim : period.dimensions) c.values.push_back(value_of(dim.name, l));
      period.contributions.push_back(std::move(c));
    }
    auto dimension_index = [&](const std::string& name) {
      return static_cast<std::size_t>(std::distance(known.begin(), known.find(name)));
    };
    const KeyedTable table =
        tabulate(period, dimension_index(dims[0]),
                 dims.size() == 2 ? std::optional(dimension_index(dims[1])) : std::nullopt);
    const ProtectedTable p = perturb(table, period_version(period), min_cell);
    auto opt = [](const std::optional<std::int64_t>& v) {
      return v ? ordered_json(*v) : ordered_json(nullptr);
    };
    ordered_json cells = ordered_json::array();
    for (const auto& row : p.cells) {
      ordered_json out = ordered_json::array();
      for (const auto& v : row) out.push_back(opt(v));
      cells.push_back(std::move(out));
    }
    ordered_json row_totals = ordered_json::array(), column_totals = ordered_json::array();
    for (const auto& v : p.row_totals) row_totals.push_back(opt(v));
    for (const auto& v : p.column_totals) column_totals.push_back(opt(v));
    ordered_json answer = {{"period", {{"from", lo}, {"to", hi}}},
                           {"by", dims},
                           {"unit",
                            "participants, each counted once per project by their latest "
                            "outcome in the period"},
                           {"min_cell", std::max(min_cell, kLowestMinCell)},
                           {"rows", p.rows},
                           {"columns", p.columns},
                           {"cells", cells},
                           {"row_totals", row_totals},
                           {"column_totals", column_totals},
                           {"total", opt(p.total)},
                           {"suppressed", {{"primary", p.primary}, {"secondary", p.secondary}}},
                           {"perturbation",
                            {{"method", "cell-key"},
                             {"max_noise", kMaxNoise},
                             {"variance", std::round(noise_variance() * 100) / 100},
                             {"published", std::string(published_text)}}}};
    AuditEvent e = event(req, "report.outcomes");
    e.record_type = "outcome";
    e.purpose = "monitoring";
    e.basis = "public-task";
    e.fields = dims;
    e.decision = "permit";
    e.policy_ids = d.policies.plan_for(flow).policies;
    return audited(req, {e}, json_response(200, answer.dump()));
  }

  // ---- withdrawal and erasure --------------------------------------------------------------

  // Purges the participant's records for `recipient` and leaves one deletion notice, if the
  // recipient was ever sent a referral of them.
  Status purge_for(Tx& tx, const std::string& participant, const std::string& recipient,
                   std::optional<std::string> purpose) {
    std::string where = "participant = ? AND recipient = ?";
    std::vector<SqlValue> params = {participant, recipient};
    if (purpose) {
      where += " AND purpose = ?";
      params.push_back(*purpose);
    }
    auto had = tx.query("SELECT COUNT(*) FROM referrals WHERE " + where, params);
    if (!had) return had.status();
    if (had->front().integer(0) == 0) return Status::ok();
    BRUG_RETURN_IF_ERROR(
        tx.exec("UPDATE referrals SET sealed = NULL WHERE " + where, params).status());
    BRUG_RETURN_IF_ERROR(tx.exec("DELETE FROM feed_items WHERE recipient = ? AND participant = ? "
                                 "AND kind = 'referral'",
                                 {recipient, participant})
                             .status());
    auto notice = tx.query(
        "SELECT 1 FROM feed_items WHERE recipient = ? AND participant = ? "
        "AND kind = 'deletion' AND seq > COALESCE((SELECT MAX(seq) FROM "
        "feed_items WHERE recipient = ? AND participant = ? AND kind <> "
        "'deletion'), 0)",
        {recipient, participant, recipient, participant});
    if (!notice) return notice.status();
    if (!notice->empty()) return Status::ok();
    return tx
        .exec(
            "INSERT INTO feed_items (recipient, kind, participant, purpose, created_at) "
            "VALUES (?, 'deletion', ?, ?, ?)",
            {recipient, participant, purpose.value_or("begeleiding-naar-werk"), utc_now_rfc3339()})
        .status();
  }

  Response erase(const Request& req) {
    ParsedBody body = parse_object_body(req);
    if (body.problem) return problem_response(*body.problem, req.request_id);
    FieldReader r(body.json);
    r.only({"subject"});
    const json* subject = r.object("subject");
    if (r.problem()) return problem_response(*r.problem(), req.request_id);
    const ResolvedSubject who = resolve_subject(*subject, *req.caller, d.keys);
    if (who.problem) return problem_response(*who.problem, req.request_id);
    std::int64_t notices = 0;
    bool known = false;
    Status s = d.storage.transact([&](Tx& tx) {
      auto rows =
          tx.query("SELECT wrapped_key FROM participants WHERE participant = ?", {who.participant});
      if (!rows) return rows.status();
      if (rows->empty()) return Status::ok();
      known = true;
      BRUG_RETURN_IF_ERROR(tx.exec("UPDATE participants SET wrapped_key = NULL, sealed_bsn = "
                                   "NULL, erased_at = ? WHERE participant = ?",
                                   {utc_now_rfc3339(), who.participant})
                               .status());
      BRUG_RETURN_IF_ERROR(
          tx.exec("UPDATE outcomes SET sealed = NULL WHERE participant = ?", {who.participant})
              .status());
      BRUG_RETURN_IF_ERROR(tx.exec("DELETE FROM feed_items WHERE participant = ? AND kind = "
                                   "'outcome'",
                                   {who.participant})
                               .status());
      auto recipients = tx.query("SELECT DISTINCT recipient FROM referrals WHERE participant = ?",
                                 {who.participant});
      if (!recipients) return recipients.status();
      for (const Row& row : *recipients) {
        BRUG_RETURN_IF_ERROR(purge_for(tx, who.participant, row.text(0), std::nullopt));
        ++notices;
      }
      return Status::ok();
    });
    if (!s.is_ok()) return problem_response(internal_problem(), req.request_id);
    AuditEvent e = event(req, "participant.erase");
    e.subject = audit_subject(who.participant);
    e.decision = known ? "permit" : "deny";
    e.reason = known ? "" : "unknown-participant";
    if (!known) {
      return audited(req, {e},
                     problem_response({404, "not-found", "Not found",
                                       "The gateway holds nothing about this participant."},
                                      req.request_id));
    }
    return audited(
        req, {e},
        json_response(200, ordered_json{{"erased", true}, {"deletion_notices", notices}}.dump()));
  }
};

Exchange::Exchange(ExchangeDeps deps) : impl_(std::make_unique<Impl>(Impl{deps})) {}
Exchange::~Exchange() = default;

void Exchange::add_routes(Router& router) {
  Impl* self = impl_.get();
  const std::set<Role> senders = {Role::kGemeente, Role::kParticipatiebedrijf};
  router.add({"POST", "/v1/referrals", senders,
              [self](const Request& r) { return self->push_referrals(r); }});
  router.add({"GET",
              "/v1/feed",
              {Role::kGemeente, Role::kParticipatiebedrijf, Role::kProject},
              [self](const Request& r) { return self->feed(r); }});
  router.add({"POST", "/v1/outcomes", {Role::kProject}, [self](const Request& r) {
                return self->push_outcomes(r);
              }});
  router.add({"POST", "/v1/participants/erase", {Role::kGemeente}, [self](const Request& r) {
                return self->erase(r);
              }});
  router.add({"GET", "/v1/reports/outcomes", senders,
              [self](const Request& r) { return self->report(r); }});
}

Status Exchange::on_consent_withdrawn(const consent::Consent& c) {
  return impl_->d.storage.transact([&](Tx& tx) {
    return impl_->purge_for(tx, c.participant, c.grantee, std::string(to_string(c.purpose)));
  });
}

}  // namespace brug::gateway
