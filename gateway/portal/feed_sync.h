// Pulls an organisation's feed from the gateway into its local copy, page by page from the
// kept cursor; deletion notices are applied in the same transaction as their page.
#pragma once

#include "crypto/result.h"
#include "gateway/http/client.h"
#include "gateway/portal/local_store.h"

namespace brug::portal {

// Everything new since the stored cursor. Items the portal does not know are skipped, and so
// are referrals unless `keep_referrals` (a gemeente's portal keeps only the outcomes it shows:
// what it does not need it does not store).
Result<ApplyCounts> sync_feed(gateway::GatewayClient& client, LocalStore& store,
                              bool keep_referrals);

}  // namespace brug::portal
