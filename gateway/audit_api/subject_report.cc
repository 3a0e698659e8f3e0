#include "gateway/audit_api/subject_report.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "adapters/stores.h"
#include "consent/consent.h"
#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Enough for every event of one person; the report is complete or fails.
constexpr std::uint64_t kMaxEvents = 1'000'000;

std::string name_of(const OrgRegistry& orgs, const std::string& id) {
  const Organisation* o = orgs.find(id);
  return o != nullptr ? o->name : id;
}

ordered_json list_of(const json& e, const char* key) {
  ordered_json out = ordered_json::array();
  for (const auto& v : e.value(key, json::array())) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string joined(const ordered_json& list) {
  std::string out;
  for (const auto& v : list) {
    if (!out.empty()) out += ", ";
    out += v.get<std::string>();
  }
  return out.empty() ? "-" : out;
}

// "2026-11-02T10:00:00.123Z" -> "2026-11-02 10:00"
std::string when(const ordered_json& time) {
  std::string t = time.get<std::string>();
  if (t.size() >= 16) t = t.substr(0, 10) + " " + t.substr(11, 5);
  return t;
}

std::string basis_nl(const std::string& basis) {
  if (basis == "consent") return "toestemming";
  if (basis == "public-task") return "wettelijke taak";
  return basis.empty() ? "-" : basis;
}

std::string what_nl(const std::string& record_type) {
  if (record_type == "referral") return "aanmelding";
  if (record_type == "outcome") return "resultaat";
  return record_type;
}

}  // namespace

Result<ordered_json> subject_report(const SubjectReportDeps& d, const crypto::Bsn& bsn,
                                    const std::string& now) {
  const auto index = crypto::participant_index(d.keys.participant_index_key(), bsn);
  adapters::AuditQuery query;
  query.subject = crypto::audit_pseudonym(d.keys.audit_pseudonym_key(), index).text();
  query.limit = kMaxEvents;
  std::vector<std::pair<std::uint64_t, std::string>> events;
  std::vector<consent::Consent> consents;
  BRUG_RETURN_IF_ERROR(d.db.read([&](adapters::Stores& s) {
    auto found = s.audit.search(query);
    if (!found) return found.status();
    events = std::move(found).value();
    auto mine = s.consents.for_participant(index.to_hex());
    if (!mine) return mine.status();
    consents = std::move(mine).value();
    return Status::ok();
  }));

  // Disclosures by recipient, in the order each recipient first received something.
  std::vector<std::string> order;
  std::map<std::string, ordered_json> disclosed;
  ordered_json notices = ordered_json::array(), received = ordered_json::array();
  for (const auto& [idx, leaf] : events) {
    const json e = json::parse(leaf, nullptr, false);
    if (e.is_discarded() || e.value("decision", "") != "permit") continue;
    const std::string action = e.value("action", "");
    const std::string recipient = e.value("recipient", "");
    if (action == "feed.read" && !recipient.empty() && !e.value("fields", json::array()).empty()) {
      if (!disclosed.contains(recipient)) order.push_back(recipient);
      disclosed[recipient].push_back({{"time", e.value("time", "")},
                                      {"record_type", e.value("record_type", "")},
                                      {"purpose", e.value("purpose", "")},
                                      {"basis", e.value("basis", "")},
                                      {"fields", list_of(e, "fields")},
                                      {"consent_ids", list_of(e, "consent_ids")},
                                      {"policy_ids", list_of(e, "policy_ids")}});
    } else if (action == "feed.deletion" && !recipient.empty()) {
      notices.push_back({{"recipient", recipient},
                         {"recipient_name", name_of(d.orgs, recipient)},
                         {"time", e.value("time", "")}});
    } else if ((action == "referral.push" || action == "outcome.push") &&
               e.value("reason", "") != "duplicate") {
      const std::string from = e.value("actor", "");
      received.push_back({{"time", e.value("time", "")},
                          {"from", from},
                          {"from_name", name_of(d.orgs, from)},
                          {"record_type", e.value("record_type", "")},
                          {"purpose", e.value("purpose", "")},
                          {"fields", list_of(e, "fields")}});
    }
  }
  ordered_json by_recipient = ordered_json::array();
  for (const std::string& r : order) {
    by_recipient.push_back(
        {{"recipient", r}, {"recipient_name", name_of(d.orgs, r)}, {"items", disclosed[r]}});
  }
  ordered_json consent_list = ordered_json::array();
  for (const consent::Consent& c : consents) {
    ordered_json evs = ordered_json::array();
    for (const auto& ev : c.events) {
      evs.push_back({{"kind", consent::to_string(ev.kind)}, {"at", ev.at}, {"actor", ev.actor}});
    }
    consent_list.push_back({{"id", c.id},
                            {"grantee", c.grantee},
                            {"grantee_name", name_of(d.orgs, c.grantee)},
                            {"purpose", to_string(c.purpose)},
                            {"categories", c.categories},
                            {"valid_from", c.valid_from.to_string()},
                            {"valid_until", c.valid_until.to_string()},
                            {"status", consent::to_string(c.status_at(now))},
                            {"events", evs}});
  }
  return ordered_json{{"disclosed", by_recipient},
                      {"deletion_notices", notices},
                      {"received", received},
                      {"consents", consent_list}};
}

std::string subject_report_text(const ordered_json& report) {
  std::ostringstream out;
  out << "Inzageverzoek (AVG art. 15): wat de gateway met uw gegevens deed\n\n";
  out << "1. Verstrekt: welke gegevens naar welke organisatie zijn gegaan\n";
  if (report["disclosed"].empty()) out << "   Er zijn geen gegevens over u verstrekt.\n";
  for (const auto& r : report["disclosed"]) {
    out << "\n   Aan: " << r["recipient_name"].get<std::string>() << " ("
        << r["recipient"].get<std::string>() << ")\n";
    out << "   wanneer           | wat         | doel                      | grondslag       | "
           "gegevens\n";
    for (const auto& i : r["items"]) {
      char line[160];
      std::snprintf(line, sizeof line, "   %-17s | %-11s | %-25s | %-15s | ",
                    when(i["time"]).c_str(), what_nl(i["record_type"]).c_str(),
                    i["purpose"].get<std::string>().c_str(), basis_nl(i["basis"]).c_str());
      out << line << joined(i["fields"]) << "\n";
    }
  }
  out << "\n2. Verwijderberichten: organisaties die is gevraagd uw gegevens te wissen\n";
  if (report["deletion_notices"].empty()) out << "   Geen.\n";
  for (const auto& n : report["deletion_notices"]) {
    out << "   " << when(n["time"]) << "  " << n["recipient_name"].get<std::string>() << "\n";
  }
  out << "\n3. Ontvangen: wat de gateway over u ontving en van wie\n";
  if (report["received"].empty()) out << "   Niets.\n";
  for (const auto& i : report["received"]) {
    out << "   " << when(i["time"]) << "  van " << i["from_name"].get<std::string>() << ": "
        << what_nl(i["record_type"]) << " (" << i["purpose"].get<std::string>()
        << "), gegevens: " << joined(i["fields"]) << "\n";
  }
  out << "\n4. Toestemmingen\n";
  if (report["consents"].empty()) out << "   Geen.\n";
  for (const auto& c : report["consents"]) {
    out << "   " << c["grantee_name"].get<std::string>() << ", doel "
        << c["purpose"].get<std::string>() << ", " << c["valid_from"].get<std::string>() << " t/m "
        << c["valid_until"].get<std::string>() << ", status " << c["status"].get<std::string>()
        << ", categorieen " << joined(c["categories"]) << "\n";
    for (const auto& e : c["events"]) {
      out << "     " << when(e["at"]) << "  " << e["kind"].get<std::string>() << " door "
          << e["actor"].get<std::string>() << "\n";
    }
  }
  return out.str();
}

}  // namespace brug::gateway
