#include "gateway/portal/feed_sync.h"

namespace brug::portal {

using nlohmann::json;

Result<ApplyCounts> sync_feed(gateway::GatewayClient& client, LocalStore& store,
                              bool keep_referrals) {
  ApplyCounts total;
  // A bound against a gateway that never stops answering items: 10^6 items per sync.
  for (int page = 0; page < 2000; ++page) {
    const std::string after = store.cursor();
    auto answer = client.json_call("GET", "/v1/feed?limit=500&after=" + after);
    if (!answer) return answer.status();
    if (!answer->contains("items") || !(*answer)["items"].is_array()) {
      return Status::error(Code::kInternal, "the gateway's feed has no \"items\" list");
    }
    const json& items = (*answer)["items"];
    if (items.empty()) return total;
    std::vector<FeedItem> batch;
    for (const json& i : items) {
      if (!i.is_object()) continue;
      FeedItem f;
      f.cursor = i.value("cursor", "");
      f.kind = i.value("kind", "");
      if (i.contains("subject") && i["subject"].is_string()) {
        f.subject = i["subject"].get<std::string>();
      } else if (i.contains("subject") && i["subject"].is_object()) {
        f.subject = i["subject"].value("bsn", "");
      }
      f.from = i.value("from", "");
      f.record = i.contains("record") && i["record"].is_object() ? i["record"] : json::object();
      if (f.subject.empty() || (f.kind == "referral" && !keep_referrals)) continue;
      batch.push_back(std::move(f));
    }
    const json& next = (*answer)["next_cursor"];
    if (!next.is_string() || next.get<std::string>() == after) {
      return Status::error(Code::kInternal, "the gateway's feed did not move its cursor");
    }
    auto counts = store.apply(batch, next.get<std::string>());
    if (!counts) return counts.status();
    total.referrals += counts->referrals;
    total.deletions += counts->deletions;
    total.outcomes += counts->outcomes;
    total.deleted_refs.insert(total.deleted_refs.end(), counts->deleted_refs.begin(),
                              counts->deleted_refs.end());
  }
  return total;
}

}  // namespace brug::portal
