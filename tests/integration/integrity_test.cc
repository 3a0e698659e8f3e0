// Integrity at rest, tried as someone with a copy of the database would: a re-addressed or
// damaged row never reaches anyone, is audited once as `integrity`, and the feed goes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>

#include "adapters/sqlite/storage.h"
#include "adapters/testing/faulty_database.h"
#include "tests/support/database_observer.h"
#include "tests/support/gateway_fixture.h"
#include "tests/support/test_bsn.h"

namespace brug::testing {
namespace {

class IntegrityTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() {
    // Through the fault-injection wrapper, disarmed unless a test retries the reads.
    start({.wrap_database = [](std::unique_ptr<adapters::Database> db) {
      auto faulty = std::make_unique<adapters::testing::FaultyDatabase>(std::move(db));
      faulty_ = faulty.get();
      return std::unique_ptr<adapters::Database>(std::move(faulty));
    }});
    observer_ = new DatabaseObserver(*config_);
    auto storage = adapters::open_sqlite_storage({.path = config_->sqlite_path});
    ASSERT_TRUE(storage) << storage.message();
    storage_ = std::move(storage).value().release();
  }
  static void TearDownTestSuite() {
    delete storage_;
    delete observer_;
    GatewayFixture::TearDownTestSuite();
  }

  static nlohmann::json referral(const std::string& ref, const std::string& bsn,
                                 const std::string& to, const std::string& name) {
    return {{"source_ref", ref},
            {"to", to},
            {"purpose", "begeleiding-naar-werk"},
            {"subject", {{"bsn", bsn}}},
            {"record",
             {{"voornaam", name}, {"doelgroep", "participatie"}, {"gezondheid", "rugklachten"}}}};
  }
  static void push(const std::vector<nlohmann::json>& items) {
    auto r = client(kGemeente).post("/v1/referrals", nlohmann::json{{"items", items}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto answer = json(r);  // the loop must not range over a member of a temporary
    for (const auto& res : answer["results"]) ASSERT_EQ(res["status"], "accepted") << r.body;
  }
  static std::string consent(const std::string& bsn, const std::string& grantee,
                             const std::string& purpose = "begeleiding-naar-werk",
                             const std::vector<std::string>& categories = {"contact", "profiel",
                                                                           "segmentatie"}) {
    nlohmann::json body = {{"subject", {{"bsn", bsn}}},
                           {"grantee", grantee},
                           {"purpose", purpose},
                           {"categories", categories},
                           {"valid_from", "2026-01-01"},
                           {"valid_until", "2030-12-31"},
                           {"evidence", {{"method", "digitaal"}, {"reference", "formulier 7"}}}};
    auto r = client(kGemeente).post("/v1/consents", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json(r).value("id", "");
  }
  // Every item of `org`'s feed from the start; each pull must answer 200.
  static std::vector<nlohmann::json> feed(const std::string& org) {
    std::vector<nlohmann::json> all;
    std::string after = "0";
    for (int page = 0; page < 100; ++page) {
      auto r = client(org).get("/v1/feed?limit=1000&after=" + after);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      auto j = json(r);
      if (j["items"].empty()) break;
      for (const auto& i : j["items"]) all.push_back(i);
      after = j["next_cursor"];
    }
    return all;
  }
  static std::vector<std::string> names_in(const std::vector<nlohmann::json>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) {
      if (i.contains("record")) out.push_back(i["record"].value("voornaam", ""));
    }
    return out;
  }
  static bool has(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  }
  static void sql(const std::string& statement, std::vector<adapters::SqlValue> params = {}) {
    ASSERT_TRUE(storage_
                    ->transact([&](adapters::Tx& tx) {
                      auto changed = tx.exec(statement, params);
                      if (!changed) return changed.status();
                      EXPECT_GT(*changed, 0) << statement;
                      return Status::ok();
                    })
                    .is_ok())
        << statement;
  }
  // A schema statement (it changes no rows).
  static void schema(const std::string& statement) {
    ASSERT_TRUE(
        storage_->transact([&](adapters::Tx& tx) { return tx.exec(statement).status(); }).is_ok())
        << statement;
  }
  static adapters::Blob blob(const std::string& query, const std::string& param) {
    adapters::Blob out;
    EXPECT_TRUE(storage_
                    ->read([&](adapters::Tx& tx) {
                      auto rows = tx.query(query, {param});
                      if (!rows) return rows.status();
                      EXPECT_EQ(rows->size(), 1U) << query;
                      if (!rows->empty()) out = rows->front().blob(0);
                      return Status::ok();
                    })
                    .is_ok());
    return out;
  }
  // The audit events with `action` among all leaves.
  static std::vector<nlohmann::json> events(const std::string& action) {
    return observer_->observe([&](adapters::Stores& s) {
      std::vector<nlohmann::json> out;
      auto size = s.audit.size();
      auto leaves = s.audit.leaves(0, size ? *size : 0);
      EXPECT_TRUE(leaves) << leaves.message();
      if (!leaves) return out;
      for (const auto& leaf : *leaves) {
        auto e = nlohmann::json::parse(leaf);
        if (e["action"] == action) out.push_back(e);
      }
      return out;
    });
  }
  static std::size_t integrity_events_about(const std::string& reason) {
    std::size_t n = 0;
    for (const auto& e : events("integrity")) n += e["reason"] == reason ? 1 : 0;
    return n;
  }
  // Flips one bit of a stored blob (`column` of `table` where `key` = value).
  static void flip(const std::string& table, const std::string& column, const std::string& key,
                   const std::string& value, std::size_t at) {
    adapters::Blob b =
        blob("SELECT " + column + " FROM " + table + " WHERE " + key + " = ?", value);
    ASSERT_GT(b.size(), at);
    b[at] ^= 0x01;
    sql("UPDATE " + table + " SET " + column + " = ? WHERE " + key + " = ?", {b, value});
  }

  // Writes `value` into `column` of a stored consent, past the trigger that keeps consents
  // immutable (put back after).
  static void damage_consent(const std::string& id, const std::string& column,
                             const std::string& value) {
    schema("DROP TRIGGER consents_immutable");
    sql("UPDATE consents SET " + column + " = ? WHERE id = ?", {value, id});
    schema(
        "CREATE TRIGGER consents_immutable BEFORE UPDATE OF id, participant, grantee, purpose, "
        "categories, valid_from, valid_until, evidence_method, recorded_by, recorded_at "
        "ON consents BEGIN SELECT RAISE(ABORT, 'consents are immutable'); END");
  }
  // The value of the integrity failure counter for consents on /metrics (0 before the first).
  static long consent_integrity_failures() { return integrity_failures("consent"); }
  static long integrity_failures(const std::string& record) {
    const std::string body = client(kAuditor).get("/metrics").body;
    const std::string name = "brug_integrity_failures_total{record=\"" + record + "\"} ";
    const auto at = body.find(name);
    return at == std::string::npos ? 0 : std::stol(body.substr(at + name.size()));
  }

  static inline DatabaseObserver* observer_ = nullptr;
  static inline adapters::Storage* storage_ = nullptr;
  static inline adapters::testing::FaultyDatabase* faulty_ = nullptr;
};

TEST_F(IntegrityTest, AReferralReaddressedInTheDatabaseNeverReachesTheOtherProject) {
  const std::string bsn = test_bsn(901);
  consent(bsn, kReconnact);
  consent(bsn, kJobhulp);
  push({referral("int-readdress", bsn, kReconnact, "Omgeleid")});
  // With the database in hand: the referral meant for project A is given to project B.
  sql("UPDATE referrals SET recipient = ?, fed = 0 WHERE source_ref = 'int-readdress'",
      {std::string(kJobhulp)});

  const std::size_t before = integrity_events_about("referral-does-not-open");
  const auto items = feed(kJobhulp);
  EXPECT_FALSE(has(names_in(items), "Omgeleid"));
  EXPECT_EQ(integrity_events_about("referral-does-not-open"), before + 1);
}

TEST_F(IntegrityTest, AFlippedByteInASealedReferralIsLeftOutAndTheFeedGoesOn) {
  const std::string damaged = test_bsn(902), healthy = test_bsn(903);
  consent(damaged, kReconnact);
  consent(healthy, kReconnact);
  push({referral("int-flip-1", damaged, kReconnact, "Beschadigd")});
  push({referral("int-flip-2", healthy, kReconnact, "Gezond")});
  flip("referrals", "sealed", "source_ref", "int-flip-1", 40);
  const std::size_t before = integrity_events_about("referral-does-not-open");

  const auto names = names_in(feed(kReconnact));
  EXPECT_FALSE(has(names, "Beschadigd"));
  EXPECT_TRUE(has(names, "Gezond")) << "the feed goes on past the damaged record";
  EXPECT_EQ(integrity_events_about("referral-does-not-open"), before + 1);
  auto metrics = client(kAuditor).get("/metrics");  // brug init names its auditor an operator
  EXPECT_NE(metrics.body.find("brug_integrity_failures_total{record=\"referral\"}"),
            std::string::npos);
  const std::string log = log_text();
  EXPECT_NE(log.find("\"integrity\""), std::string::npos);
  EXPECT_EQ(log.find("Beschadigd"), std::string::npos) << "no content in the log";
}

TEST_F(IntegrityTest, AFlippedByteInAWrappedKeyIsLeftOutAndTheFeedGoesOn) {
  const std::string damaged = test_bsn(904), healthy = test_bsn(905);
  consent(damaged, kReconnact);
  consent(healthy, kReconnact);
  push({referral("int-key-1", damaged, kReconnact, "Sleutelloos")});
  push({referral("int-key-2", healthy, kReconnact, "Daarna")});
  sql("UPDATE participants SET wrapped_key = ? WHERE participant = "
      "(SELECT participant FROM referrals WHERE source_ref = 'int-key-1')",
      {[&] {
        adapters::Blob b = blob(
            "SELECT wrapped_key FROM participants WHERE participant = (SELECT participant FROM "
            "referrals WHERE source_ref = ?)",
            "int-key-1");
        b.at(30) ^= 0x80;
        return b;
      }()});
  const std::size_t before = integrity_events_about("key-does-not-open");

  const auto names = names_in(feed(kReconnact));
  EXPECT_FALSE(has(names, "Sleutelloos"));
  EXPECT_TRUE(has(names, "Daarna"));
  EXPECT_EQ(integrity_events_about("key-does-not-open"), before + 1);
  // The gemeente's own feed of outcomes is not blocked either, and a second pull records the
  // damaged item again (it is read again), never a 500.
  EXPECT_EQ(client(kReconnact).get("/v1/feed?limit=1000").status, 200);
}

// A consent row changed behind the gateway's back (the immutability trigger dropped for it, as
// an attacker with the database could) denies only that participant: already in the feed, the
// item is left out with one integrity event; still waiting, the referral is not put in the
// feed. Everyone else's items flow and no pull fails.
TEST_F(IntegrityTest, AConsentThatDoesNotReadBackDeniesOnlyItsParticipant) {
  const std::string fed = test_bsn(906), waiting = test_bsn(907), healthy = test_bsn(908);
  const std::string fed_consent = consent(fed, kReconnact);
  push({referral("int-cns-1", fed, kReconnact, "AlGevoed")});
  ASSERT_TRUE(has(names_in(feed(kReconnact)), "AlGevoed"));  // in the feed now
  const std::string waiting_consent = consent(waiting, kReconnact);
  consent(healthy, kReconnact);
  const std::size_t before = integrity_events_about("consent-does-not-open");

  damage_consent(fed_consent, "valid_until", "not a date");
  damage_consent(waiting_consent, "evidence_method", "gefluisterd");
  push({referral("int-cns-2", waiting, kReconnact, "Wachtend"),
        referral("int-cns-3", healthy, kReconnact, "Gewoon")});

  // The whole feed again: the fed item is read again and left out, the waiting one never enters.
  const auto names = names_in(feed(kReconnact));
  EXPECT_FALSE(has(names, "AlGevoed"));
  EXPECT_FALSE(has(names, "Wachtend"));
  EXPECT_TRUE(has(names, "Gewoon")) << "one unreadable consent does not stop the feed";
  EXPECT_EQ(integrity_events_about("consent-does-not-open"), before + 1);
  auto metrics = client(kAuditor).get("/metrics");
  EXPECT_NE(metrics.body.find("brug_integrity_failures_total{record=\"consent\"}"),
            std::string::npos);
  const std::string log = log_text();
  EXPECT_EQ(log.find("gefluisterd"), std::string::npos) << "no stored value in the log";
  EXPECT_EQ(log.find("not a date"), std::string::npos);
}

// The store may run a read again (PostgreSQL after a dropped connection): a pull whose reads all
// run twice delivers the same items and notes each unreadable consent as often as one whose
// reads run once (the read callbacks keep nothing of an earlier run).
TEST_F(IntegrityTest, APullWhoseReadsAreRetriedNotesAnUnreadableConsentOnce) {
  const std::string bsn = test_bsn(912), healthy = test_bsn(913);
  const std::string id = consent(bsn, kJobhulp);
  consent(healthy, kJobhulp);
  damage_consent(id, "valid_from", "no date");
  push({referral("int-retry-1", bsn, kJobhulp, "Onleesbaar"),
        referral("int-retry-2", healthy, kJobhulp, "Leesbaar")});

  // Two pulls of the same page, the second with every read run twice.
  auto pull = [] {
    auto r = client(kJobhulp).get("/v1/feed?limit=1000&after=0");
    EXPECT_EQ(r.status, 200) << r.body;
    return names_in(json(r)["items"].get<std::vector<nlohmann::json>>());
  };
  const long at_start = consent_integrity_failures();
  const auto once = pull();
  const long noted_once = consent_integrity_failures() - at_start;
  faulty_->retry_reads(true);
  const int retried_before = faulty_->reads_retried();
  const auto twice = pull();
  const int retried = faulty_->reads_retried() - retried_before;
  faulty_->retry_reads(false);
  const long noted_twice = consent_integrity_failures() - at_start - noted_once;

  EXPECT_TRUE(has(once, "Leesbaar"));
  EXPECT_FALSE(has(once, "Onleesbaar"));
  EXPECT_EQ(twice, once);
  EXPECT_GT(retried, 0) << "the pull's reads ran twice";
  EXPECT_EQ(noted_once, 1) << "the unreadable consent is noted once at every pull";
  EXPECT_EQ(noted_twice, noted_once);
}

TEST_F(IntegrityTest, ALargePageWhoseReadsAreRetriedNotesADamagedRecordOnce) {
  // A page of limit=1000 is opened while it is read; a read run again must not count what the
  // first run's chunks found a second time.
  const std::string damaged = test_bsn(914), healthy = test_bsn(915);
  consent(damaged, kReconnact);
  consent(healthy, kReconnact);
  push({referral("int-retry-flip-1", damaged, kReconnact, "Beschadigd"),
        referral("int-retry-flip-2", healthy, kReconnact, "Gezond")});
  flip("referrals", "sealed", "source_ref", "int-retry-flip-1", 40);
  auto pull = [] {
    auto r = client(kReconnact).get("/v1/feed?limit=1000&after=0");
    EXPECT_EQ(r.status, 200) << r.body;
    return names_in(json(r)["items"].get<std::vector<nlohmann::json>>());
  };
  const long at_start = integrity_failures("referral");
  const std::size_t events_at_start = integrity_events_about("referral-does-not-open");
  const auto once = pull();
  const long noted_once = integrity_failures("referral") - at_start;
  faulty_->retry_reads(true);
  const int retried_before = faulty_->reads_retried();
  const auto twice = pull();
  const int retried = faulty_->reads_retried() - retried_before;
  faulty_->retry_reads(false);
  const long noted_twice = integrity_failures("referral") - at_start - noted_once;

  EXPECT_TRUE(has(once, "Gezond"));
  EXPECT_FALSE(has(once, "Beschadigd"));
  EXPECT_EQ(twice, once);
  EXPECT_GT(retried, 0) << "the pull's reads ran twice";
  EXPECT_EQ(noted_once, 1);
  EXPECT_EQ(noted_twice, 1) << "counted once at every pull, retried reads or not";
  EXPECT_EQ(integrity_events_about("referral-does-not-open"), events_at_start + 2)
      << "one audit event per pull";
}

// Whether `file` holds `needle` anywhere (a missing file holds nothing). Read by another
// process (od): closing a descriptor of the database files in this process would drop the
// gateway's POSIX locks on them (SQLite's "how to corrupt", 2.2).
bool file_holds(const std::string& file, const adapters::Blob& needle) {
  if (!std::filesystem::exists(file) || needle.empty()) return false;
  std::string hex;
  FILE* p = popen(("od -An -v -tx1 '" + file + "'").c_str(), "r");
  if (p == nullptr) return false;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isxdigit(static_cast<unsigned char>(buf[i]))) hex.push_back(buf[i]);
    }
  }
  pclose(p);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string want;
  for (std::uint8_t b : needle) {
    want.push_back(kDigits[b >> 4]);
    want.push_back(kDigits[b & 15]);
  }
  for (auto at = hex.find(want); at != std::string::npos; at = hex.find(want, at + 1)) {
    if (at % 2 == 0) return true;
  }
  return false;
}

TEST_F(IntegrityTest, AfterEraseAnswersNoFileHoldsTheKeyOrTheSealedBsn) {
  const std::string bsn = test_bsn(910);
  consent(bsn, kReconnact);
  push({referral("int-erase-1", bsn, kReconnact, "Vergeten")});
  const std::string of_referral =
      " FROM participants WHERE participant = (SELECT participant FROM referrals WHERE "
      "source_ref = ?)";
  const adapters::Blob key = blob("SELECT wrapped_key" + of_referral, "int-erase-1");
  const adapters::Blob sealed_bsn = blob("SELECT sealed_bsn" + of_referral, "int-erase-1");
  const adapters::Blob sealed_referral =
      blob("SELECT sealed FROM referrals WHERE source_ref = ?", "int-erase-1");
  ASSERT_EQ(key.size(), 76U);
  const std::vector<std::string> files = {config_->sqlite_path, config_->sqlite_path + "-wal",
                                          config_->sqlite_path + "-shm"};
  bool anywhere = false;
  for (const auto& f : files) anywhere = anywhere || file_holds(f, key);
  ASSERT_TRUE(anywhere) << "the key is on disk before the erasure";

  auto r = client(kGemeente).post("/v1/participants/erase",
                                  nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["deletion_notices"], 1);
  for (const auto& f : files) {
    EXPECT_FALSE(file_holds(f, key)) << f << " holds the erased participant's wrapped key";
    EXPECT_FALSE(file_holds(f, sealed_bsn)) << f << " holds the erased participant's sealed BSN";
    EXPECT_FALSE(file_holds(f, sealed_referral)) << f << " holds an erased referral";
    const std::string source_ref = "int-erase-1";
    EXPECT_FALSE(file_holds(f, adapters::Blob(source_ref.begin(), source_ref.end())))
        << f << " holds the sender's reference";
  }
}

TEST_F(IntegrityTest, ASecondEraseSaysItDidNothingAndSendsNoNotice) {
  const std::string bsn = test_bsn(911);
  consent(bsn, kReconnact);
  push({referral("int-erase-2", bsn, kReconnact, "Nogmaals")});
  const auto body = nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump();
  auto first = client(kGemeente).post("/v1/participants/erase", body);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json(first)["deletion_notices"], 1);
  EXPECT_EQ(json(first)["already_erased"], false);
  const auto items_before = feed(kReconnact).size();

  auto second = client(kGemeente).post("/v1/participants/erase", body);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json(second)["deletion_notices"], 0);
  EXPECT_EQ(json(second)["already_erased"], true);
  EXPECT_EQ(feed(kReconnact).size(), items_before) << "no second deletion notice";
  const auto erasures = events("participant.erase");
  ASSERT_FALSE(erasures.empty());
  EXPECT_EQ(erasures.back()["reason"], "already-erased");
}

TEST_F(IntegrityTest, AnOutcomeAfterTheConsentWasWithdrawnIsRefusedAndAuditedOnce) {
  const std::string bsn = test_bsn(920);
  const std::string id = consent(bsn, kReconnact);
  push({referral("int-outcome-1", bsn, kReconnact, "Teruggetrokken")});
  std::string pseudonym;
  for (const auto& item : feed(kReconnact)) {
    if (item.contains("record") && item["record"].value("voornaam", "") == "Teruggetrokken") {
      pseudonym = item["subject"];
    }
  }
  ASSERT_FALSE(pseudonym.empty());
  const auto outcome = [&] {
    nlohmann::json item = {
        {"subject", {{"pseudonym", pseudonym}}}, {"status", "intake"}, {"date", "2026-11-02"}};
    return nlohmann::json{{"items", {item}}}.dump();
  };
  auto before = client(kReconnact).post("/v1/outcomes", outcome());
  ASSERT_EQ(before.status, 200) << before.body;
  ASSERT_EQ(json(before)["results"][0]["status"], "accepted") << before.body;

  ASSERT_EQ(client(kGemeente).post("/v1/consents/" + id + "/withdraw", "").status, 200);
  const std::size_t refused_before = [] {
    std::size_t n = 0;
    for (const auto& e : events("outcome.push")) n += e["reason"] == "consent-ended" ? 1 : 0;
    return n;
  }();
  auto after = client(kReconnact).post("/v1/outcomes", outcome());
  ASSERT_EQ(after.status, 200) << after.body;
  const auto result = json(after)["results"][0];
  EXPECT_EQ(result["status"], "rejected");
  EXPECT_EQ(result["problem"]["type"], "urn:brug:problem:consent-ended");
  std::size_t refused = 0;
  for (const auto& e : events("outcome.push")) {
    if (e["reason"] == "consent-ended") {
      ++refused;
      EXPECT_EQ(e["decision"], "deny");
    }
  }
  EXPECT_EQ(refused, refused_before + 1) << "audited once";
}

// ---- the access report (AVG art. 15) ----------------------------------------------------------

// The fields of the record each item of `org`'s feed carried about the person named `name`.
std::vector<std::set<std::string>> delivered(const std::vector<nlohmann::json>& items,
                                             const std::string& name) {
  std::vector<std::set<std::string>> out;
  for (const auto& i : items) {
    if (!i.contains("record") || i["record"].value("voornaam", "") != name) continue;
    std::set<std::string> fields;
    for (const auto& [k, v] : i["record"].items()) fields.insert(k);
    out.push_back(fields);
  }
  return out;
}

std::vector<std::set<std::string>> reported(const nlohmann::json& report, const std::string& org) {
  std::vector<std::set<std::string>> out;
  for (const auto& r : report["disclosed"]) {
    if (r["recipient"] != org) continue;
    for (const auto& i : r["items"]) {
      out.push_back(i["fields"].get<std::set<std::string>>());
      EXPECT_FALSE(i["time"].get<std::string>().empty());
      EXPECT_EQ(i["basis"], "consent");
    }
  }
  return out;
}

TEST_F(IntegrityTest, TheAccessReportSaysWhatLeftToWhomAsTheFeedsDeliveredIt) {
  // Three people: referred without consent (nothing ever left), referred to two projects with
  // consent (what left is what the feeds carried, gezondheid withheld), and only consented.
  const std::string never = test_bsn(930), twice = test_bsn(931), only = test_bsn(932);
  consent(twice, kReconnact);
  consent(twice, kJobhulp, "begeleiding-naar-werk", {"contact", "profiel"});
  consent(only, kJobhulp);
  push({referral("int-report-1", never, kReconnact, "Nooit"),
        referral("int-report-2", twice, kReconnact, "Tweemaal"),
        referral("int-report-3", twice, kJobhulp, "Tweemaal")});
  // Each pull from the start delivers again: the report must list every delivery.
  const auto reconnact_feed = feed(kReconnact);
  const auto at_reconnact = delivered(reconnact_feed, "Tweemaal");
  const auto at_jobhulp = delivered(feed(kJobhulp), "Tweemaal");
  ASSERT_EQ(at_reconnact.size(), 1U);
  ASSERT_EQ(at_jobhulp.size(), 1U);
  ASSERT_TRUE(delivered(reconnact_feed, "Nooit").empty());

  auto report_of = [](const std::string& bsn, const std::string& asker) {
    auto r = client(asker).post("/v1/audit/subject-report",
                                nlohmann::json{{"subject", {{"bsn", bsn}}}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r);
  };
  const auto lookups_before = events("audit.subject-report").size();
  const auto of_never = report_of(never, kGemeente);
  EXPECT_TRUE(of_never["disclosed"].empty()) << of_never;
  ASSERT_EQ(of_never["received"].size(), 1U) << of_never;
  EXPECT_EQ(of_never["received"][0]["from"], kGemeente);
  EXPECT_EQ(of_never["received"][0]["fields"].get<std::set<std::string>>(),
            (std::set<std::string>{"voornaam", "doelgroep", "gezondheid"}));

  const auto of_twice = report_of(twice, kAuditor);  // the FG may ask too
  EXPECT_EQ(reported(of_twice, kReconnact), at_reconnact) << of_twice;
  EXPECT_EQ(reported(of_twice, kJobhulp), at_jobhulp) << of_twice;
  for (const auto& r : of_twice["disclosed"]) {
    for (const auto& i : r["items"]) {
      EXPECT_FALSE(i["fields"].get<std::set<std::string>>().contains("gezondheid"))
          << "withheld, so never reported as disclosed";
    }
  }
  EXPECT_EQ(of_twice["received"].size(), 2U);
  EXPECT_EQ(of_twice["consents"].size(), 2U);

  const auto of_only = report_of(only, kGemeente);
  EXPECT_TRUE(of_only["disclosed"].empty()) << "a consent record is no disclosure";
  EXPECT_TRUE(of_only["received"].empty());
  ASSERT_EQ(of_only["consents"].size(), 1U);
  EXPECT_EQ(of_only["consents"][0]["grantee"], kJobhulp);
  EXPECT_EQ(of_only["consents"][0]["events"][0]["kind"], "given");

  // Every look-up by BSN is audited, the search by subject too.
  EXPECT_EQ(events("audit.subject-report").size(), lookups_before + 3);
  const auto searches_before = events("audit.search").size();
  auto search = client(kAuditor).post("/v1/audit/events/search",
                                      nlohmann::json{{"subject", {{"bsn", twice}}}}.dump());
  ASSERT_EQ(search.status, 200) << search.body;
  const auto searches = events("audit.search");
  ASSERT_EQ(searches.size(), searches_before + 1);
  EXPECT_FALSE(searches.back()["subject"].get<std::string>().empty());

  // And on paper, in Dutch, from the command line.
  const auto printed = run_brug(
      {"audit", "subject-report", "--config", dir_->file("dev/brug.json"), "--bsn", twice});
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  EXPECT_NE(printed.output.find("Aan: "), std::string::npos) << printed.output;
  EXPECT_NE(printed.output.find("toestemming"), std::string::npos) << printed.output;
  EXPECT_NE(printed.output.find(kJobhulp), std::string::npos) << printed.output;
  EXPECT_EQ(printed.output.find(twice), std::string::npos) << "the BSN is not printed";
  EXPECT_EQ(events("audit.subject-report").size(), lookups_before + 4);
  const auto bad = run_brug(
      {"audit", "subject-report", "--config", dir_->file("dev/brug.json"), "--bsn", "123456789"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_EQ(bad.output.find("123456789"), std::string::npos) << "no input echoed";
  auto bad_api =
      client(kAuditor).post("/v1/audit/subject-report", R"({"subject": {"bsn": "123456789"}})");
  EXPECT_EQ(bad_api.status, 400);
  EXPECT_EQ(bad_api.body.find("123456789"), std::string::npos);
  EXPECT_EQ(events("audit.subject-report").size(), lookups_before + 5) << "the refusal, once";
}

// ---- the audit log at rest -------------------------------------------------------------------

TEST_F(IntegrityTest, AChangedStoredNodeIsCaughtByVerifyAndNeverServedAsAProof) {
  // Nodes are stored at every fourth level: (level 4, index 1) is the first stored node on the
  // path of leaf 0's inclusion proof, and needs 32 leaves.
  for (int n = 940; n < 972; ++n) consent(test_bsn(n), kReconnact);
  auto cp = client(kAuditor).get("/v1/audit/checkpoint");
  ASSERT_EQ(cp.status, 200) << cp.body;
  const std::uint64_t size = json(cp)["size"];
  ASSERT_GE(size, 32U);
  const std::string config = dir_->file("dev/brug.json");
  const auto clean = run_brug({"audit", "verify", "--config", config});
  ASSERT_EQ(clean.exit_code, 0) << clean.output;

  const adapters::Blob original =
      blob("SELECT hash FROM audit_nodes WHERE level = 4 AND idx = ?", "1");
  adapters::Blob changed = original;
  changed.at(0) ^= 0x01;
  sql("UPDATE audit_nodes SET hash = ? WHERE level = 4 AND idx = 1", {changed});

  const auto caught = run_brug({"audit", "verify", "--config", config});
  EXPECT_EQ(caught.exit_code, 1) << caught.output;
  EXPECT_NE(caught.output.find("stored node (level 4, index 1)"), std::string::npos)
      << caught.output;
  // A proof through that node would not verify against the signed root: never answered.
  auto proof =
      client(kAuditor).get("/v1/audit/proof/inclusion?index=0&size=" + std::to_string(size));
  EXPECT_EQ(proof.status, 500) << proof.body;

  sql("UPDATE audit_nodes SET hash = ? WHERE level = 4 AND idx = 1", {original});
  EXPECT_EQ(
      client(kAuditor).get("/v1/audit/proof/inclusion?index=0&size=" + std::to_string(size)).status,
      200);
  const auto again = run_brug({"audit", "verify", "--config", config});
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

}  // namespace
}  // namespace brug::testing
