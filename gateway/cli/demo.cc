#include "gateway/cli/demo.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "gateway/app/config.h"
#include "gateway/cli/report_command.h"
#include "gateway/cli/synthetic.h"
#include "gateway/http/client.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

using nlohmann::json;

constexpr int kParticipants = 320;
constexpr int kConsenting = 100;

// One organisation's session; a refusal ends the demo with the gateway's problem detail.
class Client {
 public:
  Client(const Config& config, const std::string& org) : c_(dev_identity(config, org)) {}

  json call(const std::string& method, const std::string& uri, const json* body = nullptr) {
    auto answer = c_.json_call(method, uri, body);
    if (!answer) throw std::runtime_error(answer.message());
    return std::move(answer).value();
  }
  json post(const std::string& uri, const json& body) { return call("POST", uri, &body); }
  // For a call the demo shows the refusal of rather than ending.
  Result<json> try_call(const std::string& method, const std::string& uri) {
    return c_.json_call(method, uri, nullptr);
  }

  // Pulls the whole feed from `after`; returns the items and moves `after` to the end.
  std::vector<json> pull(std::string& after) {
    std::vector<json> items;
    for (;;) {
      const json page = call("GET", "/v1/feed?limit=1000&after=" + after);
      if (page["items"].empty()) return items;
      for (const auto& i : page["items"]) items.push_back(i);
      after = page["next_cursor"].get<std::string>();
    }
  }

 private:
  GatewayClient c_;
};

const Organisation* first_of(const OrgRegistry& orgs, Role role, int skip = 0) {
  for (const auto& o : orgs.all()) {
    if (o.role == role && skip-- == 0) return &o;
  }
  return nullptr;
}

// Who received what: item kinds and the field names seen, per organisation.
struct Received {
  std::map<std::string, int> kinds;
  std::map<std::string, int> fields;
  void add(const std::vector<json>& items) {
    for (const auto& i : items) {
      ++kinds[i["kind"].get<std::string>()];
      if (i.contains("record")) {
        for (const auto& [k, v] : i["record"].items()) ++fields[k];
      }
    }
  }
};

json consent_body(const std::string& bsn, const std::string& grantee, const std::string& purpose,
                  std::vector<std::string> categories, int n) {
  return {{"subject", {{"bsn", bsn}}},
          {"grantee", grantee},
          {"purpose", purpose},
          {"categories", categories},
          {"valid_from", "2026-01-01"},
          {"valid_until", "2027-12-31"},
          {"evidence",
           {{"method", "schriftelijk"}, {"reference", "demo-formulier-" + std::to_string(n)}}}};
}

json outcome_for(const std::string& pseudonym, int n) {
  static const char* kStatuses[] = {"stage", "vrijwilligerswerk", "betaald-werk", "gestopt",
                                    "in-begeleiding"};
  const std::string status = kStatuses[n % 5];
  json o = {{"subject", {{"pseudonym", pseudonym}}},
            {"status", status},
            {"date", "2026-10-" + std::string(n % 28 < 9 ? "0" : "") + std::to_string(n % 28 + 1)}};
  if (status == "betaald-werk") o["contract"] = "parttime";
  if (status == "gestopt") o["reden_gestopt"] = "eigen-keuze";
  if (status == "stage" || status == "vrijwilligerswerk") o["participatieladder"] = 4;
  return o;
}

}  // namespace

int run_demo(const std::string& config_file, std::ostream& out) {
  auto config = load_config(config_file);
  if (!config) {
    out << "demo: " << config.message() << "\n";
    return 1;
  }
  auto orgs = OrgRegistry::load(config->registry_file);
  if (!orgs) {
    out << "demo: " << orgs.message() << "\n";
    return 1;
  }
  const Organisation* gemeente = first_of(*orgs, Role::kGemeente);
  const Organisation* pb = first_of(*orgs, Role::kParticipatiebedrijf);
  const Organisation* projects[2] = {first_of(*orgs, Role::kProject, 0),
                                     first_of(*orgs, Role::kProject, 1)};
  if (!gemeente || !pb || !projects[0] || !projects[1]) {
    out << "demo: the registry needs a gemeente, a participatiebedrijf and two projects\n";
    return 1;
  }
  try {
    Client g(*config, gemeente->id), p(*config, pb->id);
    Client proj[2] = {Client(*config, projects[0]->id), Client(*config, projects[1]->id)};
    std::map<std::string, Received> received;
    std::map<std::string, int> pushed;

    // 1. The participatiebedrijf delivers its target-group list to the gemeente (public task).
    for (int start = 0; start < kParticipants; start += 100) {
      json items = json::array();
      for (int n = start; n < std::min(start + 100, kParticipants); ++n) {
        json rec = synthetic_referral(n);
        rec["bsn"] = synthetic_bsn(n);
        items.push_back({{"source_ref", "demo-pb-" + std::to_string(n)},
                         {"to", gemeente->id},
                         {"purpose", "uitvoering-participatiewet"},
                         {"subject", {{"bsn", synthetic_bsn(n)}}},
                         {"record", rec}});
      }
      const json answer = p.post("/v1/referrals", {{"items", items}});
      for (const auto& r : answer["results"]) ++pushed[r["status"].get<std::string>()];
    }
    std::string g_cursor = "0";
    received[gemeente->id].add(g.pull(g_cursor));

    // 2. The gemeente records consent for 100 of them and refers them to the two projects;
    //    30 also consent to outcomes going back to the gemeente. 10 more are referred without
    //    consent: they stay in the gateway.
    for (int n = 0; n < kConsenting + 10; ++n) {
      const Organisation* to = projects[n % 2];
      if (n < kConsenting) {
        g.post("/v1/consents", consent_body(synthetic_bsn(n), to->id, "begeleiding-naar-werk",
                                            {"contact", "profiel", "segmentatie"}, n));
        if (n < 30) {
          g.post("/v1/consents", consent_body(synthetic_bsn(n), gemeente->id,
                                              "resultaatverantwoording", {"uitkomsten"}, n));
        }
      }
    }
    json items = json::array();
    for (int n = 0; n < kConsenting + 10; ++n) {
      items.push_back({{"source_ref", "demo-g-" + std::to_string(n)},
                       {"to", projects[n % 2]->id},
                       {"purpose", "begeleiding-naar-werk"},
                       {"subject", {{"bsn", synthetic_bsn(n)}}},
                       {"record", synthetic_referral(n)}});
    }
    const json answer = g.post("/v1/referrals", {{"items", items}});
    for (const auto& r : answer["results"]) ++pushed[r["status"].get<std::string>()];

    // 3. The projects pull their feeds and report outcomes under their own pseudonyms.
    std::string cursors[2] = {"0", "0"};
    int outcomes = 0;
    for (int i = 0; i < 2; ++i) {
      const auto feed = proj[i].pull(cursors[i]);
      received[projects[i]->id].add(feed);
      json batch = json::array();
      int n = 0;
      for (const auto& item : feed) {
        if (item["kind"] == "referral") batch.push_back(outcome_for(item["subject"], n++));
      }
      if (!batch.empty()) {
        const json answer = proj[i].post("/v1/outcomes", {{"items", batch}});
        for (const auto& r : answer["results"]) outcomes += r["status"] == "accepted" ? 1 : 0;
      }
    }

    // 4. One participant withdraws; the project is told to delete.
    const json found = g.post("/v1/consents/search", {{"subject", {{"bsn", synthetic_bsn(0)}}}});
    for (const auto& c : found["consents"]) {
      if (c["grantee"] == projects[0]->id)
        g.post("/v1/consents/" + c["id"].get<std::string>() + "/withdraw", json::object());
    }
    received[projects[0]->id].add(proj[0].pull(cursors[0]));

    // 5. The gemeente pulls the outcomes it may see.
    received[gemeente->id].add(g.pull(g_cursor));

    out << "brug demo against https://" << config->host << ":" << config->port << "\n\n"
        << "pushed referrals: ";
    for (const auto& [status, count] : pushed) out << count << " " << status << "  ";
    out << "\noutcomes pushed by the projects: " << outcomes << "\n"
        << "consents: " << kConsenting << " for begeleiding-naar-werk, 30 for "
        << "resultaatverantwoording; 10 referrals without consent stay in the gateway;\n"
        << "participant 0 withdrew after the first pull.\n\nwho received what:\n";
    for (const auto& [org, r] : received) {
      out << "  " << org << ":";
      for (const auto& [kind, count] : r.kinds) out << " " << count << " " << kind;
      out << "\n    fields:";
      for (const auto& [field, count] : r.fields) out << " " << field << "(" << count << ")";
      out << "\n";
    }
    // 6. The gemeente's accountability table: all outcomes, individuals not visible.
    out << "\nthe gemeente's report (GET /v1/reports/outcomes):\n";
    // Reports are frozen publications: a month is answered once it has closed and late outcomes
    // had their delay, and outcomes that arrive later count nowhere (docs/REPORTS.md). So the
    // demo's own outcomes show in the table only when it runs before the month is published.
    auto report = g.try_call("GET", "/v1/reports/outcomes?from=2026-10-01&to=2026-10-31&by=status");
    if (report) {
      print_report(*report, false, out);
    } else {
      out << "  " << report.message() << "\n";
    }
    out << "(a month is reported from its publication day on, and only with the outcomes that\n"
           "arrived before it: docs/REPORTS.md)\n";
    out << "\nNo project received a BSN, a health note or another project's participants; every\n"
           "disclosure and refusal above is in the audit log.\n";
  } catch (const std::exception& e) {
    out << "demo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace brug::gateway
