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

}  // namespace brug::gateway
