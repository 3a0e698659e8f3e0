#include "gateway/app/config.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "gateway/audit/tlog.h"
#include "gateway/identity/json_text.h"

namespace brug::gateway {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(std::string file, std::string text) : file_(std::move(file)), text_(std::move(text)) {}

  Status error(const std::vector<std::string>& path, const std::string& what) const {
    std::string key;
    for (const auto& p : path) key += (key.empty() ? "" : ".") + p;
    return Status::error(
        Code::kInvalidArgument,
        file_ + ":" + std::to_string(line_of_key(text_, path)) + ": " + key + ": " + what);
  }

  // Every key of `obj` must be one of `allowed`.
  Status only_keys(const json& obj, const std::vector<std::string>& at,
                   const std::set<std::string>& allowed) const {
    for (const auto& [k, v] : obj.items()) {
      if (!allowed.contains(k)) {
        auto path = at;
        path.push_back(k);
        return error(path, "unknown key");
      }
    }
    return Status::ok();
  }

  Status object(const json& parent, const std::vector<std::string>& path, const json** out) const {
    const json* v = find(parent, path.back());
    *out = v;
    if (v != nullptr && !v->is_object()) return error(path, "must be an object");
    return Status::ok();
  }

  Status string(const json& parent, const std::vector<std::string>& path, std::string& out,
                bool required) const {
    const json* v = find(parent, path.back());
    if (v == nullptr) return required ? error(path, "is required") : Status::ok();
    if (!v->is_string()) return error(path, "must be a string");
    out = v->get<std::string>();
    if (required && out.empty()) return error(path, "must not be empty");
    return Status::ok();
  }

  Status boolean(const json& parent, const std::vector<std::string>& path, bool& out) const {
    const json* v = find(parent, path.back());
    if (v == nullptr) return Status::ok();
    if (!v->is_boolean()) return error(path, "must be true or false");
    out = v->get<bool>();
    return Status::ok();
  }

  Status strings(const json& parent, const std::vector<std::string>& path,
                 std::vector<std::string>& out) const {
    const json* v = find(parent, path.back());
    if (v == nullptr) return Status::ok();
    if (!v->is_array()) return error(path, "must be a list of strings");
    for (const auto& e : *v) {
      if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
        return error(path, "must be a list of strings");
      }
      out.push_back(e.get<std::string>());
    }
    return Status::ok();
  }

  template <class Int>
  Status integer(const json& parent, const std::vector<std::string>& path, Int& out,
                 std::int64_t min, std::int64_t max) const {
    const json* v = find(parent, path.back());
    if (v == nullptr) return Status::ok();
    if (!v->is_number_integer() || v->get<std::int64_t>() < min || v->get<std::int64_t>() > max) {
      return error(path,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    out = static_cast<Int>(v->get<std::int64_t>());
    return Status::ok();
  }

 private:
  static const json* find(const json& parent, const std::string& key) {
    auto it = parent.find(key);
    return it == parent.end() ? nullptr : &*it;
  }

  std::string file_;
  std::string text_;
};

std::string resolve(const std::filesystem::path& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

}  // namespace

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(Code::kNotFound, path + ": cannot read the configuration file");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();

  json doc;
  auto parsed = parse_json_text(path, text);
  if (!parsed) return parsed.status();
  doc = std::move(parsed).value();
  Reader r(path, text);
  if (!doc.is_object()) return r.error({}, "the file must hold a JSON object");

  Config c;
  c.file = path;
  BRUG_RETURN_IF_ERROR(
      r.only_keys(doc, {},
                  {"listen", "tls", "registry_file", "key_dir", "storage", "policies", "server",
                   "log", "audit", "reports", "identity", "metrics", "logboek"}));
  const json* listen = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"listen"}, &listen));
  if (listen != nullptr) {
    BRUG_RETURN_IF_ERROR(r.only_keys(*listen, {"listen"}, {"host", "port"}));
    BRUG_RETURN_IF_ERROR(r.string(*listen, {"listen", "host"}, c.host, false));
    BRUG_RETURN_IF_ERROR(r.integer(*listen, {"listen", "port"}, c.port, 0, 65535));
  }
  const json* tls = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"tls"}, &tls));
  if (tls == nullptr) return r.error({"tls"}, "is required");
  BRUG_RETURN_IF_ERROR(r.only_keys(*tls, {"tls"}, {"ca_file", "cert_file", "key_file"}));
  BRUG_RETURN_IF_ERROR(r.string(*tls, {"tls", "ca_file"}, c.tls_ca_file, true));
  BRUG_RETURN_IF_ERROR(r.string(*tls, {"tls", "cert_file"}, c.tls_cert_file, true));
  BRUG_RETURN_IF_ERROR(r.string(*tls, {"tls", "key_file"}, c.tls_key_file, true));
  BRUG_RETURN_IF_ERROR(r.string(doc, {"registry_file"}, c.registry_file, true));
  BRUG_RETURN_IF_ERROR(r.string(doc, {"key_dir"}, c.key_dir, true));

  const json* storage = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"storage"}, &storage));
  if (storage == nullptr) return r.error({"storage"}, "is required");
  BRUG_RETURN_IF_ERROR(
      r.only_keys(*storage, {"storage"}, {"sqlite_path", "postgresql", "max_connections"}));
  BRUG_RETURN_IF_ERROR(r.string(*storage, {"storage", "sqlite_path"}, c.sqlite_path, false));
  BRUG_RETURN_IF_ERROR(r.string(*storage, {"storage", "postgresql"}, c.postgresql_url, false));
  BRUG_RETURN_IF_ERROR(
      r.integer(*storage, {"storage", "max_connections"}, c.storage_max_connections, 1, 1000));
  if (c.sqlite_path.empty() == c.postgresql_url.empty()) {
    return r.error({"storage"}, "needs exactly one of sqlite_path and postgresql");
  }
  if (!c.postgresql_url.empty()) {
    // The message names the key, never the URL (it might hold a password).
    if (Status s = adapters::check_postgres_url(c.postgresql_url); !s.is_ok()) {
      return r.error({"storage", "postgresql"}, s.message());
    }
  }

  const json* policies = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"policies"}, &policies));
  if (policies == nullptr) return r.error({"policies"}, "is required");
  BRUG_RETURN_IF_ERROR(r.only_keys(*policies, {"policies"}, {"dir", "catalogue"}));
  BRUG_RETURN_IF_ERROR(r.string(*policies, {"policies", "dir"}, c.policy_dir, true));
  BRUG_RETURN_IF_ERROR(r.string(*policies, {"policies", "catalogue"}, c.catalogue_file, true));

  const json* server = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"server"}, &server));
  if (server != nullptr) {
    BRUG_RETURN_IF_ERROR(
        r.only_keys(*server, {"server"},
                    {"threads", "max_queued", "keep_alive_requests", "keep_alive_timeout_s",
                     "timeout_s", "max_body_bytes", "shutdown_grace_s", "handshake_timeout_s",
                     "head_timeout_s", "max_connections_per_address", "max_connections"}));
    BRUG_RETURN_IF_ERROR(r.integer(*server, {"server", "threads"}, c.threads, 1, 512));
    BRUG_RETURN_IF_ERROR(r.integer(*server, {"server", "max_queued"}, c.max_queued, 1, 10000));
    BRUG_RETURN_IF_ERROR(
        r.integer(*server, {"server", "keep_alive_requests"}, c.keep_alive_requests, 1, 100000));
    BRUG_RETURN_IF_ERROR(
        r.integer(*server, {"server", "keep_alive_timeout_s"}, c.keep_alive_timeout_s, 1, 300));
    BRUG_RETURN_IF_ERROR(r.integer(*server, {"server", "timeout_s"}, c.timeout_s, 1, 300));
    BRUG_RETURN_IF_ERROR(
        r.integer(*server, {"server", "handshake_timeout_s"}, c.handshake_timeout_s, 1, 300));
    BRUG_RETURN_IF_ERROR(
        r.integer(*server, {"server", "head_timeout_s"}, c.head_timeout_s, 1, 300));
    BRUG_RETURN_IF_ERROR(r.integer(*server, {"server", "max_connections_per_address"},
                                   c.max_connections_per_address, 1, 100000));
    BRUG_RETURN_IF_ERROR(
        r.integer(*server, {"server", "max_connections"}, c.max_connections, 1, 100000));
    BRUG_RETURN_IF_ERROR(r.integer(*server, {"server", "max_body_bytes"}, c.max_body_bytes, 1024,
                                   std::int64_t{256} << 20));
    BRUG_RETURN_IF_ERROR(
        r.integer(*server, {"server", "shutdown_grace_s"}, c.shutdown_grace_s, 0, 600));
  }
  const json* audit = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"audit"}, &audit));
  if (audit != nullptr) {
    BRUG_RETURN_IF_ERROR(
        r.only_keys(*audit, {"audit"},
                    {"checkpoint_every_events", "checkpoint_every_s", "origin", "witnesses"}));
    if (const json* w = audit->contains("witnesses") ? &(*audit)["witnesses"] : nullptr) {
      if (!w->is_array()) return r.error({"audit", "witnesses"}, "must be an array");
      for (std::size_t i = 0; i < w->size(); ++i) {
        const json& item = (*w)[i];
        const std::vector<std::string> at = {"audit", "witnesses", std::to_string(i)};
        if (!item.is_object()) return r.error(at, "must be an object");
        BRUG_RETURN_IF_ERROR(r.only_keys(item, at, {"name", "public_key"}));
        Config::Witness witness;
        BRUG_RETURN_IF_ERROR(r.string(item, {"audit", "witnesses", "name"}, witness.name, true));
        BRUG_RETURN_IF_ERROR(
            r.string(item, {"audit", "witnesses", "public_key"}, witness.public_key, true));
        if (!valid_note_key_name(witness.name)) {
          return r.error(at, "name must be printable ASCII without spaces or '+'");
        }
        if (witness.public_key.size() != 64 ||
            witness.public_key.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return r.error(at, "public_key must be 64 lowercase hex digits");
        }
        c.audit_witnesses.push_back(std::move(witness));
      }
    }
    BRUG_RETURN_IF_ERROR(r.string(*audit, {"audit", "origin"}, c.audit_origin, false));
    if (!c.audit_origin.empty() && !valid_note_key_name(c.audit_origin)) {
      return r.error({"audit", "origin"}, "must be printable ASCII without spaces or '+'");
    }
    BRUG_RETURN_IF_ERROR(r.integer(*audit, {"audit", "checkpoint_every_events"},
                                   c.audit_checkpoint_every_events, 1, 1000000));
    BRUG_RETURN_IF_ERROR(
        r.integer(*audit, {"audit", "checkpoint_every_s"}, c.audit_checkpoint_every_s, 1, 86400));
  }
  const json* logboek = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"logboek"}, &logboek));
  if (logboek != nullptr) {
    BRUG_RETURN_IF_ERROR(r.only_keys(*logboek, {"logboek"}, {"processing_activities"}));
    const json* activities = nullptr;
    BRUG_RETURN_IF_ERROR(r.object(*logboek, {"logboek", "processing_activities"}, &activities));
    if (activities != nullptr) {
      for (const auto& [purpose, id] : activities->items()) {
        std::string value;
        BRUG_RETURN_IF_ERROR(
            r.string(*activities, {"logboek", "processing_activities", purpose}, value, true));
        c.processing_activities[purpose] = value;
      }
    }
  }
  const json* reports = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"reports"}, &reports));
  if (reports != nullptr) {
    BRUG_RETURN_IF_ERROR(r.only_keys(*reports, {"reports"}, {"delay_days"}));
    BRUG_RETURN_IF_ERROR(
        r.integer(*reports, {"reports", "delay_days"}, c.report_delay_days, 0, 366));
  }
  const json* identity = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"identity"}, &identity));
  if (identity != nullptr) {
    BRUG_RETURN_IF_ERROR(r.only_keys(*identity, {"identity"}, {"cn_fallback"}));
    BRUG_RETURN_IF_ERROR(r.boolean(*identity, {"identity", "cn_fallback"}, c.identity_cn_fallback));
  }
  const json* metrics = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"metrics"}, &metrics));
  if (metrics != nullptr) {
    BRUG_RETURN_IF_ERROR(r.only_keys(*metrics, {"metrics"}, {"organisations"}));
    BRUG_RETURN_IF_ERROR(
        r.strings(*metrics, {"metrics", "organisations"}, c.metrics_organisations));
  }
  const json* log = nullptr;
  BRUG_RETURN_IF_ERROR(r.object(doc, {"log"}, &log));
  if (log != nullptr) {
    BRUG_RETURN_IF_ERROR(r.only_keys(*log, {"log"}, {"file"}));
    BRUG_RETURN_IF_ERROR(r.string(*log, {"log", "file"}, c.log_file, false));
  }

  const auto base = std::filesystem::path(path).parent_path();
  for (std::string* p :
       {&c.tls_ca_file, &c.tls_cert_file, &c.tls_key_file, &c.registry_file, &c.key_dir,
        &c.sqlite_path, &c.policy_dir, &c.catalogue_file, &c.log_file}) {
    *p = resolve(base, *p);
  }
  return c;
}

Result<std::unique_ptr<adapters::Database>> open_database(const Config& config) {
  if (!config.postgresql_url.empty()) {
    return adapters::open_postgres(
        {.url = config.postgresql_url, .max_connections = config.storage_max_connections});
  }
  return adapters::open_sqlite(
      {.path = config.sqlite_path, .max_connections = config.storage_max_connections});
}

Result<std::map<std::uint32_t, std::int64_t>> kek_versions_in_use(adapters::Database& db) {
  std::map<std::uint32_t, std::int64_t> out;
  BRUG_RETURN_IF_ERROR(db.read([&](adapters::Stores& s) -> Status {
    auto v = s.exchange.wrapped_key_versions();
    if (!v) return v.status();
    out = std::move(v).value();
    return Status::ok();
  }));
  return out;
}

Status check_kek_versions(adapters::Database& db, const crypto::KekRing& keks,
                          const std::string& key_dir) {
  auto in_use = kek_versions_in_use(db);
  if (!in_use) return in_use.status();
  for (const auto& [version, count] : *in_use) {
    if (keks.find(version) == nullptr) {
      return Status::error(Code::kFailedPrecondition,
                           std::to_string(count) + " data keys in the database are wrapped under " +
                               key_dir + "/" + crypto::KeyDir::kKekPrefix +
                               std::to_string(version) +
                               ", which is missing: this key directory is older than the "
                               "database (copy the newest one, or restore its matching backup)");
    }
  }
  return Status::ok();
}

ClientIdentity dev_identity(const Config& config, const std::string& org) {
  const auto pki = std::filesystem::path(config.file).parent_path() / "pki";
  const bool local =
      config.host == "127.0.0.1" || config.host == "0.0.0.0" || config.host == "localhost";
  return {.host = local ? "localhost" : config.host,
          .port = config.port,
          .cert_file = (pki / (org + ".pem")).string(),
          .key_file = (pki / (org + ".key")).string(),
          .ca_file = config.tls_ca_file};
}

}  // namespace brug::gateway
