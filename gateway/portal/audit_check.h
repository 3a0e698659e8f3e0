// What the FG's portal checks of the gateway's audit log, through the auditor API only: the
// newest signed checkpoint against the key pinned in the portal's configuration, consistency
// with the checkpoint the portal kept last time (RFC 9162 proof from the API), and a full
// export verified as `brug audit verify` does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "crypto/result.h"
#include "gateway/http/client.h"
#include "gateway/portal/local_store.h"

namespace brug::portal {

// {"size", "root", "time", "signature_valid", "kept_size", "consistent": true|false|null,
//  "verdict": text}. The checkpoint is kept for next time only when it checks out.
Result<nlohmann::json> check_log_state(gateway::GatewayClient& client, LocalStore& store,
                                       const std::string& public_key_hex);

// Fetches every entry up to a fresh checkpoint into `work_dir` and verifies them offline;
// {"verified": bool, "entries": N, "verdict": text}. `work_dir` is removed afterwards.
Result<nlohmann::json> export_and_verify(gateway::GatewayClient& client,
                                         const std::string& public_key_hex,
                                         const std::string& work_dir);

}  // namespace brug::portal
