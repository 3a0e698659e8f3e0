#include "gateway/cli/init.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto/keydir.h"
#include "gateway/cli/dev_pki.h"
#include "policies/vocabulary.h"

namespace brug::gateway {
namespace {

namespace fs = std::filesystem;

struct DemoOrg {
  const char* id;
  const char* name;
  Role role;
  const char* oin;  // synthetic, for the OIN path of certificate mapping
};

// Synthetic organisations after the source documents; the OINs are made up (prefix 00000099).
constexpr DemoOrg kDemoOrgs[] = {
    {"gemeente-oude-ijsselstreek", "Gemeente Oude IJsselstreek", Role::kGemeente,
     "00000099000000001000"},
    {"laborijn", "Laborijn", Role::kParticipatiebedrijf, "00000099000000002000"},
    {"reconnact-leusden", "ReconnAct Leusden", Role::kProject, ""},
    {"jobhulpmaatje-soest", "JobHulpMaatje Soest", Role::kProject, ""},
    {"fg-oude-ijsselstreek", "Functionaris gegevensbescherming Oude IJsselstreek", Role::kAuditor,
     ""},
};

Status write_file(const fs::path& path, const std::string& content, mode_t mode) {
  // Create with the final mode so a private key is never readable by others, not even briefly.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::error(Code::kIo, path.string() + ": cannot create file");
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Status::error(Code::kIo, path.string() + ": write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::close(fd) != 0) {
    return Status::error(Code::kIo, path.string() + ": cannot finish file");
  }
  return Status::ok();
}

Status write_pair(const fs::path& pki, const std::string& name, const PemPair& pair) {
  BRUG_RETURN_IF_ERROR(write_file(pki / (name + ".key"), pair.key_pem, 0600));
  return write_file(pki / (name + ".pem"), pair.cert_pem, 0644);
}

Status make_private_dir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) return Status::error(Code::kIo, p.string() + ": cannot create folder");
  if (::chmod(p.c_str(), 0700) != 0) return Status::error(Code::kIo, p.string() + ": chmod");
  return Status::ok();
}

// The shipped field catalogue and default policies, so the setup is self-contained and its
// policies can be edited without touching the source tree.
Status copy_policies(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to / "default", ec);
  if (!ec) fs::copy_file(from / "catalogue.json", to / "catalogue.json", ec);
  if (!ec) fs::copy(from / "default", to / "default", fs::copy_options::recursive, ec);
  if (ec) {
    return Status::error(Code::kIo, "cannot copy the shipped policies from " + from.string() +
                                        " to " + to.string() + ": " + ec.message());
  }
  return Status::ok();
}

// One `brug portal` configuration per demo organisation that has a portal view (project,
// gemeente, auditor), each on its own loopback port from 8601, with its own data folder.
Status write_portal_configs(const fs::path& dir, const InitOptions& o) {
  auto keys = crypto::KeyDir::load((dir / "keys").string());
  if (!keys) return keys.status();
  const std::string public_key = keys->signing_key().verify_key().to_hex();
  BRUG_RETURN_IF_ERROR(make_private_dir(dir / "portal"));
  nlohmann::ordered_json partners = nlohmann::ordered_json::array();
  for (const DemoOrg& d : kDemoOrgs) {
    if (d.role == Role::kProject) partners.push_back({{"id", d.id}, {"name", d.name}});
  }
  const std::string host = o.host == "0.0.0.0" || o.host == "127.0.0.1" ? "localhost" : o.host;
  int port = 8601;
  for (const DemoOrg& d : kDemoOrgs) {
    if (d.role != Role::kProject && d.role != Role::kGemeente && d.role != Role::kAuditor) continue;
    nlohmann::ordered_json gateway = {{"url", "https://" + host + ":" + std::to_string(o.port)},
                                      {"ca_file", "../pki/ca.pem"},
                                      {"cert_file", std::string("../pki/") + d.id + ".pem"},
                                      {"key_file", std::string("../pki/") + d.id + ".key"}};
    if (d.role == Role::kAuditor) gateway["public_key"] = public_key;
    nlohmann::ordered_json portal = {{"organisation", d.id},
                                     {"role", to_string(d.role)},
                                     {"gateway", gateway},
                                     {"listen", {{"host", "127.0.0.1"}, {"port", port++}}},
                                     {"data_dir", std::string("data/") + d.id},
                                     {"catalogue", "../policies/catalogue.json"},
                                     {"sync_every_s", 30}};
    if (d.role == Role::kGemeente) portal["partners"] = partners;
    BRUG_RETURN_IF_ERROR(
        write_file(dir / "portal" / (std::string(d.id) + ".json"), portal.dump(2) + "\n", 0644));
  }
  return Status::ok();
}

}  // namespace

Status init_dev_setup(const InitOptions& o, std::ostream& out) {
  const fs::path dir = fs::absolute(o.dir);
  const fs::path config = dir / "brug.json";
  if (fs::exists(config)) {
    return Status::error(Code::kAlreadyExists,
                         config.string() + " exists: this folder already holds a brug setup");
  }
  BRUG_RETURN_IF_ERROR(make_private_dir(dir));
  const fs::path pki = dir / "pki";
  BRUG_RETURN_IF_ERROR(make_private_dir(pki));

  auto ca = make_dev_ca("brug development CA");
  if (!ca) return ca.status();
  BRUG_RETURN_IF_ERROR(write_pair(pki, "ca", *ca));
  auto server = issue_dev_cert(*ca, {.common_name = "localhost",
                                     .organisation = "brug gateway",
                                     .dns_names = {"localhost"},
                                     .ip_addresses = {"127.0.0.1", "::1"},
                                     .server = true});
  if (!server) return server.status();
  BRUG_RETURN_IF_ERROR(write_pair(pki, "server", *server));

  nlohmann::ordered_json orgs = nlohmann::ordered_json::array();
  for (const DemoOrg& d : kDemoOrgs) {
    auto cert =
        issue_dev_cert(*ca, {.common_name = d.id, .organisation = d.name, .serial_number = d.oin});
    if (!cert) return cert.status();
    BRUG_RETURN_IF_ERROR(write_pair(pki, d.id, *cert));
    nlohmann::ordered_json e = {{"id", d.id}, {"name", d.name}, {"role", to_string(d.role)}};
    if (*d.oin != '\0') e["oin"] = d.oin;
    e["cert_cn"] = d.id;
    orgs.push_back(e);
  }
  BRUG_RETURN_IF_ERROR(write_file(dir / "organisations.json",
                                  nlohmann::ordered_json{{"organisations", orgs}}.dump(2) + "\n",
                                  0644));

  BRUG_RETURN_IF_ERROR(crypto::KeyDir::create((dir / "keys").string()));
  BRUG_RETURN_IF_ERROR(copy_policies(
      o.shipped_policies.empty() ? BRUG_POLICY_SOURCE_DIR : o.shipped_policies, dir / "policies"));

  const nlohmann::ordered_json cfg = {
      {"listen", {{"host", o.host}, {"port", o.port}}},
      {"tls",
       {{"ca_file", "pki/ca.pem"},
        {"cert_file", "pki/server.pem"},
        {"key_file", "pki/server.key"}}},
      {"registry_file", "organisations.json"},
      {"key_dir", "keys"},
      {"storage", o.postgresql_url.empty()
                      ? nlohmann::ordered_json{{"sqlite_path", "brug.db"}}
                      : nlohmann::ordered_json{{"postgresql", o.postgresql_url}}},
      {"policies", {{"dir", "policies/default"}, {"catalogue", "policies/catalogue.json"}}},
      {"server",
       {{"threads", 16},
        {"max_queued", 64},
        {"keep_alive_requests", 1000},
        {"keep_alive_timeout_s", 5},
        {"timeout_s", 10},
        {"handshake_timeout_s", 5},
        {"head_timeout_s", 5},
        {"max_connections_per_address", 32},
        {"max_connections", 1024},
        {"max_body_bytes", 1048576},
        {"shutdown_grace_s", 10}}},
      // The development PKI names the projects and the auditor by CN only.
      {"identity", {{"cn_fallback", true}}},
      {"metrics", {{"organisations", nlohmann::ordered_json::array({"fg-oude-ijsselstreek"})}}},
  };
  BRUG_RETURN_IF_ERROR(write_file(config, cfg.dump(2) + "\n", 0644));
  BRUG_RETURN_IF_ERROR(write_portal_configs(dir, o));

  out << "Development setup written to " << dir.string() << "\n"
      << "  config        " << config.string() << "\n"
      << "  CA            " << (pki / "ca.pem").string() << "\n"
      << "  organisations " << (dir / "organisations.json").string() << "\n";
  for (const DemoOrg& d : kDemoOrgs) {
    out << "    " << d.id << " (" << to_string(d.role) << "): pki/" << d.id << ".pem + .key\n";
  }
  out << "  portals       " << (dir / "portal").string()
      << "/ORG.json (brug portal --config ...)\n";
  out << "Start it:  brug serve --config " << config.string() << "\n"
      << "Try it:    curl --cacert " << (pki / "ca.pem").string() << " --cert "
      << (pki / "gemeente-oude-ijsselstreek.pem").string() << " --key "
      << (pki / "gemeente-oude-ijsselstreek.key").string() << " https://" << o.host << ":" << o.port
      << "/healthz\n";
  return Status::ok();
}

}  // namespace brug::gateway
