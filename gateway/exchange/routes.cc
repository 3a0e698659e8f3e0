#include "gateway/disclosure/pipeline.h"
#include "gateway/exchange/use_cases.h"

namespace brug::gateway {

void add_exchange_routes(Pipeline& pipeline, const ExchangeDeps& deps) {
  const ExchangeDeps* d = &deps;
  const std::set<Role> senders = {Role::kGemeente, Role::kParticipatiebedrijf};
  pipeline.add({"POST", "/v1/referrals", senders, "referral.push", "referral", Body::kJsonObject,
                [d](Call& c) { return push_referrals(*d, c); }});
  pipeline.add({"GET",
                "/v1/feed",
                {Role::kGemeente, Role::kParticipatiebedrijf, Role::kProject},
                "feed.read",
                "",
                Body::kNone,
                [d](Call& c) { return pull_feed(*d, c); }});
  pipeline.add({"POST",
                "/v1/outcomes",
                {Role::kProject},
                "outcome.push",
                "outcome",
                Body::kJsonObject,
                [d](Call& c) { return push_outcomes(*d, c); }});
  pipeline.add({"POST",
                "/v1/participants/erase",
                {Role::kGemeente},
                "participant.erase",
                "",
                Body::kJsonObject,
                [d](Call& c) { return erase_participant(*d, c); }});
}

}  // namespace brug::gateway
