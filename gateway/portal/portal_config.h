// The configuration of one organisation's portal (PORTAL.json, written by `brug init` for each
// demo organisation). Relative paths are relative to the file's folder; unknown keys are errors.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crypto/result.h"
#include "gateway/http/client.h"
#include "policies/vocabulary.h"

namespace brug::portal {

struct PortalConfig {
  std::string file;  // where it was loaded from

  std::string organisation;  // the organisation id in the gateway's registry
  Role role = Role::kProject;

  gateway::ClientIdentity gateway;  // host, port, client certificate, key and CA
  std::string gateway_public_key;   // hex Ed25519 key of the gateway's checkpoints (auditor)

  std::string listen_host = "127.0.0.1";  // the web app; another address only when configured
  std::uint16_t listen_port = 8601;       // 0: any free port

  std::string data_dir;        // the local copy (portal.db, 0600) and feed-pull output
  std::string catalogue_file;  // the field catalogue, for the outcome form's choices
  int sync_every_s = 60;       // how often the feed is pulled in the background; 0: never

  // Organisations the consulent may grant consent to and refer to (id, display name).
  std::vector<std::pair<std::string, std::string>> partners;
};

Result<PortalConfig> load_portal_config(const std::string& path);

// The portal.db inside data_dir.
std::string portal_db_path(const PortalConfig& config);

}  // namespace brug::portal
