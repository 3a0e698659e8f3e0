// What a request stores commits with its audit events, or nothing does: each writing route over
// real mutual TLS against a database that fails on purpose (adapters/testing/FaultyDatabase):
// the commit fails, the disk is full, the audit append fails. After each: a 5xx and nothing of
// the request stored (neither data nor event); then, with the fault gone, the same request is
// stored with its events.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "adapters/stores.h"
#include "adapters/testing/faulty_database.h"
#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/disclosure/flow.h"
#include "tests/support/database_observer.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

using adapters::testing::Fault;
using adapters::testing::FaultyDatabase;

class FaultTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() {
    start({.wrap_database = [](std::unique_ptr<adapters::Database> db) {
      auto faulty = std::make_unique<FaultyDatabase>(std::move(db));
      faulty_ = faulty.get();
      return std::unique_ptr<adapters::Database>(std::move(faulty));
    }});
    observer_ = new DatabaseObserver(*config_);
    auto keys = crypto::KeyDir::load(config_->key_dir);
    ASSERT_TRUE(keys) << keys.message();
    keys_ = new crypto::KeyDir(std::move(keys).value());
  }
  static void TearDownTestSuite() {
    delete observer_;
    delete keys_;
    GatewayFixture::TearDownTestSuite();
  }

  static std::string participant(const std::string& bsn) {
    return crypto::participant_index(keys_->participant_index_key(), *crypto::Bsn::parse(bsn))
        .to_hex();
  }
  // What the database holds, read beside the gateway.
  static std::uint64_t audit_size() { return observer_->audit_size(); }
  template <class F>
  static auto observe(F f) {
    return observer_->observe(std::move(f));
  }
  static bool referral_stored(const std::string& ref) {
    return observe([&](adapters::Stores& s) {
      auto r = s.exchange.referral_by_source(kLaborijn, ref);
      return r.is_ok() && r->has_value();
    });
  }
  static std::size_t consents_of(const std::string& bsn) {
    return observe([&](adapters::Stores& s) {
      auto all = s.consents.for_participant(participant(bsn));
      return all.is_ok() ? all->size() : std::size_t{999};
    });
  }
  static bool withdrawn(const std::string& bsn) {
    return observe([&](adapters::Stores& s) {
      auto all = s.consents.for_participant(participant(bsn));
      return all.is_ok() && !all->empty() && all->front().withdrawn_at().has_value();
    });
  }
  static std::size_t outcomes_of(const std::string& bsn) {
    return observe([&](adapters::Stores& s) {
      auto all = s.exchange.outcomes_for_sender(kLaborijn, false);
      std::size_t n = 0;
      if (all.is_ok()) {
        for (const auto& o : *all) n += o.participant == participant(bsn) ? 1 : 0;
      }
      return n;
    });
  }
  static bool erased(const std::string& bsn) {
    return observe([&](adapters::Stores& s) {
      auto p = s.exchange.participant(participant(bsn));
      return p.is_ok() && p->has_value() && !(*p)->wrapped_key.has_value();
    });
  }
  static bool deletion_notice_for(const std::string& recipient, const std::string& bsn) {
    return observe([&](adapters::Stores& s) {
      auto newest = s.exchange.deletion_is_newest(recipient, participant(bsn));
      return newest.is_ok() && *newest;
    });
  }

  static nlohmann::json referral(const std::string& ref, const std::string& bsn,
                                 const std::string& to) {
    return {{"items",
             {{{"source_ref", ref},
               {"to", to},
               {"purpose", "begeleiding-naar-werk"},
               {"subject", {{"bsn", bsn}}},
               {"record", {{"voornaam", "Anna"}, {"doelgroep", "betaald-werk-termijn"}}}}}}};
  }
  static nlohmann::json consent(const std::string& bsn, const std::string& grantee,
                                const std::string& purpose = "begeleiding-naar-werk",
                                std::vector<std::string> categories = {"contact", "profiel",
                                                                       "segmentatie"}) {
    return {{"subject", {{"bsn", bsn}}},
            {"grantee", grantee},
            {"purpose", purpose},
            {"categories", categories},
            {"valid_from", "2026-01-01"},
            {"valid_until", "2030-12-31"},
            {"evidence", {{"method", "digitaal"}, {"reference", "portaal"}}}};
  }
  // A participant referred by laborijn to a project with consent, pulled by the project: the
  // project holds a pseudonym for them.
  static std::string referred_and_pulled(const std::string& bsn, const std::string& ref) {
    EXPECT_EQ(client(kGemeente).post("/v1/consents", consent(bsn, kReconnact).dump()).status, 201);
    EXPECT_EQ(client(kLaborijn).post("/v1/referrals", referral(ref, bsn, kReconnact).dump()).status,
              200);
    std::string after = "0", pseudonym;
    for (int page = 0; page < 50; ++page) {
      auto j = json(client(kReconnact).get("/v1/feed?limit=1000&after=" + after));
      if (j["items"].empty()) break;
      for (const auto& item : j["items"]) {
        if (item["kind"] == "referral" && item.contains("record")) pseudonym = item["subject"];
      }
      after = j["next_cursor"];
    }
    // The feed names every referral once, in order: the newest is ours.
    EXPECT_FALSE(pseudonym.empty());
    return pseudonym;
  }

  // Runs `send` under each fault, then without: never the data without its events or the
  // events without the data.
  static void check_route(const std::string& name, const std::function<int()>& send,
                          const std::function<bool()>& stored) {
    for (Fault fault : {Fault::kCommitFails, Fault::kDiskFull, Fault::kAuditFails}) {
      const std::uint64_t events_before = audit_size();
      faulty_->arm(fault);
      const int status = send();
      faulty_->disarm();
      EXPECT_GE(status, 500) << name << " fault " << static_cast<int>(fault);
      // A database that cannot take the write (full, down, retries exhausted) is 503: the
      // client may try again; anything else is 500.
      EXPECT_EQ(status == 503, fault == Fault::kDiskFull)
          << name << " fault " << static_cast<int>(fault) << ": " << status;
      EXPECT_FALSE(stored()) << name << " fault " << static_cast<int>(fault);
      EXPECT_EQ(audit_size(), events_before) << name << " fault " << static_cast<int>(fault);
    }
    const std::uint64_t events_before = audit_size();
    EXPECT_LT(send(), 300) << name;
    EXPECT_TRUE(stored()) << name;
    EXPECT_GT(audit_size(), events_before) << name;
  }

  static inline FaultyDatabase* faulty_ = nullptr;
  static inline DatabaseObserver* observer_ = nullptr;
  static inline crypto::KeyDir* keys_ = nullptr;
};

TEST_F(FaultTest, AReferralPushIsStoredWithItsEventsOrNotAtAll) {
  const std::string bsn = test_bsn(900);
  check_route(
      "referral.push",
      [&] {
        return client(kLaborijn)
            .post("/v1/referrals", referral("f-1", bsn, kReconnact).dump())
            .status;
      },
      [&] { return referral_stored("f-1"); });
}

TEST_F(FaultTest, AConsentIsStoredWithItsEventOrNotAtAll) {
  const std::string bsn = test_bsn(901);
  check_route(
      "consent.record",
      [&] {
        return client(kGemeente).post("/v1/consents", consent(bsn, kReconnact).dump()).status;
      },
      [&] { return consents_of(bsn) == 1; });
  EXPECT_EQ(consents_of(bsn), 1U);  // and not twice: the failed attempts left nothing
}

TEST_F(FaultTest, AWithdrawalCommitsWithItsDeletionNoticeAndEventOrNotAtAll) {
  const std::string bsn = test_bsn(902);
  referred_and_pulled(bsn, "f-2");
  auto r = client(kGemeente).post("/v1/consents/search",
                                  nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump());
  const std::string id = json(r)["consents"][0]["id"];
  check_route(
      "consent.withdraw",
      [&] { return client(kGemeente).post("/v1/consents/" + id + "/withdraw", "").status; },
      [&] {
        const bool w = withdrawn(bsn), notice = deletion_notice_for(kReconnact, bsn);
        EXPECT_EQ(w, notice) << "a withdrawal without its deletion notice, or the reverse";
        return w && notice;
      });
}

TEST_F(FaultTest, AnOutcomeIsStoredWithItsEventOrNotAtAll) {
  const std::string bsn = test_bsn(903);
  const std::string pseudonym = referred_and_pulled(bsn, "f-3");
  const nlohmann::json body = {
      {"items",
       {{{"subject", {{"pseudonym", pseudonym}}}, {"status", "stage"}, {"date", "2026-10-12"}}}}};
  check_route(
      "outcome.push", [&] { return client(kReconnact).post("/v1/outcomes", body.dump()).status; },
      [&] { return outcomes_of(bsn) == 1; });
}

TEST_F(FaultTest, AnErasureCommitsWithItsNoticesAndEventOrNotAtAll) {
  const std::string bsn = test_bsn(904);
  referred_and_pulled(bsn, "f-4");
  const std::string body = nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump();
  check_route(
      "participant.erase",
      [&] { return client(kGemeente).post("/v1/participants/erase", body).status; },
      [&] {
        const bool e = erased(bsn), notice = deletion_notice_for(kReconnact, bsn);
        EXPECT_EQ(e, notice) << "an erasure without its deletion notice, or the reverse";
        return e && notice;
      });
}

TEST_F(FaultTest, AStalledDatabaseDelaysAPushButLosesNothing) {
  const std::string bsn = test_bsn(905);
  const std::uint64_t before = audit_size();
  faulty_->arm(Fault::kStall, 1, std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  auto r = client(kLaborijn).post("/v1/referrals", referral("f-5", bsn, kReconnact).dump());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
  EXPECT_TRUE(referral_stored("f-5"));
  EXPECT_EQ(audit_size(), before + 1);
}

// A push prepares data keys and sealed records before its write transaction. Here its write
// stalls while a second push creates the same participant and uses the first push's source_ref
// with other content: the stalled push must then seal with the key the database holds (not
// store its own over it) and answer the reused source_ref as a conflict.
TEST_F(FaultTest, APushWhoseParticipantOrSourceRefChangedWhileItWaitedGoesByTheDatabase) {
  const std::string bsn = test_bsn(906), other = test_bsn(907);
  auto push = [&](std::vector<std::pair<std::string, std::string>> items) {
    nlohmann::json body = {{"items", nlohmann::json::array()}};
    for (const auto& [ref, who] : items) {
      body["items"].push_back(
          {{"source_ref", ref},
           {"to", kGemeente},
           {"purpose", "uitvoering-participatiewet"},
           {"subject", {{"bsn", who}}},
           {"record", {{"voornaam", ref}, {"doelgroep", "betaald-werk-termijn"}}}});
    }
    return client(kLaborijn).post("/v1/referrals", body.dump());
  };
  faulty_->arm(Fault::kStall, 1, std::chrono::milliseconds(1500));
  Reply first;
  std::thread stalled([&] { first = push({{"f-6a", bsn}, {"f-6c", other}}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // its snapshot is read
  auto second = push({{"f-6b", bsn}, {"f-6c", bsn}});
  stalled.join();
  ASSERT_EQ(second.status, 200) << second.body;
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json(second)["results"][1]["status"], "accepted");
  EXPECT_EQ(json(first)["results"][0]["status"], "accepted");
  EXPECT_EQ(json(first)["results"][1]["status"], "rejected") << first.body;
  EXPECT_EQ(json(first)["results"][1]["problem"]["type"], "urn:brug:problem:idempotency-conflict");
  // Both referrals of the participant open for the recipient, under the one key stored.
  std::set<std::string> opened;
  std::string after = "0";
  for (int page = 0; page < 100; ++page) {
    auto j = json(client(kGemeente).get("/v1/feed?limit=1000&after=" + after));
    if (j["items"].empty()) break;
    for (const auto& item : j["items"]) {
      if (item.contains("record") && item["subject"].is_object() && item["subject"]["bsn"] == bsn) {
        opened.insert(item["record"]["voornaam"].get<std::string>());
      }
    }
    after = j["next_cursor"];
  }
  EXPECT_EQ(opened, (std::set<std::string>{"f-6a", "f-6b", "f-6c"}));
}

// A page large enough that its events are stored while its last items are still being opened
// (gateway/exchange/feed.cc): under each fault no page leaves and no event of it is stored;
// then the page comes whole, each item with one event, in the order of the items.
TEST_F(FaultTest, ALargeFeedPageLeavesOnlyWithAllItsEvents) {
  // The end of the gemeente's feed so far.
  std::string start = "0";
  for (int page = 0; page < 100; ++page) {
    auto j = json(client(kGemeente).get("/v1/feed?limit=1000&after=" + start));
    if (j["items"].empty()) break;
    start = j["next_cursor"];
  }
  constexpr int kItems = 1000;  // eight chunks
  // BSNs of their own (test_bsn has fewer than 1000), valid by the elfproef.
  auto bsn_of = [](int i) {
    for (int k = 0; k < 100; ++k) {
      const std::string s = std::to_string(888000000 + i * 100 + k);
      int sum = 0;
      for (int d = 0; d < 8; ++d) sum += (9 - d) * (s[d] - '0');
      if ((sum - (s[8] - '0')) % 11 == 0) return s;
    }
    return std::string();
  };
  // In batches of 250 (the fixture's body limit is smaller than 1000 of them).
  for (int first = 0; first < kItems; first += 250) {
    nlohmann::json batch = {{"items", nlohmann::json::array()}};
    for (int i = first; i < first + 250; ++i) {
      batch["items"].push_back(
          {{"source_ref", "f-page-" + std::to_string(i)},
           {"to", kGemeente},
           {"purpose", "uitvoering-participatiewet"},
           {"subject", {{"bsn", bsn_of(i)}}},
           {"record",
            {{"voornaam", "P" + std::to_string(i)}, {"doelgroep", "betaald-werk-termijn"}}}});
    }
    const auto pushed = client(kLaborijn).post("/v1/referrals", batch.dump());
    ASSERT_EQ(pushed.status, 200);
    const auto answer = json(pushed);
    for (const auto& result : answer["results"]) {
      ASSERT_EQ(result["status"], "accepted") << result.dump();
    }
  }
  // The first pull puts them in the feed; a page of exactly kItems then needs no more.
  const std::string page = "/v1/feed?limit=" + std::to_string(kItems) + "&after=" + start;
  ASSERT_EQ(client(kGemeente).get(page).status, 200);

  for (Fault fault : {Fault::kCommitFails, Fault::kDiskFull, Fault::kAuditFails}) {
    const std::uint64_t events_before = audit_size();
    const int fired = faulty_->faults_fired();
    faulty_->arm(fault);
    const auto r = client(kGemeente).get(page);
    faulty_->disarm();
    // The one write of this pull is the page's events (nothing is left to put in the feed).
    EXPECT_EQ(faulty_->faults_fired(), fired + 1) << static_cast<int>(fault);
    EXPECT_GE(r.status, 500) << static_cast<int>(fault);
    EXPECT_EQ(r.body.find("\"items\""), std::string::npos) << static_cast<int>(fault);
    EXPECT_EQ(audit_size(), events_before) << static_cast<int>(fault);
  }

  // A write the database runs twice (a conflict retried): the page's events once.
  const std::uint64_t events_before = audit_size();
  faulty_->arm(Fault::kRetried);
  auto j = json(client(kGemeente).get(page));
  faulty_->disarm();
  ASSERT_EQ(j["items"].size(), static_cast<std::size_t>(kItems));
  ASSERT_EQ(audit_size(), events_before + kItems);
  auto leaves = observe([&](adapters::Stores& s) {
    auto all = s.audit.leaves(events_before, events_before + kItems);
    EXPECT_TRUE(all) << all.message();
    return all ? *all : std::vector<std::string>{};
  });
  ASSERT_EQ(leaves.size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) {
    const auto& item = j["items"][i];
    ASSERT_EQ(item["record"]["voornaam"], "P" + std::to_string(i));
    const auto leaf = nlohmann::json::parse(leaves[i]);
    EXPECT_EQ(leaf["action"], "feed.read") << i;
    EXPECT_EQ(leaf["decision"], "permit") << i;
    EXPECT_EQ(leaf["subject"], gateway::audit_subject(*keys_, participant(item["subject"]["bsn"])))
        << i;
  }

  // A read the database runs twice (a store may retry one): the append of the first run's
  // chunks, begun while the read went on, is rolled back; the page and its events come once.
  const std::uint64_t before_reads = audit_size();
  const int retried_before = faulty_->reads_retried();
  faulty_->retry_reads(true);
  auto reread = json(client(kGemeente).get(page));
  faulty_->retry_reads(false);
  EXPECT_GT(faulty_->reads_retried(), retried_before) << "the page's read ran twice";
  ASSERT_EQ(reread["items"].size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) {
    ASSERT_EQ(reread["items"][i]["record"]["voornaam"], "P" + std::to_string(i));
  }
  EXPECT_EQ(audit_size(), before_reads + kItems) << "one event per item";
  auto reread_leaves = observe([&](adapters::Stores& s) {
    auto all = s.audit.leaves(before_reads, before_reads + kItems);
    EXPECT_TRUE(all) << all.message();
    return all ? *all : std::vector<std::string>{};
  });
  ASSERT_EQ(reread_leaves.size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) {
    EXPECT_EQ(nlohmann::json::parse(reread_leaves[i])["subject"],
              gateway::audit_subject(*keys_, participant(reread["items"][i]["subject"]["bsn"])))
        << i;
  }

  // A read slower than the append will wait beside it (500 ms): that append rolls back, and the
  // page's events are stored once after the read.
  const std::uint64_t before_slow = audit_size();
  faulty_->stall_reads(std::chrono::milliseconds(700));
  auto slow = json(client(kGemeente).get(page));
  faulty_->stall_reads(std::chrono::milliseconds(0));
  ASSERT_EQ(slow["items"].size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) {
    ASSERT_EQ(slow["items"][i]["record"]["voornaam"], "P" + std::to_string(i));
  }
  EXPECT_EQ(audit_size(), before_slow + kItems) << "one event per item";
}

// A push whose write the database runs twice (a conflict retried): every kind of item answers
// as it would once, each item has one audit event, and the new referral is stored once.
TEST_F(FaultTest, ARetriedPushAnswersAndAuditsEachItemOnce) {
  const std::string stored_bsn = test_bsn(905), new_bsn = test_bsn(906);
  auto first = json(client(kLaborijn).post("/v1/referrals",
                                           referral("rt-stored", stored_bsn, kReconnact).dump()));
  const std::string stored_id = first["results"][0]["id"];
  auto item = [](const std::string& ref, const std::string& bsn, const std::string& to,
                 const std::string& name) {
    return nlohmann::json{{"source_ref", ref},
                          {"to", to},
                          {"purpose", "begeleiding-naar-werk"},
                          {"subject", {{"bsn", bsn}}},
                          {"record", {{"voornaam", name}, {"doelgroep", "betaald-werk-termijn"}}}};
  };
  const nlohmann::json body = {
      {"items",
       {item("rt-stored", stored_bsn, kReconnact, "Anna"),    // duplicate of a stored one
        item("rt-new", new_bsn, kReconnact, "Bram"),          // accepted
        item("rt-new", new_bsn, kReconnact, "Bram"),          // duplicate within the batch
        item("rt-new", new_bsn, kReconnact, "Cor"),           // conflict within the batch
        item("rt-bad", new_bsn, "nobody", "Dirk"),            // not a recipient
        item("rt-stored", stored_bsn, kReconnact, "Eva")}}};  // conflict with a stored one
  const std::uint64_t events_before = audit_size();
  const int retried = faulty_->writes_retried();
  faulty_->arm(Fault::kRetried);
  auto r = client(kLaborijn).post("/v1/referrals", body.dump());
  faulty_->disarm();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(faulty_->writes_retried(), retried + 1) << "the write ran twice";
  const auto results = json(r)["results"];
  ASSERT_EQ(results.size(), 6U);
  const std::vector<std::string> status = {"duplicate", "accepted", "duplicate",
                                           "rejected",  "rejected", "rejected"};
  const std::vector<std::string> problem = {
      "", "", "", "idempotency-conflict", "validation", "idempotency-conflict"};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(results[i]["source_ref"], body["items"][i]["source_ref"]) << i;
    EXPECT_EQ(results[i]["status"], status[i]) << i;
    if (problem[i].empty()) {
      EXPECT_FALSE(results[i].contains("problem")) << i;
    } else {
      EXPECT_EQ(results[i]["problem"]["type"], "urn:brug:problem:" + problem[i]) << i;
      EXPECT_FALSE(results[i].contains("id")) << i;
    }
  }
  EXPECT_EQ(results[0]["id"], stored_id);
  EXPECT_EQ(results[2]["id"], results[1]["id"]);
  EXPECT_TRUE(referral_stored("rt-new"));
  EXPECT_FALSE(referral_stored("rt-bad"));
  // One event per item, in item order, with the decision and reason of its answer.
  ASSERT_EQ(audit_size(), events_before + 6);
  auto leaves = observe([&](adapters::Stores& s) {
    auto all = s.audit.leaves(events_before, events_before + 6);
    EXPECT_TRUE(all) << all.message();
    return all ? *all : std::vector<std::string>{};
  });
  ASSERT_EQ(leaves.size(), 6U);
  const std::vector<std::string> reason = {
      "duplicate", "", "duplicate", "idempotency-conflict", "validation", "idempotency-conflict"};
  for (std::size_t i = 0; i < 6; ++i) {
    const auto leaf = nlohmann::json::parse(leaves[i]);
    EXPECT_EQ(leaf["action"], "referral.push") << i;
    EXPECT_EQ(leaf["decision"], i < 3 ? "permit" : "deny") << i;
    EXPECT_EQ(leaf["reason"], reason[i]) << i;
    // An item refused before its subject was read (no such recipient) names none.
    EXPECT_EQ(leaf["subject"],
              i == 4
                  ? std::string()
                  : gateway::audit_subject(*keys_, participant(body["items"][i]["subject"]["bsn"])))
        << i;
  }
  EXPECT_FALSE(nlohmann::json::parse(leaves[1])["fields"].empty()) << "an accepted item's fields";
}

TEST_F(FaultTest, HealthzSaysTheStoreCannotCommitWhenTheDiskIsFullAndLivezStillAnswers) {
  // The first /healthz of the suite probes with a real write; the disk is full for it.
  const int fired = faulty_->faults_fired();
  faulty_->arm(Fault::kDiskFull);
  auto r = client(kGemeente).get("/healthz");
  faulty_->disarm();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(json(r)["storage"], "read-only");
  EXPECT_EQ(faulty_->faults_fired(), fired + 1) << "the probe wrote";
  // Within the probe interval the answer stands without another write.
  EXPECT_EQ(client(kGemeente).get("/healthz").status, 503);
  auto live = client(kGemeente).get("/livez");
  EXPECT_EQ(live.status, 200) << live.body;
  EXPECT_EQ(json(live)["status"], "alive");
}

}  // namespace
}  // namespace brug::testing
