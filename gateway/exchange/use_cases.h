// The exchange's use cases (private to gateway/exchange/).
#pragma once

#include "gateway/disclosure/pipeline.h"
#include "gateway/exchange/exchange.h"

namespace brug::gateway {

Answer push_referrals(const ExchangeDeps& d, Call& call);
Answer pull_feed(const ExchangeDeps& d, Call& call);
Answer push_outcomes(const ExchangeDeps& d, Call& call);
Answer erase_participant(const ExchangeDeps& d, Call& call);

// The shape every push shares: {"items": [...]} with 1 to max_batch items.
std::optional<Problem> batch_problem(const ExchangeDeps& d, const nlohmann::json& body);

// A refused item of a batch: "rejected" with its problem in the answer, deny in its event.
void reject_item(nlohmann::ordered_json& result, AuditEvent& event, const Problem& problem);

// The answer to a push whose items (and their events) were stored in one transaction.
Answer batch_answer(const Status& stored, nlohmann::ordered_json results);

}  // namespace brug::gateway
