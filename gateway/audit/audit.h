// The audit trail's contract: what every disclosure, storage, refusal and administrative action
// leaves behind, and the sink that must hold it durably before any data leaves.
//
// An event carries identifiers and field NAMES only: no BSN, no field value, no key. The
// subject is the participant's audit pseudonym (its own pseudonym domain, see crypto/).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "crypto/result.h"

namespace brug::gateway {

// An event's leaf made ahead of its append (prepare_leaf, audit_log.h): the leaf's bytes with
// index 0 and an all-zero previous hash, and where those two go.
struct LeafDraft {
  std::string text;
  std::size_t index_at = 0;  // the "0" of the index
  std::size_t prev_at = 0;   // the first of the 64 hex digits of prev
};

struct AuditEvent {
  std::string time;         // RFC 3339 UTC; the log fills it in when empty
  std::string request_id;   // X-Request-Id of the request, or "cli" / "system"
  std::string trace_id;     // W3C trace id (32 hex) or empty
  std::string actor;        // organisation id; empty when the caller is unknown
  std::string actor_role;   // gemeente, participatiebedrijf, project, auditor, or empty
  std::string action;       // e.g. referral.push, feed.read, outcome.push, consent.record,
                            // consent.withdraw, participant.erase, request.refused, policy.load
  std::string record_type;  // referral, outcome, consent, or empty
  std::string purpose;      // wire name of the purpose, or empty
  std::string basis;        // consent, public-task, or empty
  std::string subject;      // audit pseudonym of the participant, or empty
  std::string recipient;    // organisation the data went to (disclosures), or empty
  std::vector<std::string> fields;       // names of the fields disclosed or stored
  std::string policy_set;                // content hash of the loaded policy set
  std::vector<std::string> policy_ids;   // id@version of the policies applied
  std::vector<std::string> consent_ids;  // the consents that permitted it
  std::string decision;                  // permit or deny
  std::string reason;                    // why it was denied (a stable slug), or empty
  // Made by prepare_leaf off the appending writer's path, from the members above as they were
  // then; none: the append makes the leaf itself.
  std::optional<LeafDraft> draft;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Appends the events in order and returns only when they are durably stored. An error means
  // the caller must not disclose anything and must answer 500.
  virtual Status append(std::vector<AuditEvent> events) = 0;
};

struct Request;
// An event for `request` (request id, trace id, caller) with `action`; the rest is the caller's.
AuditEvent audit_event(const Request& request, std::string action);

}  // namespace brug::gateway
