#include "adapters/sqlite/sqlite_stores.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace brug::adapters {
namespace {

using consent::Consent;
using consent::ConsentEvent;

constexpr const char* kColumns =
    "id, participant, grantee, purpose, categories, valid_from, valid_until, evidence_method, "
    "evidence_reference, recorded_by, recorded_at";

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const std::size_t end = s.find(',', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Status corrupt(const std::string& id, const std::string& what) {
  return Status::error(Code::kCorrupt, "consent " + id + ": stored " + what + " is unreadable");
}

Result<Consent> from_row(const Row& r) {
  Consent c;
  c.id = r.text(0);
  c.participant = r.text(1);
  c.grantee = r.text(2);
  auto purpose = parse_purpose(r.text(3));
  if (!purpose) return corrupt(c.id, "purpose");
  c.purpose = *purpose;
  c.categories = split(r.text(4));
  auto from = consent::Date::parse(r.text(5));
  auto until = consent::Date::parse(r.text(6));
  if (!from || !until) return corrupt(c.id, "period");
  c.valid_from = *from;
  c.valid_until = *until;
  auto method = consent::parse_evidence_method(r.text(7));
  if (!method) return corrupt(c.id, "evidence method");
  c.evidence = {*method, r.text(8)};
  c.recorded_by = r.text(9);
  c.recorded_at = r.text(10);
  return c;
}

// The keys as one JSON array parameter, for "IN (SELECT value FROM json_each(?))": one
// statement whatever the number of keys. Keys are printable: json_each cuts a value at an
// escaped NUL, so a key with a control character is refused (kInvalidArgument).
Result<std::string> key_array(const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (std::any_of(k.begin(), k.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      return Status::error(Code::kInvalidArgument, "a key holds a control character");
    }
  }
  return nlohmann::json(keys).dump();
}

// Loads the consents a query selects, each with its events (read for all of them at once).
Result<std::vector<Consent>> load(Tx& tx, const std::string& where, std::vector<SqlValue> params) {
  auto rows = tx.query(std::string("SELECT ") + kColumns + " FROM consents WHERE " + where +
                           " ORDER BY recorded_at, id",
                       std::move(params));
  if (!rows) return rows.status();
  std::vector<Consent> out;
  std::map<std::string, std::size_t> at;
  std::vector<std::string> ids;
  for (const Row& r : *rows) {
    auto c = from_row(r);
    if (!c) return c.status();
    at.emplace(c->id, out.size());
    ids.push_back(c->id);
    out.push_back(std::move(c).value());
  }
  if (out.empty()) return out;
  auto list = key_array(ids);
  if (!list) return list.status();
  auto events = tx.query(
      "SELECT consent_id, kind, at, actor FROM consent_events "
      "WHERE consent_id IN (SELECT value FROM json_each(?)) ORDER BY consent_id, seq",
      {*list});
  if (!events) return events.status();
  for (const Row& e : *events) {
    // Only events of the loaded consents were asked for: anything else fails closed (a lost
    // withdrawal would make a consent look given).
    const auto it = at.find(e.text(0));
    if (it == at.end()) return corrupt(e.text(0), "event");
    Consent& c = out[it->second];
    auto kind = consent::parse_event_kind(e.text(1));
    if (!kind) return corrupt(c.id, "event");
    c.events.push_back({*kind, e.text(2), e.text(3)});
  }
  return out;
}

Status append_event(Tx& tx, const std::string& id, consent::EventKind kind, const std::string& at,
                    const std::string& actor) {
  return tx
      .exec("INSERT INTO consent_events (consent_id, kind, at, actor) VALUES (?, ?, ?, ?)",
            {id, std::string(consent::to_string(kind)), at, actor})
      .status();
}

}  // namespace

Status SqliteConsentStore::insert(const Consent& c) {
  BRUG_RETURN_IF_ERROR(
      tx_.exec(std::string("INSERT INTO consents (") + kColumns +
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {c.id, c.participant, c.grantee, std::string(to_string(c.purpose)),
                join(c.categories), c.valid_from.to_string(), c.valid_until.to_string(),
                std::string(consent::to_string(c.evidence.method)), c.evidence.reference,
                c.recorded_by, c.recorded_at})
          .status());
  return append_event(tx_, c.id, consent::EventKind::kGiven, c.recorded_at, c.recorded_by);
}

Result<std::optional<Consent>> SqliteConsentStore::find(const std::string& id) {
  auto list = load(tx_, "id = ?", {id});
  if (!list) return list.status();
  if (list->empty()) return std::optional<Consent>();
  return std::optional<Consent>(std::move(list->front()));
}

Result<Consent> SqliteConsentStore::withdraw(const std::string& id, const std::string& actor,
                                             const std::string& at) {
  auto list = load(tx_, "id = ?", {id});
  if (!list) return list.status();
  if (list->empty()) return Status::error(Code::kNotFound, "no consent " + id);
  Consent& c = list->front();
  if (!c.withdrawn_at()) {
    BRUG_RETURN_IF_ERROR(append_event(tx_, id, consent::EventKind::kWithdrawn, at, actor));
    c.events.push_back({consent::EventKind::kWithdrawn, at, actor});
  }
  return std::move(c);
}

Result<std::vector<Consent>> SqliteConsentStore::for_participant(const std::string& participant) {
  return load(tx_, "participant = ?", {participant});
}

Result<std::vector<Consent>> SqliteConsentStore::for_grant(const std::string& participant,
                                                           const std::string& grantee,
                                                           Purpose purpose) {
  return load(tx_, "participant = ? AND grantee = ? AND purpose = ?",
              {participant, grantee, std::string(to_string(purpose))});
}

Result<std::map<std::string, std::vector<Consent>>> SqliteConsentStore::for_grants(
    const std::vector<std::string>& participants, const std::string& grantee, Purpose purpose) {
  std::map<std::string, std::vector<Consent>> out;
  if (participants.empty()) return out;
  auto list = key_array(participants);
  if (!list) return list.status();
  auto all =
      load(tx_, "participant IN (SELECT value FROM json_each(?)) AND grantee = ? AND purpose = ?",
           {*list, grantee, std::string(to_string(purpose))});
  if (!all) return all.status();
  for (Consent& c : *all) out[c.participant].push_back(std::move(c));
  return out;
}

}  // namespace brug::adapters
