#include "gateway/app/gateway.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "adapters/stores.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "gateway/app/openapi.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit_api/audit_routes.h"
#include "gateway/consent_api/consent_routes.h"
#include "gateway/disclosure/pipeline.h"
#include "gateway/exchange/exchange.h"
#include "gateway/http/log.h"
#include "gateway/http/metrics.h"
#include "gateway/http/server.h"
#include "gateway/identity/registry.h"
#include "gateway/reports/reports.h"
#include "policies/catalogue.h"
#include "policies/policy_set.h"

namespace brug::gateway {

struct Gateway::State {
  Config config;
  Logger log;
  OrgRegistry registry;
  crypto::Env* env = nullptr;
  // Held shared while serving, so `brug keys rotate` refuses to run under us (crypto/keydir.h).
  std::optional<crypto::KeyDirLock> key_lock;
  std::unique_ptr<crypto::KeyDir> keys;
  std::unique_ptr<adapters::Database> db;
  std::optional<Catalogue> catalogue;
  std::optional<PolicySet> policies;
  std::unique_ptr<AuditLog> audit;
  std::optional<ExchangeDeps> exchange;
  std::optional<ReportDeps> reports;
  std::unique_ptr<Pipeline> pipeline;
  Metrics metrics;
  std::unique_ptr<HttpsServer> server;
  // The last write probe of /healthz: at most one every kWriteProbeEvery.
  std::mutex probe_mu;
  std::optional<std::chrono::steady_clock::time_point> probed_at;
  bool can_commit = false;

  State(Config c, std::ostream& out, OrgRegistry r)
      : config(std::move(c)), log(out), registry(std::move(r)) {}
};

namespace {

ServerOptions server_options(const Config& c) {
  return {.config_file = c.file,
          .host = c.host,
          .port = c.port,
          .tls_ca_file = c.tls_ca_file,
          .tls_cert_file = c.tls_cert_file,
          .tls_key_file = c.tls_key_file,
          .threads = c.threads,
          .max_queued = c.max_queued,
          .keep_alive_requests = c.keep_alive_requests,
          .keep_alive_timeout_s = c.keep_alive_timeout_s,
          .timeout_s = c.timeout_s,
          .handshake_timeout_s = c.handshake_timeout_s,
          .head_timeout_s = c.head_timeout_s,
          .max_connections_per_address = c.max_connections_per_address,
          .max_connections = c.max_connections,
          .max_body_bytes = c.max_body_bytes,
          .shutdown_grace_s = c.shutdown_grace_s};
}

constexpr std::chrono::seconds kWriteProbeEvery{5};

// Whether the store can commit: a real write (the registry the gateway wrote at start, written
// again), at most once every kWriteProbeEvery; between probes the last answer stands.
bool can_commit(Gateway::State& s) {
  std::lock_guard lock(s.probe_mu);
  const auto now = std::chrono::steady_clock::now();
  if (!s.probed_at || now - *s.probed_at >= kWriteProbeEvery) {
    const Status probe = s.registry.sync_to(*s.db, s.env->now_rfc3339());
    if (!probe.is_ok() && s.can_commit) s.log.error("storage_cannot_commit", {});
    s.can_commit = probe.is_ok();
    s.probed_at = now;
  }
  return s.can_commit;
}

// /healthz (ready: the store reads and commits), /livez (the process runs) and /v1/openapi.yaml:
// any registered organisation; /metrics: the configured operators. Nothing personal; only
// refusals are audited.
void add_builtin_routes(Gateway::State& s) {
  s.pipeline->add(
      {"GET", "/healthz", {}, "healthz", "", Body::kNone, [&s](Call&) {
         const bool reads =
             s.db->read([](adapters::Stores& st) { return st.audit.size().status(); }).is_ok();
         const bool commits = reads && can_commit(s);
         nlohmann::json j = {{"status", commits ? "ok" : "degraded"},
                             {"version", BRUG_VERSION},
                             {"storage", commits ? "ok"
                                         : reads ? "read-only"
                                                 : "unavailable"}};
         return Answer::respond(json_response(commits ? 200 : 503, j.dump()));
       }});
  s.pipeline->add({"GET", "/livez", {}, "livez", "", Body::kNone, [](Call&) {
                     nlohmann::json j = {{"status", "alive"}, {"version", BRUG_VERSION}};
                     return Answer::respond(json_response(200, j.dump()));
                   }});
  s.pipeline->add({"GET", "/v1/openapi.yaml", {}, "openapi", "", Body::kNone, [](Call&) {
                     Response r;
                     r.content_type = "application/yaml";
                     r.body = std::string(openapi_yaml());
                     return Answer::respond(std::move(r));
                   }});
  s.pipeline->add({"GET", "/metrics", {}, "metrics", "", Body::kNone, [&s](Call& call) {
                     // Operators only: the counts tell how much is pushed and erased.
                     const auto& operators = s.config.metrics_organisations;
                     if (std::find(operators.begin(), operators.end(), call.caller.id) ==
                         operators.end()) {
                       return Answer::refuse(forbidden_problem(
                           "Only an organisation named in metrics.organisations may read "
                           "the metrics."));
                     }
                     Response r;
                     r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                     r.body = s.metrics.render(s.server ? s.server->refused_connections() : 0);
                     return Answer::respond(std::move(r));
                   }});
}

}  // namespace

Gateway::Gateway(std::unique_ptr<State> state) : state_(std::move(state)) {}
Gateway::~Gateway() { stop(); }

std::vector<std::string> Gateway::routes() const {
  std::vector<std::string> out;
  for (const auto& r : state_->pipeline->routes()) out.push_back(r.method + " " + r.pattern);
  return out;
}

std::uint16_t Gateway::port() const { return state_->server ? state_->server->port() : 0; }

Response Gateway::serve(Request& request) const { return state_->pipeline->serve(request); }

void Gateway::stop() {
  if (state_->server) state_->server->stop();
}

Result<std::unique_ptr<Gateway>> Gateway::start(const Config& config, std::ostream& log,
                                                Seams seams) {
  auto registry = OrgRegistry::load(config.registry_file);
  if (!registry) return registry.status();
  registry->set_mapping(config.identity_cn_fallback ? CertificateMapping::kOinOrCommonName
                                                    : CertificateMapping::kOinOnly);
  auto state = std::make_unique<State>(config, log, std::move(registry).value());
  State& s = *state;
  s.env = seams.env != nullptr ? seams.env : &crypto::Env::system();
  auto key_lock = crypto::KeyDirLock::acquire(config.key_dir, crypto::KeyDirLock::Mode::kShared);
  if (!key_lock) return key_lock.status();
  s.key_lock.emplace(std::move(key_lock).value());
  auto keys = crypto::KeyDir::load(config.key_dir);
  if (!keys) return keys.status();
  s.keys = std::make_unique<crypto::KeyDir>(std::move(keys).value());
  auto db = open_database(config);
  if (!db) return db.status();
  s.db = std::move(db).value();
  BRUG_RETURN_IF_ERROR(check_kek_versions(*s.db, s.keys->keks(), config.key_dir));
  if (seams.wrap_database) s.db = seams.wrap_database(std::move(s.db));
  BRUG_RETURN_IF_ERROR(s.registry.sync_to(*s.db, s.env->now_rfc3339()));
  auto catalogue = Catalogue::load(config.catalogue_file);
  if (!catalogue) return catalogue.status();
  s.catalogue = std::move(catalogue).value();
  auto policies = PolicySet::load(config.policy_dir, *s.catalogue);
  if (!policies) return policies.status();
  s.policies = std::move(policies).value();
  s.audit = std::make_unique<AuditLog>(
      *s.db, s.keys->signing_key(),
      AuditOptions{config.audit_checkpoint_every_events, config.audit_checkpoint_every_s}, *s.env);
  {
    AuditEvent loaded;
    loaded.request_id = "system";
    loaded.action = "policy.load";
    loaded.policy_set = s.policies->content_hash();
    loaded.decision = "permit";
    BRUG_RETURN_IF_ERROR(s.audit->append({loaded}));
  }
  // The chain, composed once; every route below is a use case of it.
  s.pipeline = std::make_unique<Pipeline>(s.registry, *s.audit, s.policies->content_hash(),
                                          config.max_body_bytes);
  add_builtin_routes(s);
  s.exchange.emplace(ExchangeDeps{*s.db, *s.audit, *s.keys, *s.catalogue, *s.policies, s.registry,
                                  *s.env, s.metrics, s.log});
  add_exchange_routes(*s.pipeline, *s.exchange);
  s.reports.emplace(ReportDeps{*s.db, *s.keys, *s.catalogue, *s.policies, s.registry, *s.env,
                               config.report_delay_days});
  add_report_routes(*s.pipeline, *s.reports);
  add_consent_routes(*s.pipeline, {*s.db, *s.audit, s.registry, *s.keys, *s.env});
  std::vector<std::pair<std::string, std::string>> witnesses;
  for (const auto& w : config.audit_witnesses) witnesses.emplace_back(w.name, w.public_key);
  add_audit_routes(*s.pipeline, {*s.audit, s.registry, *s.keys, *s.db, *s.env,
                                 config.audit_origin.empty() ? default_audit_origin(*s.keys)
                                                             : config.audit_origin,
                                 std::move(witnesses), config.processing_activities});

  const Pipeline* pipeline = s.pipeline.get();
  auto server = HttpsServer::start(
      server_options(config), [pipeline](Request& r) { return pipeline->serve(r); }, s.log,
      s.metrics);
  if (!server) return server.status();
  s.server = std::move(server).value();
  s.log.info("listening", {{"host", config.host},
                           {"port", std::int64_t{s.server->port()}},
                           {"organisations", static_cast<std::int64_t>(s.registry.all().size())},
                           {"certificate_mapping", std::string(to_string(s.registry.mapping()))},
                           {"schema_version", std::int64_t{s.db->schema_version()}},
                           {"storage", std::string(s.db->backend())},
                           {"policy_set", s.policies->content_hash()},
                           {"version", BRUG_VERSION}});
  return std::unique_ptr<Gateway>(new Gateway(std::move(state)));
}

}  // namespace brug::gateway
