// POST /v1/participants/erase (the gemeente erases a participant: crypto-shredding) and the
// purge that a withdrawal or an erasure leaves in each recipient's feed. The erasure, its
// deletion notices and its audit event commit in one transaction.
#include "adapters/stores.h"
#include "crypto/env.h"
#include "gateway/audit/audit_log.h"
#include "gateway/disclosure/flow.h"
#include "gateway/disclosure/subject.h"
#include "gateway/exchange/use_cases.h"
#include "gateway/http/json_body.h"
#include "gateway/http/log.h"

namespace brug::gateway {

Result<bool> purge_for(adapters::ExchangeStore& s, const std::string& participant,
                       const std::string& recipient, const std::optional<std::string>& purpose,
                       const std::string& now) {
  auto had = s.purge_referrals(participant, recipient, purpose);
  if (!had) return had.status();
  if (*had == 0) return false;
  // One notice is enough until something new about the participant reaches the feed.
  auto newest = s.deletion_is_newest(recipient, participant);
  if (!newest) return newest.status();
  if (*newest) return true;
  auto added = s.add_feed_item({recipient, adapters::FeedKind::kDeletion, participant, "",
                                purpose.value_or("begeleiding-naar-werk"), now});
  if (!added) return added.status();
  return true;
}

Answer erase_participant(const ExchangeDeps& d, Call& call) {
  FieldReader r(call.body);
  r.only({"subject"});
  const nlohmann::json* subject = r.object("subject");
  if (r.problem()) return Answer::refuse(*r.problem());
  const ResolvedSubject who = resolve_subject(*subject, call.caller, d.keys);
  if (who.problem) return Answer::refuse(*who.problem);
  call.context.subject = audit_subject(d.keys, who.participant);
  std::int64_t notices = 0;
  bool known = false, already = false;
  Status s = d.audit.record([&](adapters::Stores& st, std::vector<AuditEvent>& events) {
    notices = 0;
    already = false;
    const std::string now = d.env.now_rfc3339();
    auto row = st.exchange.participant(who.participant);
    if (!row) return row.status();
    known = row->has_value();
    if (!known) return Status::ok();  // refused below, audited by the chain
    if (!(*row)->wrapped_key) {
      // Erased before: nothing to destroy and no notice to send again; the answer says so.
      already = true;
      AuditEvent e = call.event();
      e.decision = "permit";
      e.reason = "already-erased";
      events.push_back(std::move(e));
      return Status::ok();
    }
    auto erased = st.exchange.erase_participant(who.participant, now);
    if (!erased) return erased.status();
    BRUG_RETURN_IF_ERROR(st.exchange.purge_outcomes(who.participant));
    BRUG_RETURN_IF_ERROR(
        st.exchange.remove_feed_items("", who.participant, adapters::FeedKind::kOutcome));
    auto recipients = st.exchange.recipients_of(who.participant);
    if (!recipients) return recipients.status();
    for (const std::string& recipient : *recipients) {
      auto due = purge_for(st.exchange, who.participant, recipient, std::nullopt, now);
      if (!due) return due.status();
      if (*due) ++notices;
    }
    AuditEvent e = call.event();
    e.decision = "permit";
    events.push_back(std::move(e));
    return Status::ok();
  });
  if (!s.is_ok()) return Answer::fail(s);
  if (!known) {
    return Answer::refuse(
        {404, "not-found", "Not found", "The gateway holds nothing about this participant."});
  }
  // 200 only once no file of the database holds the destroyed key or records any more (the
  // write-ahead log included, where a backup would find them). If that cannot finish now the
  // erasure has still committed; the caller asks again and gets 200 once it has.
  if (Status scrubbed = d.db.scrub(); !scrubbed.is_ok()) {
    d.log.error("erasure_not_scrubbed", {{"request_id", call.request.request_id}});
    return Answer::fail();
  }
  return Answer::committed(json_response(200, nlohmann::ordered_json{{"erased", true},
                                                                     {"already_erased", already},
                                                                     {"deletion_notices", notices}}
                                                  .dump()));
}

}  // namespace brug::gateway
