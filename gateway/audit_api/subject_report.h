// The access report of one person (AVG art. 15): per organisation exactly which fields left the
// gateway to it and when (the permitted feed reads of the audit log, never what a rule withheld),
// the deletion notices sent, separately what the gateway received about them from whom, and
// their consents with the consents' events. Built from the audit log and the consent store, for
// POST /v1/audit/subject-report and `brug audit subject-report`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "crypto/result.h"

namespace brug::adapters {
class Database;
}
namespace brug::crypto {
class Bsn;
class KeyDir;
}  // namespace brug::crypto

namespace brug::gateway {

class OrgRegistry;

struct SubjectReportDeps {
  adapters::Database& db;
  const OrgRegistry& orgs;
  const crypto::KeyDir& keys;
};

// {"disclosed": [{"recipient", "recipient_name", "items": [{"time", "record_type", "purpose",
// "basis", "fields", "consent_ids", "policy_ids"}]}], "deletion_notices": [{"recipient",
// "recipient_name", "time"}], "received": [{"time", "from", "from_name", "record_type",
// "purpose", "fields"}], "consents": [{"id", "grantee", "grantee_name", "purpose", "categories",
// "valid_from", "valid_until", "status", "events": [{"kind", "at", "actor"}]}]}. `now` (RFC
// 3339) decides each consent's status.
Result<nlohmann::ordered_json> subject_report(const SubjectReportDeps& deps, const crypto::Bsn& bsn,
                                              const std::string& now);

// The report as plain text in Dutch that an FG can hand to the person: what, to whom, when, on
// which basis.
std::string subject_report_text(const nlohmann::ordered_json& report);

}  // namespace brug::gateway
