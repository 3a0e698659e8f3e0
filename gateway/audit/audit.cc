#include "gateway/audit/audit.h"

#include "gateway/http/http.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {

AuditEvent audit_event(const Request& r, std::string action) {
  AuditEvent e;
  e.request_id = r.request_id;
  if (r.traceparent.size() == 55) e.trace_id = r.traceparent.substr(3, 32);
  if (r.caller != nullptr) {
    e.actor = r.caller->id;
    e.actor_role = std::string(to_string(r.caller->role));
  }
  e.action = std::move(action);
  return e;
}

}  // namespace brug::gateway
