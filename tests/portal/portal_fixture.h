// The real gateway (GatewayFixture) with people referred to a project, and the real portals of
// `brug init`'s configurations pointed at it: in-process (Portal::start) or as files for the
// `brug` binary.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <sstream>

#include "gateway/portal/portal_config.h"
#include "gateway/portal/portal_server.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// What the seeded people are called: unique, so a test can look for each in a page or file.
inline std::string person_name(int n) { return "Deelnemer" + std::to_string(100 + n); }
// Never permitted to a project (not in the policy, or special category).
inline constexpr const char* kSecretSurname = "Achternaamgeheim";
inline constexpr const char* kHealthNote = "gezondheidsnotitie-geheim";

class PortalFixture : public GatewayFixture {
 protected:
  // `brug init`'s portal configuration for `org`, pointed at the test gateway, on a free port,
  // with its data in `data` below the suite's folder and no background pull.
  static portal::PortalConfig portal_config(const std::string& org, const std::string& data) {
    auto c = portal::load_portal_config(dir_->file("dev/portal/" + org + ".json"));
    EXPECT_TRUE(c) << c.message();
    c->gateway.port = gateway_->port();
    c->listen_port = 0;
    c->sync_every_s = 0;
    c->data_dir = dir_->file(data);
    return *c;
  }
  // The same as a file, for the `brug` binary.
  static std::string portal_config_file(const std::string& org, const std::string& data) {
    auto j = nlohmann::json::parse(TempDir::read(dir_->file("dev/portal/" + org + ".json")));
    j["gateway"]["url"] = "https://localhost:" + std::to_string(gateway_->port());
    j["listen"]["port"] = 0;
    j["data_dir"] = dir_->file(data);
    return dir_->write("dev/portal/" + data + ".json", j.dump(2));
  }

  // The gemeente records consent (begeleiding-naar-werk for contact, profiel, segmentatie) for
  // people [first, first + consenting) and refers them and `without_consent` more to `project`.
  // With `outcomes_back`, each consenting person also lets outcomes go back to the gemeente.
  static void seed(const std::string& project, int first, int consenting, int without_consent,
                   bool outcomes_back = true) {
    auto g = client(kGemeente);
    nlohmann::json items = nlohmann::json::array();
    for (int n = first; n < first + consenting + without_consent; ++n) {
      if (n < first + consenting) {
        ASSERT_EQ(g.post("/v1/consents", consent(n, project, "begeleiding-naar-werk",
                                                 {"contact", "profiel", "segmentatie"}))
                      .status,
                  201);
        if (outcomes_back) {
          ASSERT_EQ(g.post("/v1/consents",
                           consent(n, kGemeente, "resultaatverantwoording", {"uitkomsten"}))
                        .status,
                    201);
        }
      }
      items.push_back({{"source_ref", "portal-test-" + std::to_string(n)},
                       {"to", project},
                       {"purpose", "begeleiding-naar-werk"},
                       {"subject", {{"bsn", test_bsn(n)}}},
                       {"record",
                        {{"voornaam", person_name(n)},
                         {"achternaam", kSecretSurname},
                         {"geboortedatum", "1980-05-17"},
                         {"postcode", "7071AB"},
                         {"doelgroep", "betaald-werk-termijn"},
                         {"participatieladder", 3},
                         {"gezondheid", kHealthNote}}}});
    }
    const auto r = g.post("/v1/referrals", nlohmann::json{{"items", items}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  static std::string consent(int n, const std::string& grantee, const std::string& purpose,
                             const std::vector<std::string>& categories) {
    return nlohmann::json{{"subject", {{"bsn", test_bsn(n)}}},
                          {"grantee", grantee},
                          {"purpose", purpose},
                          {"categories", categories},
                          {"valid_from", "2026-01-01"},
                          {"valid_until", "2030-12-31"},
                          {"evidence", {{"method", "schriftelijk"}, {"reference", "test"}}}}
        .dump();
  }

  // Withdraws every consent of person `n` to `grantee`; returns how many.
  static int withdraw(int n, const std::string& grantee) {
    auto g = client(kGemeente);
    const auto found = json(
        g.post("/v1/consents/search", nlohmann::json{{"subject", {{"bsn", test_bsn(n)}}}}.dump()));
    int count = 0;
    for (const auto& c : found["consents"]) {
      if (c["grantee"] == grantee && c["status"] == "active") {
        EXPECT_EQ(g.post("/v1/consents/" + c["id"].get<std::string>() + "/withdraw", "{}").status,
                  200);
        ++count;
      }
    }
    return count;
  }

  // Every item of `org`'s feed from the start.
  static std::vector<nlohmann::json> feed(const std::string& org) {
    auto c = client(org);
    std::vector<nlohmann::json> items;
    std::string after = "0";
    for (;;) {
      const auto page = json(c.get("/v1/feed?limit=1000&after=" + after));
      if (!page.contains("items") || page["items"].empty()) return items;
      for (const auto& i : page["items"]) items.push_back(i);
      after = page["next_cursor"].get<std::string>();
    }
  }

  struct Plain {
    int status = 0;
    std::string body;
  };
  // A plain HTTP request to a portal, as another local program would send it.
  static Plain plain(std::uint16_t port, const std::string& method, const std::string& uri,
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& body = "") {
    Poco::Net::HTTPClientSession s("127.0.0.1", port);
    s.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest req(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (method == "POST") req.setContentLength(static_cast<std::streamsize>(body.size()));
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    Plain p;
    Poco::StreamCopier::copyToString(s.receiveResponse(resp), p.body);
    p.status = resp.getStatus();
    return p;
  }
};

}  // namespace brug::testing
