// What both backends share to read and write consent rows: the columns, the categories' text
// form, and turning the rows of a query into consents with their events. The functions that
// read rows are templates over the backend's own Row type (anything with text(column)).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "consent/consent.h"
#include "crypto/result.h"

namespace brug::adapters::consent_rows {

// The columns of a consent row, in the order from_row reads them.
inline constexpr const char* kColumns =
    "id, participant, grantee, purpose, categories, valid_from, valid_until, evidence_method, "
    "evidence_reference, recorded_by, recorded_at";

// Categories as stored: one text, comma-separated (category names hold no comma).
std::string join(const std::vector<std::string>& categories);
std::vector<std::string> split(const std::string& stored);

// A stored consent that does not read back: kCorrupt, naming the consent and the part.
Status corrupt(const std::string& id, const std::string& what);

template <typename Row>
Result<consent::Consent> from_row(const Row& r) {
  consent::Consent c;
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

// Consents read from rows of kColumns, waiting for their events.
struct Loaded {
  std::vector<consent::Consent> consents;
  std::vector<std::string> ids;           // in the order read, for the events' query
  std::map<std::string, std::size_t> at;  // id -> index in consents
};

template <typename Rows>
Result<Loaded> consents_of(const Rows& rows) {
  Loaded out;
  for (const auto& r : rows) {
    auto c = from_row(r);
    if (!c) return c.status();
    out.at.emplace(c->id, out.consents.size());
    out.ids.push_back(c->id);
    out.consents.push_back(std::move(c).value());
  }
  return out;
}

// Attaches event rows (consent_id, kind, at, actor; in order per consent) to their consents.
// Only events of the loaded consents were asked for: anything else fails closed (a lost
// withdrawal would make a consent look given).
template <typename Rows>
Status attach_events(Loaded& loaded, const Rows& events) {
  for (const auto& e : events) {
    const auto it = loaded.at.find(e.text(0));
    if (it == loaded.at.end()) return corrupt(e.text(0), "event");
    consent::Consent& c = loaded.consents[it->second];
    auto kind = consent::parse_event_kind(e.text(1));
    if (!kind) return corrupt(c.id, "event");
    c.events.push_back({*kind, e.text(2), e.text(3)});
  }
  return Status::ok();
}

}  // namespace brug::adapters::consent_rows
