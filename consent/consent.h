// A participant's consent, after HL7 FHIR Consent and ISO/IEC TS 27560: who consents (by
// participant index, never a BSN), to whom, for which purpose, which data categories, for which
// period, how it was obtained, and every event in its life. A stored consent is never changed:
// withdrawal is an event appended to its history.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consent/date.h"
#include "crypto/result.h"
#include "policies/vocabulary.h"

namespace brug::consent {

enum class ConsentStatus { kActive, kWithdrawn, kExpired, kNotYetValid };
enum class EvidenceMethod { kSchriftelijk, kDigitaal, kMondeling };
enum class EventKind { kGiven, kWithdrawn, kReaffirmed };

std::string_view to_string(ConsentStatus s);
std::string_view to_string(EvidenceMethod m);
std::string_view to_string(EventKind k);
std::optional<EvidenceMethod> parse_evidence_method(std::string_view text);
std::optional<EventKind> parse_event_kind(std::string_view text);

struct Evidence {
  EvidenceMethod method;
  std::string reference;  // e.g. "formulier 2026-014": where the proof is kept, not the proof
};

struct ConsentEvent {
  EventKind kind;
  std::string at;     // RFC 3339 UTC
  std::string actor;  // organisation id
};

struct Consent {
  std::string id;           // "cns_" + 26 base32 characters
  std::string participant;  // participant index, 64 hex digits
  std::string grantee;      // organisation id
  Purpose purpose;
  std::vector<std::string> categories;  // sorted, unique
  Date valid_from;                      // first day it is valid
  Date valid_until;                     // last day it is valid (inclusive)
  Evidence evidence;
  std::string recorded_by;           // organisation id
  std::string recorded_at;           // RFC 3339 UTC
  std::vector<ConsentEvent> events;  // in order; the first is kGiven

  // The time of the withdrawal event, if any.
  std::optional<std::string> withdrawn_at() const;
  // Status at `at` (RFC 3339 UTC): withdrawn wins over the period, then the period decides.
  ConsentStatus status_at(const std::string& at) const;
  bool covers(std::string_view category) const;
};

// Why a disclosure is not permitted.
// kUnreadable: a stored consent of the grant does not read back (damaged or tampered with); it
// denies, as if there were no consent, for that participant only.
enum class DenyReason {
  kNoConsent,
  kWithdrawn,
  kExpired,
  kNotYetValid,
  kCategoryNotCovered,
  kUnreadable
};
std::string_view to_string(DenyReason r);

// The answer to "may this grantee receive these categories of this participant for this
// purpose now?": the consents that permit and the categories they cover together, or the reason
// none does.
struct Decision {
  bool permitted = false;
  std::vector<std::string> consent_ids;  // the active consents that apply
  std::vector<std::string> categories;   // the union of their categories, sorted
  DenyReason reason = DenyReason::kNoConsent;
};

// Evaluates the consents of one (participant, grantee, purpose) at `at`. When `category` is
// given, it must be covered by an active consent. The most telling reason is reported when
// nothing permits: withdrawn, then expired, then not yet valid, then not covered.
Decision evaluate(const std::vector<Consent>& candidates, const std::string& at,
                  std::optional<std::string_view> category = std::nullopt);

// A new consent's fields as a caller supplies them (already resolved to a participant index).
struct NewConsent {
  std::string participant;
  std::string grantee;
  Purpose purpose;
  std::vector<std::string> categories;
  Date valid_from;
  Date valid_until;
  Evidence evidence;
};

// A fresh random consent id.
std::string new_consent_id();

}  // namespace brug::consent
