#include "adapters/sqlite/sqlite_stores.h"

#include <map>
#include <nlohmann/json.hpp>

#include "adapters/consent_rows.h"
#include "adapters/key_lists.h"

namespace brug::adapters {
namespace {

using consent::Consent;

// The keys as one JSON array parameter, for "IN (SELECT value FROM json_each(?))".
Result<std::string> key_array(const std::vector<std::string>& keys) {
  BRUG_RETURN_IF_ERROR(refuse_control_characters(keys));
  return nlohmann::json(keys).dump();
}

// Loads the consents a query selects, each with its events (read for all of them at once).
Result<std::vector<Consent>> load(Tx& tx, const std::string& where, std::vector<SqlValue> params) {
  auto rows = tx.query(std::string("SELECT ") + consent_rows::kColumns + " FROM consents WHERE " +
                           where + " ORDER BY recorded_at, id",
                       std::move(params));
  if (!rows) return rows.status();
  auto loaded = consent_rows::consents_of(*rows);
  if (!loaded) return loaded.status();
  if (loaded->consents.empty()) return std::move(loaded->consents);
  auto list = key_array(loaded->ids);
  if (!list) return list.status();
  auto events = tx.query(
      "SELECT consent_id, kind, at, actor FROM consent_events "
      "WHERE consent_id IN (SELECT value FROM json_each(?)) ORDER BY consent_id, seq",
      {*list});
  if (!events) return events.status();
  BRUG_RETURN_IF_ERROR(consent_rows::attach_events(*loaded, *events));
  return std::move(loaded->consents);
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
      tx_.exec(std::string("INSERT INTO consents (") + consent_rows::kColumns +
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {c.id, c.participant, c.grantee, std::string(to_string(c.purpose)),
                consent_rows::join(c.categories), c.valid_from.to_string(),
                c.valid_until.to_string(), std::string(consent::to_string(c.evidence.method)),
                c.evidence.reference, c.recorded_by, c.recorded_at})
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
