#include "gateway/audit/logboek.h"

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace brug::gateway {

std::string processing_activity_id(const std::string& purpose,
                                   const ProcessingActivities& activities) {
  const auto mapped = activities.find(purpose);
  return mapped != activities.end() ? mapped->second : purpose;
}

nlohmann::ordered_json logboek_record(const nlohmann::json& e, const std::string& leaf,
                                      const ProcessingActivities& activities) {
  const std::string purpose = e.value("purpose", "");
  const auto leaf_hash = crypto::to_hex(crypto::sha256(leaf));
  std::string trace = e.value("trace_id", "");
  if (trace.size() != 32) {
    trace = crypto::to_hex(crypto::sha256(e.value("request_id", ""))).substr(0, 32);
  }
  nlohmann::ordered_json r = {
      {"trace_id", trace},
      {"span_id", leaf_hash.substr(0, 16)},
      {"name", e.value("action", "")},
      {"status_code", e.value("decision", "") == "permit" ? 1 : 2},
      {"start_time", e.value("time", "")},
      {"end_time", e.value("time", "")},
      {"resource", {{"name", "brug"}, {"version", BRUG_VERSION}}},
      {"attributes",
       {{"dpl.core.processing_activity_id", processing_activity_id(purpose, activities)},
        {"brug.purpose", purpose},
        {"dpl.core.data_subject_id", e.value("subject", "")},
        {"dpl.core.data_subject_id_type", "brug-audit-pseudonym"},
        {"brug.actor", e.value("actor", "")},
        {"brug.fields", e.value("fields", nlohmann::json::array())},
        {"brug.legal_basis", e.value("basis", "")},
        {"brug.policy_set", e.value("policy_set", "")},
        {"brug.consent_ids", e.value("consent_ids", nlohmann::json::array())},
        {"brug.reason", e.value("reason", "")}}}};
  if (!e.value("recipient", "").empty()) {
    r["foreign_operation"] = {{"trace_id", trace}, {"entity", e.value("recipient", "")}};
  }
  return r;
}

}  // namespace brug::gateway
