#include "gateway/portal/portal_server.h"

#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <sodium.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "crypto/hash.h"
#include "crypto/secret.h"
#include "gateway/http/client.h"
#include "gateway/portal/audit_check.h"
#include "gateway/portal/csv_export.h"
#include "gateway/portal/feed_sync.h"
#include "gateway/portal/labels.h"
#include "gateway/portal/local_store.h"
#include "gateway/portal/outcome_form.h"
#include "gateway/portal/web_assets.h"
#include "policies/catalogue.h"

namespace brug::portal {

using nlohmann::json;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

constexpr std::size_t kMaxBody = 64 * 1024;
constexpr const char* kCsrfHeader = "X-CSRF-Token";

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> b(bytes);
  randombytes_buf(b.data(), b.size());
  return crypto::to_hex(b);
}

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// An answer in the making; problems in Dutch, never with the client's values.
struct Answer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;

  static Answer json_body(const json& j, int status = 200) {
    return {.status = status, .body = j.dump()};
  }
  static Answer error(int status, const std::string& message) {
    return {.status = status, .body = json{{"fout", message}}.dump()};
  }
};

// The route for the log: a fixed pattern, never the path itself (it is the client's text).
std::string route_label(const std::string& path) {
  static const std::set<std::string> kRoutes = {"/",
                                                "/app.css",
                                                "/app.js",
                                                "/api/session",
                                                "/api/sync",
                                                "/api/people",
                                                "/api/people.csv",
                                                "/api/outcomes",
                                                "/api/report",
                                                "/api/consents",
                                                "/api/consents/search",
                                                "/api/referrals",
                                                "/api/log/state",
                                                "/api/log/search",
                                                "/api/log/person",
                                                "/api/log/verify"};
  if (kRoutes.contains(path)) return path;
  if (path.starts_with("/api/people/") && path.ends_with("/outcome")) {
    return "/api/people/{ref}/outcome";
  }
  if (path.starts_with("/api/consents/") && path.ends_with("/withdraw")) {
    return "/api/consents/{id}/withdraw";
  }
  return "unmatched";
}

bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// Reads the members of a JSON form body: unknown members and wrong types are errors that name
// the member, never its value.
class Form {
 public:
  explicit Form(const json& j) : j_(j) {}
  bool only(std::initializer_list<const char*> keys) {
    std::set<std::string> allowed(keys.begin(), keys.end());
    for (const auto& [k, v] : j_.items()) {
      if (!allowed.contains(k)) return fail("onbekend veld in het formulier");
    }
    return true;
  }
  std::string text(const char* key, const char* label, bool required, std::size_t max = 200) {
    if (!j_.contains(key) || j_[key].is_null() ||
        (j_[key].is_string() && j_[key].get<std::string>().empty())) {
      if (required) fail(std::string(label) + ": vul dit in");
      return {};
    }
    if (!j_[key].is_string() || j_[key].get<std::string>().size() > max) {
      fail(std::string(label) + ": ongeldige waarde");
      return {};
    }
    return j_[key].get<std::string>();
  }
  std::string date(const char* key, const char* label, bool required) {
    std::string d = text(key, label, required, 10);
    if (!d.empty() && !is_date(d)) fail(std::string(label) + ": geen geldige datum (JJJJ-MM-DD)");
    return d;
  }
  std::string bsn(const char* key) {
    std::string b = text(key, "BSN", true, 9);
    if (!b.empty() && !is_valid_bsn(b)) fail("BSN: geen geldig burgerservicenummer (elfproef)");
    return b;
  }
  std::string choice(const char* key, const char* label, const std::set<std::string>& allowed,
                     bool required) {
    std::string v = text(key, label, required, 100);
    if (!v.empty() && !allowed.contains(v)) fail(std::string(label) + ": geen geldige keuze");
    return v;
  }
  bool fail(const std::string& message) {
    if (error_.empty()) error_ = message;
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  const json& j_;
  std::string error_;
};

const std::set<std::string>& consent_categories() {
  static const std::set<std::string> kCategories = {"contact", "profiel", "segmentatie",
                                                    "uitkomsten"};
  return kCategories;
}

}  // namespace

struct Portal::Impl {
  PortalConfig config;
  std::ostream& log;
  std::mutex log_mu;
  std::optional<Catalogue> catalogue;
  std::unique_ptr<LocalStore> store;

  std::mutex client_mu;
  std::unique_ptr<gateway::GatewayClient> client;

  std::mutex session_mu;
  std::string login_token;  // emptied once used
  struct Session {
    std::string csrf;
  };
  std::map<std::string, Session> sessions;

  std::mutex sync_mu;
  std::string last_sync_at, last_sync_problem;

  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
  std::thread sync_thread;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;

  Impl(PortalConfig c, std::ostream& l) : config(std::move(c)), log(l) {}

  std::string cookie_name() const { return "brug_portal_" + std::to_string(port); }

  Status sync() {
    Result<ApplyCounts> counts = Status::error(Code::kInternal, "not run");
    {
      std::lock_guard lock(client_mu);
      counts = sync_feed(*client, *store, config.role == Role::kProject);
    }
    std::lock_guard lock(sync_mu);
    if (!counts) {
      last_sync_problem = "bijwerken mislukt: " + counts.message();
      return counts.status();
    }
    last_sync_at = utc_now();
    last_sync_problem.clear();
    return Status::ok();
  }

  void sync_loop() {
    std::unique_lock lock(stop_mu);
    while (!stopping) {
      lock.unlock();
      const Status s = sync();
      if (!s.is_ok()) log_line("sync", 0, s.message());
      lock.lock();
      stop_cv.wait_for(lock, std::chrono::seconds(config.sync_every_s), [&] { return stopping; });
    }
  }

  void log_line(const std::string& what, int status, const std::string& note = "") {
    std::lock_guard lock(log_mu);
    log << json{{"ts", utc_now()}, {"event", what}, {"status", status}, {"note", note}}.dump()
        << "\n";
    log.flush();
  }

  // The Host header must name this portal: a page on another site that resolves its own name
  // to 127.0.0.1 (DNS rebinding) is refused.
  bool host_ok(const HTTPServerRequest& req) const {
    const std::string host = req.getHost();
    const std::string p = ":" + std::to_string(port);
    return host == "127.0.0.1" + p || host == "localhost" + p || host == config.listen_host + p ||
           host == "[::1]" + p;
  }

  std::optional<Session> session_of(const HTTPServerRequest& req) {
    Poco::Net::NameValueCollection cookies;
    req.getCookies(cookies);
    if (!cookies.has(cookie_name())) return std::nullopt;
    const std::string id = cookies.get(cookie_name());
    std::lock_guard lock(session_mu);
    for (const auto& [sid, s] : sessions) {
      if (same_secret(sid, id)) return s;
    }
    return std::nullopt;
  }

  Answer login(const Poco::URI& uri, HTTPServerResponse& resp) {
    std::string token;
    for (const auto& [k, v] : uri.getQueryParameters()) {
      if (k == "token") token = v;
    }
    std::string sid, csrf;
    {
      std::lock_guard lock(session_mu);
      if (login_token.empty() || !same_secret(login_token, token)) {
        return unauthorized_page();
      }
      login_token.clear();  // one time only
      sid = random_hex(32);
      csrf = random_hex(32);
      sessions[sid] = {csrf};
    }
    Poco::Net::HTTPCookie cookie(cookie_name(), sid);
    cookie.setPath("/");
    cookie.setHttpOnly(true);
    cookie.setSameSite(Poco::Net::HTTPCookie::SAME_SITE_STRICT);
    resp.addCookie(cookie);
    // Back to "/" so the token leaves the address bar and the history.
    return {
        .status = 303, .content_type = "text/plain", .body = "", .headers = {{"Location", "/"}}};
  }

  static Answer unauthorized_page() {
    return {.status = 401,
            .content_type = "text/html; charset=utf-8",
            .body =
                "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Geen "
                "toegang</title></head><body><main><h1>Geen toegang</h1><p>Open het portaal "
                "met de link die <code>brug portal</code> bij het starten liet zien. Die "
                "link werkt één keer; start het portaal opnieuw voor een nieuwe."
                "</p></main></body></html>"};
  }

  Answer asset(const std::string& name) {
    for (const WebAsset& a : web_assets()) {
      if (a.name != name) continue;
      std::string type = "text/html; charset=utf-8";
      if (name.ends_with(".css")) type = "text/css; charset=utf-8";
      if (name.ends_with(".js")) type = "text/javascript; charset=utf-8";
      return {.status = 200, .content_type = type, .body = std::string(a.bytes)};
    }
    return Answer::error(404, "niet gevonden");
  }

  Answer dispatch(HTTPServerRequest& req, HTTPServerResponse& resp, std::string& route) {
    if (!host_ok(req)) {
      route = "bad-host";
      return Answer::error(421, "onbekende host");
    }
    Poco::URI uri;
    try {
      uri = Poco::URI(req.getURI());
    } catch (const Poco::Exception&) {
      route = "bad-uri";
      return Answer::error(400, "ongeldig adres");
    }
    const std::string path = uri.getPath();
    const std::string& method = req.getMethod();
    if (path == "/login" && method == "GET") {
      route = "/login";
      return login(uri, resp);
    }
    const auto session = session_of(req);
    if (!session) {
      route = "unauthenticated";
      if (path.starts_with("/api/")) return Answer::error(401, "niet ingelogd");
      return unauthorized_page();
    }
    route = route_label(path);
    if (method == "GET" || method == "HEAD") {
      if (path == "/") return asset("index.html");
      if (path == "/app.css" || path == "/app.js") return asset(path.substr(1));
      return get_api(path, uri);
    }
    if (method != "POST") return Answer::error(405, "methode niet toegestaan");
    // CSRF: a state change needs the session's token in a header, which another site's page
    // cannot set, and an Origin (when sent) that is this portal.
    if (!req.has(kCsrfHeader) || !same_secret(req.get(kCsrfHeader), session->csrf)) {
      return Answer::error(403, "verzoek zonder geldig CSRF-token geweigerd");
    }
    if (req.has("Origin") && req.get("Origin") != "http://" + req.getHost()) {
      return Answer::error(403, "verzoek van een andere herkomst geweigerd");
    }
    if (req.getContentLength() > static_cast<std::streamsize>(kMaxBody)) {
      return Answer::error(413, "verzoek te groot");
    }
    std::string body;
    std::istream& in = req.stream();
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      body.append(buf, static_cast<std::size_t>(in.gcount()));
      if (body.size() > kMaxBody) return Answer::error(413, "verzoek te groot");
    }
    json j = body.empty() ? json::object() : json::parse(body, nullptr, false);
    if (!j.is_object()) return Answer::error(400, "het verzoek is geen JSON-object");
    return post_api(path, j);
  }

  // ---- shared -------------------------------------------------------------------------------

  json session_info(const std::string& csrf) {
    std::lock_guard lock(sync_mu);
    json partners = json::array();
    for (const auto& [id, name] : config.partners) partners.push_back({{"id", id}, {"name", name}});
    return {{"organisation", config.organisation},
            {"role", to_string(config.role)},
            {"csrf", csrf},
            {"partners", partners},
            {"last_sync", last_sync_at},
            {"sync_problem", last_sync_problem}};
  }

  json choices(const char* field) const {
    json out = json::array();
    if (const FieldSpec* s = catalogue->find(RecordType::kOutcome, field)) {
      for (const auto& v : s->values) out.push_back({{"value", v}, {"label", value_label(v)}});
    }
    return out;
  }

  Result<json> gateway_call(const std::string& method, const std::string& uri,
                            const json* body = nullptr) {
    std::lock_guard lock(client_mu);
    return client->json_call(method, uri, body);
  }

  static Answer gateway_failed(const Status& s) {
    // The gateway's problem titles and details never carry personal data (docs/API.md).
    return Answer::error(502, "de gateway weigerde of is niet bereikbaar: " + s.message());
  }

  Answer get_api(const std::string& path, const Poco::URI& uri) {
    const Role role = config.role;
    if (role == Role::kProject && path == "/api/people") {
      const auto people = store->people();
      const PeopleTable t = people_table(people);
      json deleted = json::array();
      for (const Person& p : people) {
        if (!p.deleted_at.empty()) deleted.push_back({{"ref", p.ref}, {"date", p.deleted_at}});
      }
      return Answer::json_body({{"columns", t.columns},
                                {"rows", t.rows},
                                {"deleted", deleted},
                                {"choices",
                                 {{"status", choices("status")},
                                  {"reden_gestopt", choices("reden_gestopt")},
                                  {"contract", choices("contract")}}}});
    }
    if (role == Role::kProject && path == "/api/people.csv") {
      Answer a{.status = 200,
               .content_type = "text/csv; charset=utf-8",
               .body = to_csv(people_table(store->people()))};
      a.headers["Content-Disposition"] = "attachment; filename=\"deelnemers.csv\"";
      return a;
    }
    if (role == Role::kGemeente && path == "/api/outcomes") {
      json rows = json::array();
      for (const json& o : store->outcomes_received()) {
        json r = {{"bsn", o["bsn"]}, {"project", o["from"]}};
        for (const char* f : {"status", "date", "reden_gestopt", "uren_per_week"}) {
          r[f] = o["record"].contains(f) ? display_value(f, o["record"][f]) : "";
        }
        rows.push_back(r);
      }
      return Answer::json_body({{"outcomes", rows}});
    }
    if (role == Role::kGemeente && path == "/api/report") {
      std::string from, to;
      for (const auto& [k, v] : uri.getQueryParameters()) {
        if (k == "from") from = v;
        if (k == "to") to = v;
      }
      if (!is_date(from) || !is_date(to)) {
        return Answer::error(400, "periode: geef een begin- en einddatum (JJJJ-MM-DD)");
      }
      auto report = gateway_call(
          "GET", "/v1/reports/outcomes?from=" + from + "&to=" + to + "&by=project,status");
      if (!report) return gateway_failed(report.status());
      json labelled = *report;
      for (auto& c : labelled["columns"]) c = value_label(c.get<std::string>());
      return Answer::json_body(labelled);
    }
    if (role == Role::kAuditor && path == "/api/log/state") {
      std::lock_guard lock(client_mu);
      auto state = check_log_state(*client, *store, config.gateway_public_key);
      if (!state) return gateway_failed(state.status());
      return Answer::json_body(*state);
    }
    return Answer::error(404, "niet gevonden");
  }

  Answer post_api(const std::string& path, const json& j) {
    const Role role = config.role;
    if (path == "/api/sync" && role != Role::kAuditor) {
      const Status s = sync();
      if (!s.is_ok()) return gateway_failed(s);
      return Answer::json_body({{"ok", true}});
    }
    if (role == Role::kProject && path.size() > 12 + 8 && path.starts_with("/api/people/") &&
        path.ends_with("/outcome")) {
      const std::string ref = path.substr(12, path.size() - 12 - 8);
      if (ref.empty() || ref.size() > 16 || !store->pseudonym_of(ref)) {
        return Answer::error(404, "deze deelnemer bestaat niet (meer)");
      }
      Form f(j);
      if (!f.only({"status", "date", "uren_per_week", "reden_gestopt", "participatieladder",
                   "contract"})) {
        return Answer::error(400, f.error());
      }
      std::map<std::string, std::string> inputs;
      for (const auto& [k, v] : j.items()) {
        if (!v.is_string() || v.get<std::string>().size() > 100) {
          return Answer::error(400, field_label(k) + ": ongeldige waarde");
        }
        inputs[k] = v.get<std::string>();
      }
      auto record = outcome_record(*catalogue, inputs);
      if (!record) return Answer::error(400, dutch_problems(record.message()));
      std::vector<Result<std::string>> results;
      {
        std::lock_guard lock(client_mu);
        results = push_outcomes(*client, *store, {{ref, *record}});
      }
      if (!results[0]) return gateway_failed(results[0].status());
      return Answer::json_body({{"ok", true}});
    }
    if (role == Role::kGemeente) return post_gemeente(path, j);
    if (role == Role::kAuditor) return post_auditor(path, j);
    return Answer::error(404, "niet gevonden");
  }

  std::set<std::string> partner_ids() const {
    std::set<std::string> ids;
    for (const auto& [id, name] : config.partners) ids.insert(id);
    return ids;
  }

  Answer post_gemeente(const std::string& path, const json& j) {
    if (path == "/api/consents") {
      Form f(j);
      f.only({"bsn", "purpose", "project", "categories", "valid_from", "valid_until", "method",
              "reference"});
      const std::string bsn = f.bsn("bsn");
      const std::string purpose =
          f.choice("purpose", "Doel", {"begeleiding-naar-werk", "resultaatverantwoording"}, true);
      const std::string project =
          f.choice("project", "Project", partner_ids(), purpose == "begeleiding-naar-werk");
      const std::string from = f.date("valid_from", "Geldig vanaf", true);
      const std::string until = f.date("valid_until", "Geldig tot en met", true);
      const std::string method =
          f.choice("method", "Hoe gegeven", {"schriftelijk", "digitaal", "mondeling"}, true);
      const std::string reference = f.text("reference", "Kenmerk", true, 128);
      json categories = json::array();
      if (!j.contains("categories") || !j["categories"].is_array() || j["categories"].empty()) {
        f.fail("Gegevens: kies minstens één soort gegevens");
      } else {
        for (const json& c : j["categories"]) {
          if (!c.is_string() || !consent_categories().contains(c.get<std::string>())) {
            f.fail("Gegevens: geen geldige keuze");
            break;
          }
          categories.push_back(c);
        }
      }
      if (!f.error().empty()) return Answer::error(400, f.error());
      if (!from.empty() && !until.empty() && until < from) {
        return Answer::error(400, "Geldig tot en met: ligt voor de begindatum");
      }
      const json body = {
          {"subject", {{"bsn", bsn}}},
          {"grantee", purpose == "resultaatverantwoording" ? config.organisation : project},
          {"purpose", purpose},
          {"categories", categories},
          {"valid_from", from},
          {"valid_until", until},
          {"evidence", {{"method", method}, {"reference", reference}}}};
      auto answer = gateway_call("POST", "/v1/consents", &body);
      if (!answer) return gateway_failed(answer.status());
      return Answer::json_body(
          {{"id", answer->value("id", "")}, {"status", answer->value("status", "")}});
    }
    if (path == "/api/consents/search") {
      Form f(j);
      f.only({"bsn"});
      const std::string bsn = f.bsn("bsn");
      if (!f.error().empty()) return Answer::error(400, f.error());
      const json body = {{"subject", {{"bsn", bsn}}}};
      auto answer = gateway_call("POST", "/v1/consents/search", &body);
      if (!answer) return gateway_failed(answer.status());
      json list = json::array();
      for (const json& c : (*answer)["consents"]) {
        list.push_back({{"id", c.value("id", "")},
                        {"grantee", c.value("grantee", "")},
                        {"purpose", value_label(c.value("purpose", ""))},
                        {"categories", c.value("categories", json::array())},
                        {"valid_from", c.value("valid_from", "")},
                        {"valid_until", c.value("valid_until", "")},
                        {"status", c.value("status", "")}});
      }
      return Answer::json_body({{"consents", list}});
    }
    if (path.size() > 14 + 9 && path.starts_with("/api/consents/") && path.ends_with("/withdraw")) {
      const std::string id = path.substr(14, path.size() - 14 - 9);
      if (id.empty() || id.size() > 64 ||
          id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
        return Answer::error(400, "ongeldige toestemming");
      }
      const json empty = json::object();
      auto answer = gateway_call("POST", "/v1/consents/" + id + "/withdraw", &empty);
      if (!answer) return gateway_failed(answer.status());
      return Answer::json_body({{"status", answer->value("status", "")}});
    }
    if (path == "/api/referrals") {
      Form f(j);
      f.only({"bsn", "project", "voornaam", "achternaam", "telefoon", "email", "woonplaats",
              "postcode", "geboortedatum", "doelgroep", "participatieladder"});
      const std::string bsn = f.bsn("bsn");
      const std::string project = f.choice("project", "Project", partner_ids(), true);
      json record = json::object();
      for (const char* k : {"voornaam", "achternaam", "telefoon", "email", "woonplaats", "postcode",
                            "geboortedatum", "doelgroep"}) {
        const std::string v = f.text(k, field_label(k).c_str(), std::string(k) == "doelgroep");
        if (!v.empty()) record[k] = v;
      }
      const std::string ladder = f.text("participatieladder", "Trede participatieladder", false, 1);
      if (!ladder.empty()) {
        if (ladder[0] < '1' || ladder[0] > '6') {
          f.fail("Trede participatieladder: kies 1 tot en met 6");
        } else {
          record["participatieladder"] = ladder[0] - '0';
        }
      }
      if (!f.error().empty()) return Answer::error(400, f.error());
      for (const FieldError& e : catalogue->validate(RecordType::kReferral, record)) {
        return Answer::error(400, dutch_problems(e.to_string()));
      }
      const json body = {{"items",
                          {{{"source_ref", "portal-" + random_hex(8)},
                            {"to", project},
                            {"purpose", "begeleiding-naar-werk"},
                            {"subject", {{"bsn", bsn}}},
                            {"record", record}}}}};
      auto answer = gateway_call("POST", "/v1/referrals", &body);
      if (!answer) return gateway_failed(answer.status());
      const json& r = (*answer)["results"];
      if (!r.is_array() || r.empty() || r[0].value("status", "") == "rejected") {
        std::string why = "geweigerd";
        if (r.is_array() && !r.empty() && r[0].contains("problem")) {
          why += ": " + r[0]["problem"].value("detail", "");
        }
        return Answer::error(400, why);
      }
      return Answer::json_body({{"status", r[0].value("status", "")}});
    }
    return Answer::error(404, "niet gevonden");
  }

  static json event_row(const json& e) {
    return {{"time", e.value("time", "")},           {"actor", e.value("actor", "")},
            {"action", e.value("action", "")},       {"purpose", e.value("purpose", "")},
            {"recipient", e.value("recipient", "")}, {"decision", e.value("decision", "")},
            {"reason", e.value("reason", "")},       {"fields", e.value("fields", json::array())}};
  }

  Answer post_auditor(const std::string& path, const json& j) {
    if (path == "/api/log/search" || path == "/api/log/person") {
      Form f(j);
      json body = json::object();
      if (path == "/api/log/person") {
        f.only({"bsn"});
        body["subject"] = {{"bsn", f.bsn("bsn")}};
      } else {
        f.only({"from", "to", "actor", "purpose", "decision"});
        const std::string from = f.date("from", "Van", false);
        const std::string to = f.date("to", "Tot en met", false);
        if (!from.empty()) body["from"] = from;
        if (!to.empty()) body["to"] = to + "T23:59:59.999Z";
        const std::string actor = f.text("actor", "Organisatie", false, 64);
        if (!actor.empty()) body["actor"] = actor;
        const std::string purpose = f.text("purpose", "Doel", false, 64);
        if (!purpose.empty()) body["purpose"] = purpose;
        const std::string decision = f.choice("decision", "Besluit", {"permit", "deny"}, false);
        if (!decision.empty()) body["decision"] = decision;
      }
      body["limit"] = 500;
      if (!f.error().empty()) return Answer::error(400, f.error());
      auto answer = gateway_call("POST", "/v1/audit/events/search", &body);
      if (!answer) return gateway_failed(answer.status());
      json rows = json::array();
      for (const json& e : (*answer)["events"]) rows.push_back(event_row(e));
      return Answer::json_body({{"events", rows}});
    }
    if (path == "/api/log/verify") {
      std::lock_guard lock(client_mu);
      auto verdict =
          export_and_verify(*client, config.gateway_public_key,
                            (std::filesystem::path(config.data_dir) / "export-check").string());
      if (!verdict) return gateway_failed(verdict.status());
      return Answer::json_body(*verdict);
    }
    return Answer::error(404, "niet gevonden");
  }
};

namespace {

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Portal::Impl& impl) : impl_(impl) {}
  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    std::string route = "unmatched";
    Answer a;
    try {
      if (req.getURI() == "/api/session" && req.getMethod() == "GET") {
        route = "/api/session";
        a = session(req);
      } else {
        a = impl_.dispatch(req, resp, route);
      }
    } catch (const std::exception&) {
      a = Answer::error(500, "interne fout in het portaal");
    }
    resp.setStatus(static_cast<HTTPResponse::HTTPStatus>(a.status));
    resp.setContentType(a.content_type);
    resp.set("Cache-Control", "no-store");
    resp.set("X-Content-Type-Options", "nosniff");
    resp.set("X-Frame-Options", "DENY");
    resp.set("Referrer-Policy", "no-referrer");
    resp.set("Content-Security-Policy",
             "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
             "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    for (const auto& [k, v] : a.headers) resp.set(k, v);
    resp.setContentLength(static_cast<std::streamsize>(a.body.size()));
    if (req.getMethod() == "HEAD") {
      resp.send();
    } else {
      resp.send() << a.body;
    }
    impl_.log_line("request " + req.getMethod() + " " + route, a.status);
  }

 private:
  Answer session(HTTPServerRequest& req) {
    if (!impl_.host_ok(req)) return Answer::error(421, "onbekende host");
    const auto s = impl_.session_of(req);
    if (!s) return Answer::error(401, "niet ingelogd");
    return Answer::json_body(impl_.session_info(s->csrf));
  }
  Portal::Impl& impl_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Portal::Impl& impl) : impl_(impl) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(impl_);
  }

 private:
  Portal::Impl& impl_;
};

}  // namespace

Portal::Portal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Portal::~Portal() { stop(); }

Result<std::unique_ptr<Portal>> Portal::start(const PortalConfig& config, std::ostream& log) {
  BRUG_RETURN_IF_ERROR(crypto::init());
  auto impl = std::make_unique<Impl>(config, log);
  auto catalogue = Catalogue::load(config.catalogue_file);
  if (!catalogue) return catalogue.status();
  impl->catalogue = std::move(catalogue).value();
  auto store = LocalStore::open(portal_db_path(config));
  if (!store) return store.status();
  impl->store = std::move(store).value();
  for (const std::string& f :
       {config.gateway.cert_file, config.gateway.key_file, config.gateway.ca_file}) {
    if (!std::filesystem::exists(f)) return Status::error(Code::kNotFound, f + ": no such file");
  }
  try {
    impl->client = std::make_unique<gateway::GatewayClient>(config.gateway);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(config.listen_host, config.listen_port),
                                   64);
    impl->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    params->setMaxQueued(32);
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(10, 0));
    impl->login_token = random_hex(32);
    impl->server = std::make_unique<Poco::Net::HTTPServer>(new Factory(*impl), socket, params);
    impl->server->start();
  } catch (const Poco::Exception& e) {
    return Status::error(Code::kUnavailable, config.listen_host + ":" +
                                                 std::to_string(config.listen_port) +
                                                 ": cannot serve the portal: " + e.displayText());
  }
  if (config.sync_every_s > 0)
    impl->sync_thread = std::thread([p = impl.get()] { p->sync_loop(); });
  return std::unique_ptr<Portal>(new Portal(std::move(impl)));
}

std::uint16_t Portal::port() const { return impl_->port; }

std::string Portal::login_url() const {
  std::lock_guard lock(impl_->session_mu);
  const std::string host =
      impl_->config.listen_host == "0.0.0.0" ? "127.0.0.1" : impl_->config.listen_host;
  return "http://" + host + ":" + std::to_string(impl_->port) +
         "/login?token=" + impl_->login_token;
}

Status Portal::sync_now() { return impl_->sync(); }

void Portal::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->stop_mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->sync_thread.joinable()) impl_->sync_thread.join();
  if (impl_->server) impl_->server->stopAll(true);
}

}  // namespace brug::portal
