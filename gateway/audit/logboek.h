// An audit event as a record of the Logius standard Logboek Dataverwerkingen: one mapping for
// `brug audit export --format logboek` and the read API (POST /v1/processing-activities).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace brug::gateway {

// Purpose code -> the gemeente's processing-activity id (config logboek.processing_activities).
using ProcessingActivities = std::map<std::string, std::string>;

// The processing activity of an event with `purpose`: the configured id, else the purpose code.
std::string processing_activity_id(const std::string& purpose,
                                   const ProcessingActivities& activities);

// The record (trace_id, span_id, name, status_code, start_time, end_time, resource,
// foreign_operation, attributes) of the event `e` whose leaf text is `leaf`. trace_id is the
// event's W3C trace id, or the first 16 bytes of SHA-256 of its request id when it has none.
nlohmann::ordered_json logboek_record(const nlohmann::json& e, const std::string& leaf,
                                      const ProcessingActivities& activities);

}  // namespace brug::gateway
