#include "gateway/portal/portal_config.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace brug::portal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Status bad(const std::string& file, const std::string& key, const std::string& why) {
  return Status::error(Code::kInvalidArgument, file + ": " + key + ": " + why);
}

Status only(const json& object, const std::set<std::string>& keys, const std::string& file,
            const std::string& where) {
  for (const auto& [k, v] : object.items()) {
    if (!keys.contains(k)) return bad(file, where + k, "unknown key");
  }
  return Status::ok();
}

}  // namespace

Result<PortalConfig> load_portal_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::error(Code::kIo, path + ": cannot read the portal configuration");
  std::stringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, false);
  if (!j.is_object()) return bad(path, "(file)", "is not a JSON object");
  BRUG_RETURN_IF_ERROR(only(j,
                            {"organisation", "role", "gateway", "listen", "data_dir", "catalogue",
                             "sync_every_s", "partners"},
                            path, ""));
  const fs::path base = fs::absolute(path).parent_path();
  const auto resolve = [&](const std::string& p) {
    return fs::path(p).is_absolute() ? p : (base / p).lexically_normal().string();
  };
  const auto text_of = [&](const json& o, const char* key, const std::string& where,
                           std::string& out) -> Status {
    if (!o.contains(key) || !o[key].is_string() || o[key].get<std::string>().empty()) {
      return bad(path, where + key, "is required (a non-empty string)");
    }
    out = o[key].get<std::string>();
    return Status::ok();
  };

  PortalConfig c;
  c.file = path;
  BRUG_RETURN_IF_ERROR(text_of(j, "organisation", "", c.organisation));
  std::string role;
  BRUG_RETURN_IF_ERROR(text_of(j, "role", "", role));
  const auto parsed = parse_role(role);
  if (!parsed ||
      (*parsed != Role::kProject && *parsed != Role::kGemeente && *parsed != Role::kAuditor)) {
    return bad(path, "role", "must be project, gemeente or auditor");
  }
  c.role = *parsed;

  if (!j.contains("gateway") || !j["gateway"].is_object()) {
    return bad(path, "gateway", "is required (an object)");
  }
  const json& g = j["gateway"];
  BRUG_RETURN_IF_ERROR(
      only(g, {"url", "ca_file", "cert_file", "key_file", "public_key"}, path, "gateway."));
  std::string url;
  BRUG_RETURN_IF_ERROR(text_of(g, "url", "gateway.", url));
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "https" || uri.getHost().empty()) throw Poco::SyntaxException(url);
    c.gateway.host = uri.getHost();
    c.gateway.port = uri.getPort();
  } catch (const Poco::Exception&) {
    return bad(path, "gateway.url", "must be https://HOST:PORT");
  }
  BRUG_RETURN_IF_ERROR(text_of(g, "ca_file", "gateway.", c.gateway.ca_file));
  BRUG_RETURN_IF_ERROR(text_of(g, "cert_file", "gateway.", c.gateway.cert_file));
  BRUG_RETURN_IF_ERROR(text_of(g, "key_file", "gateway.", c.gateway.key_file));
  c.gateway.ca_file = resolve(c.gateway.ca_file);
  c.gateway.cert_file = resolve(c.gateway.cert_file);
  c.gateway.key_file = resolve(c.gateway.key_file);
  if (g.contains("public_key")) {
    if (!g["public_key"].is_string() || g["public_key"].get<std::string>().size() != 64) {
      return bad(path, "gateway.public_key", "must be 64 hex digits");
    }
    c.gateway_public_key = g["public_key"].get<std::string>();
  }
  if (c.role == Role::kAuditor && c.gateway_public_key.empty()) {
    return bad(path, "gateway.public_key", "is required for an auditor's portal");
  }

  if (j.contains("listen")) {
    const json& l = j["listen"];
    if (!l.is_object()) return bad(path, "listen", "must be an object");
    BRUG_RETURN_IF_ERROR(only(l, {"host", "port"}, path, "listen."));
    if (l.contains("host")) BRUG_RETURN_IF_ERROR(text_of(l, "host", "listen.", c.listen_host));
    if (l.contains("port")) {
      if (!l["port"].is_number_integer() || l["port"].get<std::int64_t>() < 0 ||
          l["port"].get<std::int64_t>() > 65535) {
        return bad(path, "listen.port", "must be a number from 0 to 65535");
      }
      c.listen_port = static_cast<std::uint16_t>(l["port"].get<int>());
    }
  }
  BRUG_RETURN_IF_ERROR(text_of(j, "data_dir", "", c.data_dir));
  c.data_dir = resolve(c.data_dir);
  BRUG_RETURN_IF_ERROR(text_of(j, "catalogue", "", c.catalogue_file));
  c.catalogue_file = resolve(c.catalogue_file);
  if (j.contains("sync_every_s")) {
    if (!j["sync_every_s"].is_number_integer() || j["sync_every_s"].get<std::int64_t>() < 0 ||
        j["sync_every_s"].get<std::int64_t>() > 86400) {
      return bad(path, "sync_every_s", "must be a number of seconds from 0 to 86400");
    }
    c.sync_every_s = j["sync_every_s"].get<int>();
  }
  if (j.contains("partners")) {
    if (!j["partners"].is_array() || j["partners"].size() > 100) {
      return bad(path, "partners", "must be a list of at most 100 {\"id\", \"name\"}");
    }
    for (std::size_t i = 0; i < j["partners"].size(); ++i) {
      const json& p = j["partners"][i];
      const std::string where = "partners[" + std::to_string(i) + "].";
      if (!p.is_object()) return bad(path, where, "must be an object");
      BRUG_RETURN_IF_ERROR(only(p, {"id", "name"}, path, where));
      std::string id, name;
      BRUG_RETURN_IF_ERROR(text_of(p, "id", where, id));
      BRUG_RETURN_IF_ERROR(text_of(p, "name", where, name));
      c.partners.emplace_back(id, name);
    }
  }
  return c;
}

std::string portal_db_path(const PortalConfig& config) {
  return (fs::path(config.data_dir) / "portal.db").string();
}

}  // namespace brug::portal
