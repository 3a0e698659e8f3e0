#include "consent/consent.h"

#include "crypto/name_table.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <utility>

namespace brug::consent {
namespace {

constexpr std::array<std::pair<ConsentStatus, std::string_view>, 4> kStatuses{{
    {ConsentStatus::kActive, "active"},
    {ConsentStatus::kWithdrawn, "withdrawn"},
    {ConsentStatus::kExpired, "expired"},
    {ConsentStatus::kNotYetValid, "not-yet-valid"},
}};
constexpr std::array<std::pair<EvidenceMethod, std::string_view>, 3> kMethods{{
    {EvidenceMethod::kSchriftelijk, "schriftelijk"},
    {EvidenceMethod::kDigitaal, "digitaal"},
    {EvidenceMethod::kMondeling, "mondeling"},
}};
constexpr std::array<std::pair<EventKind, std::string_view>, 3> kEvents{{
    {EventKind::kGiven, "given"},
    {EventKind::kWithdrawn, "withdrawn"},
    {EventKind::kReaffirmed, "reaffirmed"},
}};
constexpr std::array<std::pair<DenyReason, std::string_view>, 6> kReasons{{
    {DenyReason::kNoConsent, "no-consent"},
    {DenyReason::kWithdrawn, "withdrawn"},
    {DenyReason::kExpired, "expired"},
    {DenyReason::kNotYetValid, "not-yet-valid"},
    {DenyReason::kCategoryNotCovered, "category-not-covered"},
    {DenyReason::kUnreadable, "consent-unreadable"},
}};

// Without a readable date the consent cannot be shown to be valid: treat it as expired.
ConsentStatus period_status(const Consent& c, const std::string& at) {
  auto today = Date::of_timestamp(at);
  if (!today) return ConsentStatus::kExpired;
  if (*today < c.valid_from) return ConsentStatus::kNotYetValid;
  if (*today > c.valid_until) return ConsentStatus::kExpired;
  return ConsentStatus::kActive;
}

}  // namespace

std::string_view to_string(ConsentStatus s) { return name_of(kStatuses, s); }
std::string_view to_string(EvidenceMethod m) { return name_of(kMethods, m); }
std::string_view to_string(EventKind k) { return name_of(kEvents, k); }
std::string_view to_string(DenyReason r) { return name_of(kReasons, r); }
std::optional<EvidenceMethod> parse_evidence_method(std::string_view t) {
  return value_of(kMethods, t);
}
std::optional<EventKind> parse_event_kind(std::string_view t) { return value_of(kEvents, t); }

std::optional<std::string> Consent::withdrawn_at() const {
  for (const ConsentEvent& e : events) {
    if (e.kind == EventKind::kWithdrawn) return e.at;
  }
  return std::nullopt;
}

ConsentStatus Consent::status_at(const std::string& at) const {
  auto w = withdrawn_at();
  if (w && *w <= at) return ConsentStatus::kWithdrawn;
  return period_status(*this, at);
}

bool Consent::covers(std::string_view category) const {
  return std::binary_search(categories.begin(), categories.end(), category);
}

Decision evaluate(const std::vector<Consent>& candidates, const std::string& at,
                  std::optional<std::string_view> category) {
  Decision d;
  bool saw_withdrawn = false, saw_expired = false, saw_future = false, saw_uncovered = false;
  for (const Consent& c : candidates) {
    // A stored withdrawal counts whatever its timestamp: it committed before this evaluation
    // read it, so it is in force for every disclosure that starts now.
    if (c.withdrawn_at()) {
      saw_withdrawn = true;
      continue;
    }
    switch (period_status(c, at)) {
      case ConsentStatus::kExpired:
        saw_expired = true;
        continue;
      case ConsentStatus::kNotYetValid:
        saw_future = true;
        continue;
      default:
        break;
    }
    if (category && !c.covers(*category)) {
      saw_uncovered = true;
      continue;
    }
    d.consent_ids.push_back(c.id);
    d.categories.insert(d.categories.end(), c.categories.begin(), c.categories.end());
  }
  std::sort(d.categories.begin(), d.categories.end());
  d.categories.erase(std::unique(d.categories.begin(), d.categories.end()), d.categories.end());
  d.permitted = !d.consent_ids.empty();
  if (!d.permitted) {
    d.reason = saw_withdrawn   ? DenyReason::kWithdrawn
               : saw_expired   ? DenyReason::kExpired
               : saw_future    ? DenyReason::kNotYetValid
               : saw_uncovered ? DenyReason::kCategoryNotCovered
                               : DenyReason::kNoConsent;
  }
  return d;
}

std::string new_consent_id() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string id = "cns_";
  for (int i = 0; i < 26; ++i) id.push_back(kAlphabet[randombytes_uniform(32)]);
  return id;
}

}  // namespace brug::consent
