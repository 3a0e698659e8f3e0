#include "adapters/testing/conformance.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace brug::adapters::testing {

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

void StoreConformance::SetUp() {
  db_ = GetParam().make();
  ASSERT_NE(db_, nullptr) << "the factory of " << GetParam().name << " made no database";
}

namespace {

#define CONFORMANCE_ASSERT_OK(expr)                                                               \
  do {                                                                                            \
    const ::brug::Status conformance_status_ = (expr);                                            \
    ASSERT_TRUE(conformance_status_.is_ok()) << #expr << ": " << conformance_status_.to_string(); \
  } while (0)

#define CONFORMANCE_EXPECT_OK(expr)                                                               \
  do {                                                                                            \
    const ::brug::Status conformance_status_ = (expr);                                            \
    EXPECT_TRUE(conformance_status_.is_ok()) << #expr << ": " << conformance_status_.to_string(); \
  } while (0)

// Runs `fn` (which returns a Result<T>) in one transaction and returns its value; a failure is
// reported and gives T{}. The callback assigns the value afresh on every run (a backend may
// retry it).
template <class F>
auto run_for_value(Database& db, bool write, F&& fn) {
  using R = decltype(fn(std::declval<Stores&>()));
  using T = std::decay_t<decltype(std::declval<R&>().value())>;
  std::optional<T> out;
  const std::function<Status(Stores&)> body = [&](Stores& stores) -> Status {
    out.reset();
    auto result = fn(stores);
    if (!result) return result.status();
    out = std::move(result).value();
    return Status::ok();
  };
  const Status s = write ? db.write(body) : db.read(body);
  if (!s.is_ok() || !out) {
    ADD_FAILURE() << (write ? "write" : "read") << " failed: " << s.to_string();
    return T{};
  }
  return std::move(*out);
}

template <class F>
auto read_value(Database& db, F&& fn) {
  return run_for_value(db, false, std::forward<F>(fn));
}

template <class F>
auto write_value(Database& db, F&& fn) {
  return run_for_value(db, true, std::forward<F>(fn));
}

// ---- test data ---------------------------------------------------------------------------------

const std::string kNow = "2026-11-22T10:00:00Z";
const std::string kWork = "begeleiding-naar-werk";
const std::string kPublic = "uitvoering-participatiewet";

const std::string kP1(64, '1');
const std::string kP2(64, '2');
const std::string kP3(64, '3');
const std::string kUnknown(64, 'f');

// Bytes that a text column or a C string would mangle: zeros, 0xff, no valid UTF-8.
Blob awkward(std::string_view tag) {
  Blob b;
  b.reserve(tag.size() + 6);
  for (int v : {0x00, 0xff, 0x00, 0x80, 0xc3}) b.push_back(static_cast<std::uint8_t>(v));
  for (char c : tag) b.push_back(static_cast<std::uint8_t>(c));
  b.push_back(0x00);
  return b;
}

std::vector<OrgRow> organisations() {
  return {
      {"aud-z", "Auditor Z", Role::kAuditor, "00000001000000000005", ""},
      {"gem-a", "Gemeente A", Role::kGemeente, "00000001000000000001", "gem-a.example"},
      {"pb-b", "Participatiebedrijf B", Role::kParticipatiebedrijf, "00000001000000000002",
       "pb-b.example"},
      {"proj-p", "Project P", Role::kProject, "", "proj-p.example"},
      {"proj-q", "Project Q", Role::kProject, "", ""},
  };
}

ParticipantRow participant_row(const std::string& p, std::string_view tag = "") {
  return {p, awkward("key" + p.substr(0, 1) + std::string(tag)),
          awkward("bsn" + p.substr(0, 1) + std::string(tag))};
}

Blob sealed_of(const std::string& id) { return awkward("sealed:" + id); }

NewReferral referral(const std::string& id, const std::string& source_org,
                     const std::string& participant, const std::string& recipient,
                     const std::string& purpose = kWork) {
  return {id,      source_org,    "src-" + id,     participant, recipient,
          purpose, sealed_of(id), "hash-of-" + id, kNow};
}

NewOutcome outcome(const std::string& id, const std::string& project,
                   const std::string& participant) {
  return {id, project, participant, sealed_of(id), kNow};
}

NewFeedItem feed_item(const std::string& recipient, FeedKind kind, const std::string& participant,
                      const std::string& ref_id, const std::string& purpose = kWork) {
  return {recipient, kind, participant, ref_id, purpose, kNow};
}

AuditLeafRow leaf(std::uint64_t index, const std::string& subject = "subject",
                  const std::string& actor = "gem-a") {
  AuditLeafRow l;
  l.index = index;
  l.leaf = "leaf " + std::to_string(index);
  l.leaf.push_back('\0');
  l.leaf += "\xff end";
  for (std::size_t i = 0; i < l.hash.size(); ++i) {
    l.hash[i] = static_cast<std::uint8_t>(index * 7 + i);
  }
  l.time = kNow;
  l.actor = actor;
  l.action = "referral.create";
  l.purpose = kWork;
  l.subject = subject;
  l.recipient = "proj-p";
  l.decision = "permit";
  return l;
}

std::array<std::uint8_t, 32> hash_filled(std::uint8_t v) {
  std::array<std::uint8_t, 32> h{};
  h.fill(v);
  h[0] = 0;
  return h;
}

consent::Consent consent_of(const std::string& id, const std::string& participant,
                            const std::string& grantee, Purpose purpose,
                            const std::string& recorded_at) {
  consent::Consent c;
  c.id = id;
  c.participant = participant;
  c.grantee = grantee;
  c.purpose = purpose;
  c.categories = {"contact", "profiel"};
  c.valid_from = *consent::Date::parse("2026-01-01");
  c.valid_until = *consent::Date::parse("2027-06-30");
  c.evidence = {consent::EvidenceMethod::kSchriftelijk, "formulier 2026-014"};
  c.recorded_by = "gem-a";
  c.recorded_at = recorded_at;
  c.events = {{consent::EventKind::kGiven, recorded_at, "gem-a"}};
  return c;
}

auto org_fields(const OrgRow& o) { return std::tuple(o.id, o.name, o.role, o.oin, o.cert_cn); }

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> ids_of(const std::vector<PendingReferral>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.id);
  return out;
}

std::vector<std::string> ids_of(const std::vector<OutcomeForSender>& v) {
  std::vector<std::string> out;
  for (const auto& o : v) out.push_back(o.id);
  return out;
}

std::vector<std::string> ids_of(const std::vector<consent::Consent>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.id);
  return out;
}

std::vector<std::string> ref_ids_of(const std::vector<FeedEntry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.ref_id);
  return out;
}

std::vector<std::uint64_t> indexes_of(const std::vector<std::pair<std::uint64_t, std::string>>& v) {
  std::vector<std::uint64_t> out;
  for (const auto& [index, bytes] : v) out.push_back(index);
  return out;
}

// Organisations synced and participants P1, P2, P3 put: what foreign keys ask for.
void seed(Database& db) {
  CONFORMANCE_ASSERT_OK(db.write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.orgs.sync(organisations(), kNow));
    for (const std::string& p : {kP1, kP2, kP3}) {
      BRUG_RETURN_IF_ERROR(s.exchange.put_participant(participant_row(p), kNow));
    }
    return Status::ok();
  }));
}

// Stores one of each: referral, outcome, feed item, consent and audit leaf.
Status write_one_of_each(Stores& s) {
  BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
  BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o1", "proj-p", kP1)));
  auto added = s.exchange.add_feed_item(feed_item("proj-p", FeedKind::kReferral, kP1, "r1"));
  if (!added) return added.status();
  BRUG_RETURN_IF_ERROR(
      s.consents.insert(consent_of("cns_1", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, kNow)));
  BRUG_RETURN_IF_ERROR(s.audit.add_leaves({leaf(0)}));
  return s.exchange.put_participant(participant_row(kUnknown), kNow);
}

// Whether anything of write_one_of_each is stored.
void expect_none_of_each(Database& db) {
  EXPECT_FALSE(
      read_value(db, [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r1"); }));
  EXPECT_TRUE(read_value(db, [](Stores& s) {
                return s.exchange.outcomes_for_sender("gem-a", false);
              }).empty());
  EXPECT_EQ(read_value(db, [](Stores& s) { return s.exchange.feed_count_after("proj-p", 0, 100); }),
            0);
  EXPECT_FALSE(read_value(db, [](Stores& s) { return s.consents.find("cns_1"); }));
  EXPECT_EQ(read_value(db, [](Stores& s) { return s.audit.size(); }), 0u);
  EXPECT_FALSE(read_value(db, [](Stores& s) { return s.exchange.participant(kUnknown); }));
}

// ---- transactions ------------------------------------------------------------------------------

TEST_P(StoreConformance, TheBackendNamesItselfAndReportsItsSchemaVersion) {
  EXPECT_FALSE(db().backend().empty());
  EXPECT_GT(db().schema_version(), 0);
}

TEST_P(StoreConformance, AWriteCommitsEveryStoreWhenTheCallbackReturnsOk) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write(write_one_of_each));
  EXPECT_TRUE(
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r1"); }));
  EXPECT_EQ(
      read_value(db(), [](Stores& s) { return s.exchange.outcomes_for_sender("gem-a", false); })
          .size(),
      1u);
  EXPECT_EQ(
      read_value(db(), [](Stores& s) { return s.exchange.feed_count_after("proj-p", 0, 100); }), 1);
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.consents.find("cns_1"); }));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.size(); }), 1u);
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.exchange.participant(kUnknown); }));
}

TEST_P(StoreConformance, AnErrorFromTheCallbackRollsBackEveryStoreAndIsReturned) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  const Status s = db().write([](Stores& stores) {
    BRUG_RETURN_IF_ERROR(write_one_of_each(stores));
    BRUG_RETURN_IF_ERROR(stores.orgs.sync({}, kNow));
    return Status::error(Code::kFailedPrecondition, "the caller changed its mind");
  });
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  expect_none_of_each(db());
  EXPECT_EQ(read_value(db(), [](Stores& st) { return st.orgs.active(); }).size(),
            organisations().size());
}

TEST_P(StoreConformance, AnExceptionFromTheCallbackRollsBackEveryStoreAndReportsInternal) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  Status s;
  EXPECT_NO_THROW(s = db().write([](Stores& stores) -> Status {
    if (Status done = write_one_of_each(stores); !done.is_ok()) return done;
    throw std::runtime_error("a bug in the caller");
  }));
  EXPECT_EQ(s.code(), Code::kInternal);
  expect_none_of_each(db());
}

TEST_P(StoreConformance, AnExceptionOfAnyTypeRollsBackAndLeavesTheDatabaseUsable) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  Status s;
  EXPECT_NO_THROW(s = db().write([](Stores& stores) -> Status {
    if (Status done = write_one_of_each(stores); !done.is_ok()) return done;
    throw 42;
  }));
  EXPECT_EQ(s.code(), Code::kInternal);
  expect_none_of_each(db());
  // The next transactions work and store what they should.
  CONFORMANCE_EXPECT_OK(db().write(write_one_of_each));
  EXPECT_EQ(read_value(db(), [](Stores& st) { return st.audit.size(); }), 1u);
}

TEST_P(StoreConformance, AReadSeesOneSnapshotWhileAWriteCommits) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.audit.add_leaves({leaf(0)}); }));
  std::uint64_t before = 0, after = 0;
  Status inner;
  CONFORMANCE_ASSERT_OK(db().read([&](Stores& s) {
    auto first = s.audit.size();
    if (!first) return first.status();
    before = *first;
    inner = db().write([](Stores& w) { return w.audit.add_leaves({leaf(1)}); });
    auto second = s.audit.size();
    if (!second) return second.status();
    after = *second;
    return Status::ok();
  }));
  CONFORMANCE_EXPECT_OK(inner);
  EXPECT_EQ(before, 1u);
  EXPECT_EQ(after, 1u) << "a read transaction saw a write that committed during it";
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.size(); }), 2u);
}

TEST_P(StoreConformance, AReadRefusesWritesToEveryStore) {
  const std::vector<std::pair<std::string, std::function<Status(Stores&)>>> writes = {
      {"orgs.sync", [](Stores& s) { return s.orgs.sync(organisations(), kNow); }},
      {"audit.add_leaves", [](Stores& s) { return s.audit.add_leaves({leaf(0)}); }},
  };
  for (const auto& [name, attempt] : writes) {
    Status refused;
    const Status read = db().read([&](Stores& s) {
      refused = attempt(s);
      return Status::ok();
    });
    EXPECT_FALSE(refused.is_ok()) << name << " wrote inside a read transaction";
    (void)read;  // the backend may report the refused statement again here
  }
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.orgs.active(); }).empty());
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.size(); }), 0u);

  // With organisations and participants in place, the other stores refuse too.
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  const std::vector<std::pair<std::string, std::function<Status(Stores&)>>> more = {
      {"exchange.put_participant",
       [](Stores& s) { return s.exchange.put_participant(participant_row(kUnknown), kNow); }},
      {"exchange.add_referral",
       [](Stores& s) { return s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")); }},
      {"consents.insert", [](Stores& s) {
         return s.consents.insert(
             consent_of("cns_1", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, kNow));
       }}};
  for (const auto& [name, attempt] : more) {
    Status refused;
    (void)db().read([&](Stores& s) {
      refused = attempt(s);
      return Status::ok();
    });
    EXPECT_FALSE(refused.is_ok()) << name << " wrote inside a read transaction";
  }
  expect_none_of_each(db());
}

// ---- organisations -----------------------------------------------------------------------------

TEST_P(StoreConformance, SyncInsertsOrganisationsWithTypedRolesAndEmptyAbsentIdentifiers) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.orgs.sync(organisations(), kNow); }));
  auto active = read_value(db(), [](Stores& s) { return s.orgs.active(); });
  std::sort(active.begin(), active.end(),
            [](const OrgRow& a, const OrgRow& b) { return a.id < b.id; });
  const auto expected = organisations();
  ASSERT_EQ(active.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(org_fields(active[i]), org_fields(expected[i]));
  }
}

TEST_P(StoreConformance, SyncUpdatesTheNameRoleAndIdentifiersOfAnOrganisation) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.orgs.sync(organisations(), kNow); }));
  auto changed = organisations();
  changed[4] = {"proj-q", "Project Q (renamed)", Role::kParticipatiebedrijf, "00000001000000000009",
                "proj-q.example"};
  changed[1].oin = "";
  changed[1].cert_cn = "";
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.orgs.sync(changed, kNow); }));
  auto active = read_value(db(), [](Stores& s) { return s.orgs.active(); });
  std::sort(active.begin(), active.end(),
            [](const OrgRow& a, const OrgRow& b) { return a.id < b.id; });
  ASSERT_EQ(active.size(), changed.size());
  for (std::size_t i = 0; i < changed.size(); ++i) {
    EXPECT_EQ(org_fields(active[i]), org_fields(changed[i]));
  }
}

TEST_P(StoreConformance, SyncMarksLeaversInactiveButKeepsThemForOldRecords) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-q")); }));
  auto remaining = organisations();
  remaining.pop_back();  // proj-q leaves
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.orgs.sync(remaining, kNow); }));
  std::vector<std::string> ids;
  for (const auto& o : read_value(db(), [](Stores& s) { return s.orgs.active(); })) {
    ids.push_back(o.id);
  }
  EXPECT_EQ(sorted(ids), (std::vector<std::string>{"aud-z", "gem-a", "pb-b", "proj-p"}));
  // The referral to the leaver is still there and still names it.
  const auto kept =
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r1"); });
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->recipient, "proj-q");

  // Nobody left: no active organisation. Coming back makes it active again.
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.orgs.sync({}, kNow); }));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.orgs.active(); }).empty());
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.orgs.sync(organisations(), kNow); }));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.orgs.active(); }).size(),
            organisations().size());
}

TEST_P(StoreConformance, SyncMovesAnOinAndACertificateNameToAnotherOrganisation) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.orgs.sync(organisations(), kNow); }));
  // gem-a and pb-b swap their OINs and CNs; proj-p's CN goes to newcomer proj-n as proj-p leaves.
  std::vector<OrgRow> next = {
      {"gem-a", "Gemeente A", Role::kGemeente, "00000001000000000002", "pb-b.example"},
      {"pb-b", "Participatiebedrijf B", Role::kParticipatiebedrijf, "00000001000000000001",
       "gem-a.example"},
      {"proj-n", "Project N", Role::kProject, "", "proj-p.example"},
  };
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.orgs.sync(next, kNow); }));
  auto active = read_value(db(), [](Stores& s) { return s.orgs.active(); });
  std::sort(active.begin(), active.end(),
            [](const OrgRow& a, const OrgRow& b) { return a.id < b.id; });
  ASSERT_EQ(active.size(), next.size());
  for (std::size_t i = 0; i < next.size(); ++i) {
    EXPECT_EQ(org_fields(active[i]), org_fields(next[i]));
  }
  // And back: the leaver takes its CN back from the newcomer, which leaves.
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.orgs.sync(organisations(), kNow); }));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.orgs.active(); }).size(),
            organisations().size());
}

// ---- participants ------------------------------------------------------------------------------

TEST_P(StoreConformance, APutParticipantReadsBackItsKeyAndSealedBsnByteExact) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  const auto row = read_value(db(), [](Stores& s) { return s.exchange.participant(kP2); });
  ASSERT_TRUE(row);
  EXPECT_EQ(row->participant, kP2);
  EXPECT_EQ(row->wrapped_key, participant_row(kP2).wrapped_key);
  EXPECT_EQ(row->sealed_bsn, participant_row(kP2).sealed_bsn);
  EXPECT_FALSE(read_value(db(), [](Stores& s) { return s.exchange.participant(kUnknown); }));
}

TEST_P(StoreConformance, ErasingAParticipantDestroysItsKeyAndSealedBsn) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  EXPECT_TRUE(write_value(db(), [](Stores& s) { return s.exchange.erase_participant(kP1, kNow); }));
  const auto erased = read_value(db(), [](Stores& s) { return s.exchange.participant(kP1); });
  ASSERT_TRUE(erased) << "an erased participant is kept, without key and BSN";
  EXPECT_FALSE(erased->wrapped_key);
  EXPECT_FALSE(erased->sealed_bsn);
  const auto other = read_value(db(), [](Stores& s) { return s.exchange.participant(kP2); });
  ASSERT_TRUE(other);
  EXPECT_EQ(other->wrapped_key, participant_row(kP2).wrapped_key);
}

TEST_P(StoreConformance, ErasingAParticipantForgetsTheSendersReferencesAndConsentEvidence) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "gem-a", kP2, "proj-p")));
    BRUG_RETURN_IF_ERROR(
        s.consents.insert(consent_of("cns_1", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, kNow)));
    return s.consents.insert(
        consent_of("cns_2", kP2, "proj-p", Purpose::kBegeleidingNaarWerk, kNow));
  }));
  EXPECT_TRUE(write_value(db(), [](Stores& s) { return s.exchange.erase_participant(kP1, kNow); }));
  EXPECT_FALSE(read_value(db(), [](Stores& s) {
    return s.exchange.referral_by_source("gem-a", "src-r1");
  })) << "the sender's reference is gone";
  EXPECT_TRUE(
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r2"); }));
  const auto mine = read_value(db(), [](Stores& s) { return s.consents.for_participant(kP1); });
  ASSERT_EQ(mine.size(), 1U) << "the consent itself is kept for the audit";
  EXPECT_EQ(mine[0].evidence.reference, "");
  EXPECT_EQ(mine[0].evidence.method, consent::EvidenceMethod::kSchriftelijk);
  const auto theirs = read_value(db(), [](Stores& s) { return s.consents.for_participant(kP2); });
  ASSERT_EQ(theirs.size(), 1U);
  EXPECT_EQ(theirs[0].evidence.reference, "formulier 2026-014");
  // The referral can be pushed again under its old source_ref: it no longer names anything.
  NewReferral again = referral("r1b", "gem-a", kP3, "proj-p");
  again.source_ref = "src-r1";
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.exchange.add_referral(again); }));
  CONFORMANCE_ASSERT_OK(db().scrub());
}

TEST_P(StoreConformance, ErasingAnUnknownParticipantReturnsFalse) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  EXPECT_FALSE(
      write_value(db(), [](Stores& s) { return s.exchange.erase_participant(kUnknown, kNow); }));
  EXPECT_FALSE(read_value(db(), [](Stores& s) { return s.exchange.participant(kUnknown); }));
}

TEST_P(StoreConformance, PuttingAnErasedParticipantGivesItANewKeyAndBsn) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  EXPECT_TRUE(write_value(db(), [](Stores& s) { return s.exchange.erase_participant(kP1, kNow); }));
  const ParticipantRow fresh = participant_row(kP1, "-new");
  CONFORMANCE_ASSERT_OK(
      db().write([&](Stores& s) { return s.exchange.put_participant(fresh, kNow); }));
  const auto row = read_value(db(), [](Stores& s) { return s.exchange.participant(kP1); });
  ASSERT_TRUE(row);
  EXPECT_EQ(row->wrapped_key, fresh.wrapped_key);
  EXPECT_EQ(row->sealed_bsn, fresh.sealed_bsn);
}

// ---- KEK rotation ------------------------------------------------------------------------------

// A wrapped key under KEK `version`: the 4-byte big-endian version, then awkward bytes.
Blob wrapped_under(std::uint32_t version, std::string_view tag) {
  Blob b = {static_cast<std::uint8_t>(version >> 24), static_cast<std::uint8_t>(version >> 16),
            static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version)};
  const Blob rest = awkward(tag);
  b.insert(b.end(), rest.begin(), rest.end());
  return b;
}

// Participants 1..n (64 hex digits each), participant i under KEK version versions[i-1].
std::vector<ParticipantRow> keyed_participants(const std::vector<std::uint32_t>& versions) {
  std::vector<ParticipantRow> rows;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    std::string id(64, '0');
    const std::string n = std::to_string(i + 1);
    id.replace(64 - n.size(), n.size(), n);
    rows.push_back({id, wrapped_under(versions[i], "k" + n), awkward("bsn" + n)});
  }
  return rows;
}

TEST_P(StoreConformance, WrappedKeyVersionsCountsTheKeysUnderEachKekVersionButNotErasedOnes) {
  const auto rows = keyed_participants({1, 2, 1, 0x01020304, 1});
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) {
    for (const auto& r : rows) BRUG_RETURN_IF_ERROR(s.exchange.put_participant(r, kNow));
    return s.exchange.erase_participant(rows[4].participant, kNow).status();
  }));
  const auto versions =
      read_value(db(), [](Stores& s) { return s.exchange.wrapped_key_versions(); });
  const std::map<std::uint32_t, std::int64_t> want = {{1, 2}, {2, 1}, {0x01020304, 1}};
  EXPECT_EQ(versions, want);
}

TEST_P(StoreConformance, KeysNotUnderAVersionComeInParticipantOrderAfterTheCursor) {
  const auto rows = keyed_participants({1, 2, 1, 3, 1, 2});
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) {
    for (const auto& r : rows) BRUG_RETURN_IF_ERROR(s.exchange.put_participant(r, kNow));
    return s.exchange.erase_participant(rows[2].participant, kNow).status();
  }));
  // Not under 2: participants 1, 4 and 5 (3 is erased), in order, two at a time.
  const auto first =
      read_value(db(), [](Stores& s) { return s.exchange.keys_not_under(2, "", 2); });
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[0].participant, rows[0].participant);
  EXPECT_EQ(first[0].wrapped_key, rows[0].wrapped_key) << "byte exact";
  EXPECT_EQ(first[1].participant, rows[3].participant);
  EXPECT_EQ(first[1].wrapped_key, rows[3].wrapped_key);
  const std::string cursor = first[1].participant;
  const auto second =
      read_value(db(), [&](Stores& s) { return s.exchange.keys_not_under(2, cursor, 2); });
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].participant, rows[4].participant);
  EXPECT_TRUE(read_value(db(), [&](Stores& s) {
                return s.exchange.keys_not_under(2, second[0].participant, 2);
              }).empty());
}

TEST_P(StoreConformance, ReplaceWrappedKeyChangesOnlyAKeyThatIsStillTheOldOne) {
  const auto rows = keyed_participants({1, 1});
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) {
    for (const auto& r : rows) BRUG_RETURN_IF_ERROR(s.exchange.put_participant(r, kNow));
    return Status::ok();
  }));
  const Blob fresh = wrapped_under(2, "fresh");
  EXPECT_TRUE(write_value(db(), [&](Stores& s) {
    return s.exchange.replace_wrapped_key(rows[0].participant, *rows[0].wrapped_key, fresh);
  }));
  const auto after =
      read_value(db(), [&](Stores& s) { return s.exchange.participant(rows[0].participant); });
  ASSERT_TRUE(after);
  EXPECT_EQ(after->wrapped_key, fresh);
  EXPECT_EQ(after->sealed_bsn, rows[0].sealed_bsn) << "the sealed BSN is not touched";
  // A second replace from the old key: it changed meanwhile, so nothing happens.
  EXPECT_FALSE(write_value(db(), [&](Stores& s) {
    return s.exchange.replace_wrapped_key(rows[0].participant, *rows[0].wrapped_key,
                                          wrapped_under(3, "late"));
  }));
  EXPECT_EQ(read_value(db(), [&](Stores& s) { return s.exchange.participant(rows[0].participant); })
                ->wrapped_key,
            fresh);
  // An erased participant keeps no key.
  EXPECT_TRUE(write_value(
      db(), [&](Stores& s) { return s.exchange.erase_participant(rows[1].participant, kNow); }));
  EXPECT_FALSE(write_value(db(), [&](Stores& s) {
    return s.exchange.replace_wrapped_key(rows[1].participant, *rows[1].wrapped_key, fresh);
  }));
  EXPECT_FALSE(read_value(db(), [&](Stores& s) {
                 return s.exchange.participant(rows[1].participant);
               })->wrapped_key);
  const std::map<std::uint32_t, std::int64_t> want = {{2, 1}};
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.exchange.wrapped_key_versions(); }), want);
}

// ---- referrals ---------------------------------------------------------------------------------

TEST_P(StoreConformance, ReferralBySourceFindsTheReferralOfThatSenderAndSourceRef) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    return s.exchange.add_referral(referral("r2", "pb-b", kP2, "proj-q", kPublic));
  }));
  const auto found =
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("pb-b", "src-r2"); });
  ASSERT_TRUE(found);
  EXPECT_EQ(std::tie(found->id, found->recipient, found->purpose, found->participant,
                     found->content_hash),
            std::tie("r2", "proj-q", kPublic, kP2, "hash-of-r2"));
  EXPECT_FALSE(
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r2"); }));
  EXPECT_FALSE(
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("pb-b", "src-r1"); }));
}

TEST_P(StoreConformance, ASecondReferralWithTheSameSenderAndSourceRefIsRefused) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")); }));
  NewReferral again = referral("r2", "gem-a", kP2, "proj-q");
  again.source_ref = "src-r1";
  EXPECT_FALSE(db().write([&](Stores& s) { return s.exchange.add_referral(again); }).is_ok());
  const auto kept =
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r1"); });
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->id, "r1");
  EXPECT_EQ(kept->content_hash, "hash-of-r1");
  // Another sender may use the same source_ref.
  NewReferral other = referral("r3", "pb-b", kP2, "proj-q");
  other.source_ref = "src-r1";
  CONFORMANCE_EXPECT_OK(db().write([&](Stores& s) { return s.exchange.add_referral(other); }));
  const auto theirs =
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("pb-b", "src-r1"); });
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->id, "r3");
}

TEST_P(StoreConformance, PendingReferralsAreTheRecipientsUnfedUnpurgedOnesOldestFirst) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "gem-a", kP1, "proj-q")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r3", "pb-b", kP2, "proj-p", kPublic)));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r4", "gem-a", kP3, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r5", "gem-a", kP2, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r6", "gem-a", kP1, "proj-p", kPublic)));
    return s.exchange.mark_fed("r4").status();
  }));
  // r6: P1 to proj-p for kPublic, purged.
  EXPECT_EQ(write_value(db(),
                        [](Stores& s) {
                          return s.exchange.purge_referrals(kP1, "proj-p", std::string(kPublic));
                        }),
            1);
  const auto pending =
      read_value(db(), [](Stores& s) { return s.exchange.pending_referrals("proj-p", 0, 100); });
  ASSERT_EQ(ids_of(pending), (std::vector<std::string>{"r1", "r3", "r5"}));
  EXPECT_LT(pending[0].position, pending[1].position);
  EXPECT_LT(pending[1].position, pending[2].position);
  EXPECT_EQ(std::tie(pending[1].participant, pending[1].purpose, pending[1].source_org),
            std::tie(kP2, kPublic, "pb-b"));

  const std::int64_t first = pending[0].position;
  EXPECT_EQ(
      ids_of(read_value(
          db(), [&](Stores& s) { return s.exchange.pending_referrals("proj-p", first, 100); })),
      (std::vector<std::string>{"r3", "r5"}));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.pending_referrals("proj-p", 0, 2); })),
            (std::vector<std::string>{"r1", "r3"}));
  const std::int64_t last = pending[2].position;
  EXPECT_TRUE(read_value(db(), [&](Stores& s) {
                return s.exchange.pending_referrals("proj-p", last, 100);
              }).empty());
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.exchange.pending_referrals("aud-z", 0, 100);
              }).empty());

  EXPECT_TRUE(write_value(db(), [](Stores& s) { return s.exchange.mark_fed("r3"); }));
  // Taken once only, and never once purged: a late writer learns not to feed it.
  EXPECT_FALSE(write_value(db(), [](Stores& s) { return s.exchange.mark_fed("r3"); }));
  EXPECT_FALSE(write_value(db(), [](Stores& s) { return s.exchange.mark_fed("r6"); }));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.pending_referrals("proj-p", 0, 100); })),
            (std::vector<std::string>{"r1", "r5"}));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.pending_referrals("proj-q", 0, 100); })),
            (std::vector<std::string>{"r2"}));
}

TEST_P(StoreConformance, ReferrersAndRecipientsOfListEachOrganisationOnce) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "gem-a", kP1, "proj-p", kPublic)));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r3", "pb-b", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r4", "gem-a", kP1, "proj-q")));
    return s.exchange.add_referral(referral("r5", "pb-b", kP2, "proj-q"));
  }));
  EXPECT_EQ(sorted(read_value(db(), [](Stores& s) { return s.exchange.referrers(kP1, "proj-p"); })),
            (std::vector<std::string>{"gem-a", "pb-b"}));
  EXPECT_EQ(sorted(read_value(db(), [](Stores& s) { return s.exchange.referrers(kP1, "proj-q"); })),
            (std::vector<std::string>{"gem-a"}));
  EXPECT_TRUE(
      read_value(db(), [](Stores& s) { return s.exchange.referrers(kP3, "proj-p"); }).empty());
  EXPECT_EQ(sorted(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kP1); })),
            (std::vector<std::string>{"proj-p", "proj-q"}));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kP2); }),
            (std::vector<std::string>{"proj-q"}));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kP3); }).empty());
}

// A backend may find a participant's referrals through a number of its own for the participant
// (SQLite migration 9): storing the participant again, in one batch with new ones too, keeps the
// referrals it had before.
TEST_P(StoreConformance, AParticipantStoredAgainKeepsItsReferrals) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.put_participants(
        {participant_row(kUnknown), participant_row(kP1, "-again"), participant_row(kP2, "-2")},
        kNow));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "pb-b", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r3", "gem-a", kUnknown, "proj-q")));
    return s.exchange.add_referral(referral("r4", "gem-a", kP2, "proj-p"));
  }));
  EXPECT_EQ(sorted(read_value(db(), [](Stores& s) { return s.exchange.referrers(kP1, "proj-p"); })),
            (std::vector<std::string>{"gem-a", "pb-b"}));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kUnknown); }),
            (std::vector<std::string>{"proj-q"}));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kP2); }),
            (std::vector<std::string>{"proj-p"}));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kP3); }).empty());
  EXPECT_EQ(
      write_value(
          db(), [](Stores& s) { return s.exchange.purge_referrals(kP1, "proj-p", std::nullopt); }),
      2);
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.exchange.recipients_of(kP2); }),
            (std::vector<std::string>{"proj-p"}));
}

TEST_P(StoreConformance, PurgeReferralsCountsThemAndDestroysTheirSealedRecords) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "pb-b", kP1, "proj-p", kPublic)));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r3", "gem-a", kP1, "proj-q")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r4", "gem-a", kP2, "proj-p")));
    for (const char* id : {"r1", "r2", "r4"}) {
      auto added = s.exchange.add_feed_item(
          feed_item("proj-p", FeedKind::kReferral, id == std::string("r4") ? kP2 : kP1, id));
      if (!added) return added.status();
    }
    return Status::ok();
  }));
  // A purged referral leaves its recipient's feed; what is still there keeps its record.
  auto sealed_in_feed = [&](const std::string& id) -> std::optional<Blob> {
    for (const auto& e :
         read_value(db(), [](Stores& s) { return s.exchange.feed_page("proj-p", 0, 100); })) {
      if (e.ref_id == id) return e.sealed;
    }
    return std::nullopt;
  };
  EXPECT_EQ(sealed_in_feed("r1"), sealed_of("r1"));

  // One purpose: only r1.
  EXPECT_EQ(write_value(db(),
                        [](Stores& s) {
                          return s.exchange.purge_referrals(kP1, "proj-p", std::string(kWork));
                        }),
            1);
  EXPECT_FALSE(sealed_in_feed("r1"));
  // The other purpose's referral of the same participant stays in the feed, whole.
  EXPECT_EQ(sealed_in_feed("r2"), sealed_of("r2"));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.pending_referrals("proj-p", 0, 100); })),
            (std::vector<std::string>{"r2", "r4"}));

  // Every purpose: counts the purged r1 too, leaves other recipients and participants alone.
  EXPECT_EQ(
      write_value(
          db(), [](Stores& s) { return s.exchange.purge_referrals(kP1, "proj-p", std::nullopt); }),
      2);
  EXPECT_FALSE(sealed_in_feed("r2"));
  EXPECT_EQ(sealed_in_feed("r4"), sealed_of("r4"));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.pending_referrals("proj-q", 0, 100); })),
            (std::vector<std::string>{"r3"}));
  EXPECT_EQ(
      write_value(
          db(), [](Stores& s) { return s.exchange.purge_referrals(kP3, "proj-p", std::nullopt); }),
      0);
  // The referrals themselves are kept: idempotency still finds them.
  EXPECT_TRUE(
      read_value(db(), [](Stores& s) { return s.exchange.referral_by_source("gem-a", "src-r1"); }));
}

// ---- outcomes ----------------------------------------------------------------------------------

// gem-a referred P1 to proj-p twice and P3 to proj-q; pb-b referred P2 to proj-p. Outcomes:
// o1 (proj-p, P1), o2 (proj-p, P2), o3 (proj-q, P1: not referred there by gem-a), o4 (proj-q, P3).
void seed_outcomes(Database& db) {
  ASSERT_NO_FATAL_FAILURE(seed(db));
  CONFORMANCE_ASSERT_OK(db.write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("ra1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("ra2", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("rb1", "pb-b", kP2, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("ra3", "gem-a", kP3, "proj-q")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("rb2", "pb-b", kP1, "proj-q")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o1", "proj-p", kP1)));
    BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o2", "proj-p", kP2)));
    BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o3", "proj-q", kP1)));
    return s.exchange.add_outcome(outcome("o4", "proj-q", kP3));
  }));
}

TEST_P(StoreConformance, OutcomesForSenderAreThoseOfParticipantsItReferredToThatProject) {
  ASSERT_NO_FATAL_FAILURE(seed_outcomes(db()));
  const auto mine =
      read_value(db(), [](Stores& s) { return s.exchange.outcomes_for_sender("gem-a", false); });
  ASSERT_EQ(ids_of(mine), (std::vector<std::string>{"o1", "o4"}));
  EXPECT_LT(mine[0].position, mine[1].position);
  const OutcomeForSender& o1 = mine[0];
  EXPECT_EQ(std::tie(o1.participant, o1.project, o1.referral_id), std::tie(kP1, "proj-p", "ra1"))
      << "joins the sender's first referral of the participant to the project";
  EXPECT_EQ(o1.sealed, sealed_of("o1"));
  EXPECT_EQ(o1.wrapped_key, participant_row(kP1).wrapped_key);
  EXPECT_EQ(o1.referral_sealed, sealed_of("ra1"));
  EXPECT_EQ(o1.referral_purpose, kWork) << "the referral's seal binds its purpose";
  EXPECT_EQ(mine[1].referral_id, "ra3");

  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.outcomes_for_sender("pb-b", false); })),
            (std::vector<std::string>{"o2", "o3"}));
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.exchange.outcomes_for_sender("proj-p", false);
              }).empty());
}

TEST_P(StoreConformance, UndeliveredOutcomesLeaveOutThoseInTheSendersOwnFeed) {
  ASSERT_NO_FATAL_FAILURE(seed_outcomes(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    // o1 is in gem-a's feed; o4 only in pb-b's.
    for (const auto& [recipient, id, p] :
         {std::tuple("gem-a", "o1", kP1), std::tuple("pb-b", "o4", kP3)}) {
      auto added = s.exchange.add_feed_item(feed_item(recipient, FeedKind::kOutcome, p, id));
      if (!added) return added.status();
    }
    return Status::ok();
  }));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.outcomes_for_sender("gem-a", true); })),
            (std::vector<std::string>{"o4"}));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.outcomes_for_sender("gem-a", false); })),
            (std::vector<std::string>{"o1", "o4"}));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.outcomes_for_sender("pb-b", true); })),
            (std::vector<std::string>{"o2", "o3"}));
}

// An outcome waits for every organisation that referred the participant to its project, also
// one that referred them only after the outcome was stored, until it is in that sender's feed
// or purged.
TEST_P(StoreConformance, UndeliveredOutcomesFollowReferralsMadeLaterDeliveryAndPurge) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  auto undelivered = [&](const std::string& sender) {
    return ids_of(
        read_value(db(), [&](Stores& s) { return s.exchange.outcomes_for_sender(sender, true); }));
  };
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o1", "proj-p", kP1)));
    return s.exchange.add_referral(referral("ra1", "gem-a", kP2, "proj-p"));
  }));
  EXPECT_TRUE(undelivered("gem-a").empty()) << "nobody referred P1 to proj-p yet";
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referrals({referral("ra2", "gem-a", kP1, "proj-p"),
                                                   referral("rb1", "pb-b", kP1, "proj-p"),
                                                   referral("rb2", "pb-b", kP1, "proj-q")}));
    return s.exchange.add_outcome(outcome("o2", "proj-p", kP1));
  }));
  EXPECT_EQ(undelivered("gem-a"), (std::vector<std::string>{"o1", "o2"}));
  EXPECT_EQ(undelivered("pb-b"), (std::vector<std::string>{"o1", "o2"}));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    auto added = s.exchange.add_feed_item(feed_item("gem-a", FeedKind::kOutcome, kP1, "o1"));
    if (!added) return added.status();
    // Referred again: what gem-a already has does not wait for it again.
    return s.exchange.add_referral(referral("ra3", "gem-a", kP1, "proj-p"));
  }));
  EXPECT_EQ(undelivered("gem-a"), (std::vector<std::string>{"o2"}));
  EXPECT_EQ(undelivered("pb-b"), (std::vector<std::string>{"o1", "o2"}));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.exchange.purge_outcomes(kP1); }));
  EXPECT_TRUE(undelivered("gem-a").empty());
  EXPECT_TRUE(undelivered("pb-b").empty());
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.add_referral(referral("rb3", "pb-b", kP1, "proj-p")); }));
  EXPECT_TRUE(undelivered("pb-b").empty()) << "a purged outcome waits for nobody";
}

TEST_P(StoreConformance, PurgedOutcomesAreLeftOutAndErasedParticipantsHaveNoKey) {
  ASSERT_NO_FATAL_FAILURE(seed_outcomes(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    auto added = s.exchange.add_feed_item(feed_item("gem-a", FeedKind::kOutcome, kP1, "o1"));
    if (!added) return added.status();
    BRUG_RETURN_IF_ERROR(s.exchange.purge_outcomes(kP1));
    auto erased = s.exchange.erase_participant(kP3, kNow);
    return erased.status();
  }));
  const auto mine =
      read_value(db(), [](Stores& s) { return s.exchange.outcomes_for_sender("gem-a", false); });
  ASSERT_EQ(ids_of(mine), (std::vector<std::string>{"o4"}));
  EXPECT_FALSE(mine[0].wrapped_key);
  EXPECT_EQ(mine[0].sealed, sealed_of("o4"));
  EXPECT_EQ(ids_of(read_value(
                db(), [](Stores& s) { return s.exchange.outcomes_for_sender("pb-b", false); })),
            (std::vector<std::string>{"o2"}));
  const auto feed =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("gem-a", 0, 10); });
  ASSERT_EQ(feed.size(), 1u);
  EXPECT_FALSE(feed[0].sealed) << "the purged outcome's sealed record is gone";
}

// ---- feeds -------------------------------------------------------------------------------------

// ---- batches -----------------------------------------------------------------------------------

// A participant index per number (64 hex digits), for batches larger than any backend's chunk.
std::string participant_n(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", 0x100000 + n);
  return buf;
}

TEST_P(StoreConformance, BatchedParticipantsAreFoundPutAndGivenNewKeysAsOneByOne) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  constexpr int kMany = 150;  // several chunks on a backend that sends them in chunks
  std::vector<ParticipantRow> rows;
  for (int i = 0; i < kMany; ++i) rows.push_back(participant_row(participant_n(i), "v1"));
  CONFORMANCE_ASSERT_OK(
      db().write([&](Stores& s) { return s.exchange.put_participants(rows, kNow); }));
  EXPECT_TRUE(write_value(db(), [](Stores& s) { return s.exchange.erase_participant(kP2, kNow); }));
  // Asked for: every other new one, an erased one, an unknown one and a seeded one.
  std::vector<std::string> asked{kP2, kUnknown, kP1};
  for (int i = 0; i < kMany; i += 2) asked.push_back(participant_n(i));
  auto found = read_value(db(), [&](Stores& s) { return s.exchange.participants(asked); });
  std::map<std::string, ParticipantRow> by_name;
  for (auto& r : found) by_name.emplace(r.participant, r);
  EXPECT_EQ(by_name.size(), found.size()) << "each participant once";
  EXPECT_EQ(found.size(), 2u + kMany / 2);
  EXPECT_FALSE(by_name.count(kUnknown));
  ASSERT_TRUE(by_name.count(kP2));
  EXPECT_FALSE(by_name.at(kP2).wrapped_key) << "erased: no key";
  ASSERT_TRUE(by_name.count(participant_n(148)));
  EXPECT_EQ(by_name.at(participant_n(148)).wrapped_key,
            participant_row(participant_n(148), "v1").wrapped_key);
  EXPECT_EQ(by_name.at(kP1).sealed_bsn, participant_row(kP1).sealed_bsn);
  EXPECT_FALSE(by_name.count(participant_n(1)));
  // Putting again: an erased participant gets its new key, a batch may name one twice (the
  // last row wins), and nothing else changes.
  std::vector<ParticipantRow> again{participant_row(kP2, "v2"),
                                    participant_row(participant_n(3), "v2"),
                                    participant_row(participant_n(3), "v3")};
  CONFORMANCE_ASSERT_OK(
      db().write([&](Stores& s) { return s.exchange.put_participants(again, kNow); }));
  const auto p2 = read_value(db(), [](Stores& s) { return s.exchange.participant(kP2); });
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->wrapped_key, participant_row(kP2, "v2").wrapped_key);
  const auto p3 =
      read_value(db(), [](Stores& s) { return s.exchange.participant(participant_n(3)); });
  ASSERT_TRUE(p3);
  EXPECT_EQ(p3->wrapped_key, participant_row(participant_n(3), "v3").wrapped_key);
}

TEST_P(StoreConformance, BatchedReferralsAreAddedFoundBySourceAndRefusedWholeOnAReusedSourceRef) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  std::vector<NewReferral> batch;
  for (int i = 0; i < 130; ++i) {
    batch.push_back(referral("rb" + std::to_string(i), "gem-a", i % 2 ? kP1 : kP2, "proj-p"));
  }
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.exchange.add_referrals(batch); }));
  std::vector<std::string> refs{"src-rb0", "src-rb129", "src-unknown", "src-rb64"};
  auto found =
      read_value(db(), [&](Stores& s) { return s.exchange.referrals_by_source("gem-a", refs); });
  std::map<std::string, StoredReferral> by_ref(found.begin(), found.end());
  ASSERT_EQ(by_ref.size(), 3u);
  EXPECT_EQ(by_ref.at("src-rb129").id, "rb129");
  EXPECT_EQ(std::tie(by_ref.at("src-rb64").participant, by_ref.at("src-rb64").recipient,
                     by_ref.at("src-rb64").purpose, by_ref.at("src-rb64").content_hash),
            std::tie(kP2, "proj-p", kWork, "hash-of-rb64"));
  EXPECT_TRUE(read_value(db(), [&](Stores& s) {
                return s.exchange.referrals_by_source("pb-b", refs);
              }).empty());
  // The pending order is the batch's order.
  const auto pending =
      read_value(db(), [](Stores& s) { return s.exchange.pending_referrals("proj-p", 0, 1000); });
  ASSERT_EQ(pending.size(), batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(pending[i].id, batch[i].id);
  // A batch that reuses a source_ref (here its last item) stores none of its items.
  std::vector<NewReferral> bad;
  for (int i = 0; i < 70; ++i)
    bad.push_back(referral("rx" + std::to_string(i), "gem-a", kP3, "proj-q"));
  bad.back().source_ref = "src-rb5";
  EXPECT_FALSE(db().write([&](Stores& s) { return s.exchange.add_referrals(bad); }).is_ok());
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.exchange.pending_referrals("proj-q", 0, 100);
              }).empty());
}

// A look-up by a list of keys either refuses a key holding a control character or finds
// nothing for it; it never splits it and finds the rows of its parts.
template <typename Lookup>
void expect_refused_or_nothing(Database& db, const char* what, const char sep, Lookup lookup) {
  bool found_nothing = false;
  const Status read = db.read([&](Stores& s) {
    auto got = lookup(s);
    if (got) found_nothing = got->empty();
    return got.status();
  });
  if (read.is_ok()) {
    EXPECT_TRUE(found_nothing) << what << ", separator " << static_cast<int>(sep);
  } else {
    EXPECT_EQ(read.code(), Code::kInvalidArgument)
        << what << ", separator " << static_cast<int>(sep);
  }
}

TEST_P(StoreConformance, AKeyHoldingAControlCharacterNeverFindsTheRowsOfItsParts) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  // Rows for each part: a referral under source_ref "src-rx1", consents of kP1 and kP2.
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referrals({referral("rx1", "gem-a", kP1, "proj-p")}));
    for (const std::string& p : {kP1, kP2}) {
      BRUG_RETURN_IF_ERROR(s.consents.insert(
          consent_of("cns_x" + p.substr(0, 1), p, "proj-p", Purpose::kBegeleidingNaarWerk, kNow)));
    }
    return Status::ok();
  }));
  const auto parts_found = read_value(db(), [&](Stores& s) {
    return s.consents.for_grants({kP1, kP2}, "proj-p", Purpose::kBegeleidingNaarWerk);
  });
  ASSERT_EQ(parts_found.size(), 2u) << "asked for as themselves, the parts are found";
  for (const char sep : {'\x1f', '\x1e', '\0', ','}) {
    const std::string joined = std::string(kP1) + sep + kP2;
    expect_refused_or_nothing(db(), "participants", sep,
                              [&](Stores& s) { return s.exchange.participants({joined}); });
    expect_refused_or_nothing(db(), "referrals_by_source", sep, [&](Stores& s) {
      return s.exchange.referrals_by_source("gem-a", {std::string("src-rx1") + sep + "src-rx1"});
    });
    expect_refused_or_nothing(db(), "for_grants", sep, [&](Stores& s) {
      return s.consents.for_grants({joined}, "proj-p", Purpose::kBegeleidingNaarWerk);
    });
  }
}

// Source references are any printable text: quotes, backslashes, commas, braces and spaces are
// looked up as themselves, never split or unescaped (a batched look-up may encode its keys).
TEST_P(StoreConformance, SourceRefsWithQuotesCommasBracesAndBackslashesAreFoundAsThemselves) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  const std::vector<std::string> odd = {"a,b",  "\"q\"", "back\\slash", "{x}", " lead",
                                        "NULL", "a\\,b", "''",          "}{",  "\\\""};
  std::vector<NewReferral> batch;
  for (std::size_t i = 0; i < odd.size(); ++i) {
    batch.push_back(referral("ro" + std::to_string(i), "gem-a", kP1, "proj-p"));
    batch.back().source_ref = odd[i];
  }
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.exchange.add_referrals(batch); }));
  std::vector<std::string> asked = odd;
  asked.push_back("a");  // parts of the odd ones are not found
  asked.push_back("b");
  asked.push_back("q");
  auto found =
      read_value(db(), [&](Stores& s) { return s.exchange.referrals_by_source("gem-a", asked); });
  std::map<std::string, StoredReferral> by_ref(found.begin(), found.end());
  ASSERT_EQ(by_ref.size(), odd.size());
  for (std::size_t i = 0; i < odd.size(); ++i) {
    ASSERT_EQ(by_ref.count(odd[i]), 1u) << odd[i];
    EXPECT_EQ(by_ref.at(odd[i]).id, "ro" + std::to_string(i));
  }
}

TEST_P(StoreConformance, FeedingReferralsInABatchTakesEachOnceInOrderAndNeverAPurgedOne) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  std::vector<NewReferral> batch;
  // Two participants taking turns: each item must come with its own participant's key row.
  auto person = [](int i) { return i == 99 ? kP3 : i % 2 == 0 ? kP1 : kP2; };
  for (int i = 0; i < 100; ++i)
    batch.push_back(referral("rf" + std::to_string(i), "gem-a", person(i), "proj-p"));
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referrals(batch));
    return s.exchange.mark_fed("rf10").status();  // already taken by another reader
  }));
  EXPECT_EQ(
      write_value(
          db(), [](Stores& s) { return s.exchange.purge_referrals(kP3, "proj-p", std::nullopt); }),
      1);
  std::vector<NewFeedItem> items;
  for (int i = 99; i >= 0; --i)
    items.push_back(feed_item("proj-p", FeedKind::kReferral, person(i), "rf" + std::to_string(i)));
  EXPECT_EQ(write_value(db(), [&](Stores& s) { return s.exchange.feed_referrals(items); }), 98);
  EXPECT_EQ(write_value(db(), [&](Stores& s) { return s.exchange.feed_referrals(items); }), 0)
      << "once";
  const auto page =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("proj-p", 0, 1000); });
  ASSERT_EQ(page.size(), 98u);
  EXPECT_EQ(page.front().ref_id, "rf98") << "the order given";
  EXPECT_EQ(page.back().ref_id, "rf0");
  for (const auto& e : page) {
    EXPECT_NE(e.ref_id, "rf10");
    EXPECT_EQ(e.holder.wrapped_key,
              participant_row(person(std::stoi(e.ref_id.substr(2)))).wrapped_key)
        << e.ref_id;
  }
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.exchange.pending_referrals("proj-p", 0, 1000);
              }).empty());
  // Found by their participant's number: removing one participant's items leaves the other's.
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.remove_feed_items("proj-p", kP2, FeedKind::kReferral); }));
  const auto left =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("proj-p", 0, 1000); });
  EXPECT_EQ(left.size(), 49u);
  for (const auto& e : left) EXPECT_EQ(e.participant, kP1) << e.ref_id;
}

// The edges of feed_referrals, as the per-item definition (mark_fed, then add_feed_item) has them.
TEST_P(StoreConformance, FeedingReferralsTakesAnIdGivenTwiceOnceAndSkipsUnknownOrFedOnes) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("re1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("re2", "gem-a", kP2, "proj-p")));
    // Already in the feed while the referral is still pending: taken, but not added again.
    return s.exchange.add_feed_item(feed_item("proj-p", FeedKind::kReferral, kP2, "re2")).status();
  }));
  auto feed = [&](const std::vector<NewFeedItem>& items) {
    return write_value(db(), [&](Stores& s) { return s.exchange.feed_referrals(items); });
  };
  EXPECT_EQ(feed({}), 0);
  EXPECT_EQ(feed({feed_item("proj-p", FeedKind::kReferral, kP1, "unknown")}), 0);
  EXPECT_EQ(feed({feed_item("proj-p", FeedKind::kReferral, kP1, "re1"),
                  feed_item("gem-a", FeedKind::kReferral, kP1, "re1"),
                  feed_item("proj-p", FeedKind::kReferral, kP2, "re2")}),
            1);
  EXPECT_EQ(
      ref_ids_of(read_value(db(), [](Stores& s) { return s.exchange.feed_page("proj-p", 0, 10); })),
      (std::vector<std::string>{"re2", "re1"}));
  EXPECT_TRUE(
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("gem-a", 0, 10); }).empty())
      << "an id given twice is taken once, by its first item";
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.exchange.pending_referrals("proj-p", 0, 10);
              }).empty());
}

TEST_P(StoreConformance, AFeedTakesEachRecordOnceButDeletionNoticesAgain) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")); }));
  auto add = [&](const NewFeedItem& item) {
    return write_value(db(), [&](Stores& s) { return s.exchange.add_feed_item(item); });
  };
  EXPECT_TRUE(add(feed_item("proj-p", FeedKind::kReferral, kP1, "r1")));
  EXPECT_FALSE(add(feed_item("proj-p", FeedKind::kReferral, kP1, "r1")));
  EXPECT_TRUE(add(feed_item("gem-a", FeedKind::kReferral, kP1, "r1"))) << "another feed";
  EXPECT_TRUE(add(feed_item("proj-p", FeedKind::kDeletion, kP1, "")));
  EXPECT_TRUE(add(feed_item("proj-p", FeedKind::kDeletion, kP1, "")));
  EXPECT_EQ(
      read_value(db(), [](Stores& s) { return s.exchange.feed_count_after("proj-p", 0, 100); }), 3);
  EXPECT_EQ(
      read_value(db(), [](Stores& s) { return s.exchange.feed_count_after("gem-a", 0, 100); }), 1);
}

TEST_P(StoreConformance, FeedCountAfterCountsTheItemsPastTheCursorUpToTheLimit) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    for (int i = 0; i < 5; ++i) {
      auto added =
          s.exchange.add_feed_item(feed_item("proj-p", FeedKind::kDeletion, kP1, "", kWork));
      if (!added) return added.status();
      auto other = s.exchange.add_feed_item(feed_item("proj-q", FeedKind::kDeletion, kP1, ""));
      if (!other) return other.status();
    }
    return Status::ok();
  }));
  const auto page =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("proj-p", 0, 100); });
  ASSERT_EQ(page.size(), 5u);
  const std::int64_t second = page[1].cursor;
  EXPECT_EQ(
      read_value(db(), [](Stores& s) { return s.exchange.feed_count_after("proj-p", 0, 100); }), 5);
  EXPECT_EQ(
      read_value(db(),
                 [&](Stores& s) { return s.exchange.feed_count_after("proj-p", second, 100); }),
      3);
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.exchange.feed_count_after("proj-p", 0, 2); }),
            2);
  EXPECT_EQ(read_value(db(),
                       [&](Stores& s) {
                         return s.exchange.feed_count_after("proj-p", page[4].cursor, 100);
                       }),
            0);
  EXPECT_EQ(
      read_value(db(), [](Stores& s) { return s.exchange.feed_count_after("gem-a", 0, 100); }), 0);
}

TEST_P(StoreConformance, AFeedPageJoinsTheSealedRecordSenderAndParticipantInCursorOrder) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "pb-b", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o1", "proj-q", kP2)));
    for (const auto& item : {feed_item("gem-a", FeedKind::kReferral, kP1, "r1"),
                             feed_item("gem-a", FeedKind::kOutcome, kP2, "o1", kPublic),
                             feed_item("gem-a", FeedKind::kDeletion, kP3, ""),
                             feed_item("proj-p", FeedKind::kReferral, kP1, "r1")}) {
      auto added = s.exchange.add_feed_item(item);
      if (!added) return added.status();
    }
    return Status::ok();
  }));
  const auto page =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("gem-a", 0, 100); });
  ASSERT_EQ(page.size(), 3u);
  EXPECT_LT(page[0].cursor, page[1].cursor);
  EXPECT_LT(page[1].cursor, page[2].cursor);

  const FeedEntry& ref = page[0];
  EXPECT_EQ(ref.kind, FeedKind::kReferral);
  EXPECT_EQ(std::tie(ref.participant, ref.ref_id, ref.purpose, ref.from),
            std::tie(kP1, "r1", kWork, "pb-b"));
  EXPECT_EQ(ref.sealed, sealed_of("r1"));
  EXPECT_EQ(ref.holder.participant, kP1);
  EXPECT_EQ(ref.holder.wrapped_key, participant_row(kP1).wrapped_key);
  EXPECT_EQ(ref.holder.sealed_bsn, participant_row(kP1).sealed_bsn);

  const FeedEntry& out = page[1];
  EXPECT_EQ(out.kind, FeedKind::kOutcome);
  EXPECT_EQ(std::tie(out.participant, out.ref_id, out.purpose, out.from),
            std::tie(kP2, "o1", kPublic, "proj-q"));
  EXPECT_EQ(out.sealed, sealed_of("o1"));
  EXPECT_EQ(out.holder.wrapped_key, participant_row(kP2).wrapped_key);

  const FeedEntry& del = page[2];
  EXPECT_EQ(del.kind, FeedKind::kDeletion);
  EXPECT_EQ(del.participant, kP3);
  EXPECT_EQ(del.ref_id, "");
  EXPECT_FALSE(del.sealed);

  // Paging: after a cursor, at most `limit`.
  const std::int64_t first = page[0].cursor;
  EXPECT_EQ(ref_ids_of(read_value(
                db(), [&](Stores& s) { return s.exchange.feed_page("gem-a", first, 1); })),
            (std::vector<std::string>{"o1"}));
  EXPECT_EQ(
      ref_ids_of(read_value(db(), [](Stores& s) { return s.exchange.feed_page("gem-a", 0, 2); })),
      (std::vector<std::string>{"r1", "o1"}));
  EXPECT_TRUE(read_value(db(), [&](Stores& s) {
                return s.exchange.feed_page("gem-a", page[2].cursor, 10);
              }).empty());
}

TEST_P(StoreConformance, AFeedPageInPartsIsThePageInOrderAndStopsAtAnError) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    for (int i = 1; i <= 7; ++i) {
      const std::string id = "r" + std::to_string(i);
      const std::string& who = i % 3 == 0 ? kP3 : i % 2 == 0 ? kP2 : kP1;
      BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral(id, "pb-b", who, "gem-a")));
      auto added = s.exchange.add_feed_item(feed_item("gem-a", FeedKind::kReferral, who, id));
      if (!added) return added.status();
    }
    return Status::ok();
  }));
  const auto whole =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("gem-a", 0, 100); });
  ASSERT_EQ(whole.size(), 7u);
  // The parts, their sizes and what each holds, for a page of `limit` after `after`.
  auto parts = [&](std::int64_t after, std::int64_t limit, std::size_t part) {
    std::vector<std::vector<FeedEntry>> out;
    CONFORMANCE_EXPECT_OK(db().read([&](Stores& s) {
      out.clear();
      return s.exchange.feed_page_parts("gem-a", after, limit, part,
                                        [&](std::vector<FeedEntry> some) {
                                          // The other stores can be used between parts.
                                          auto n = s.exchange.feed_count_after("gem-a", 0, 100);
                                          if (!n) return n.status();
                                          if (*n != 7) return Status::error(Code::kInternal, "");
                                          out.push_back(std::move(some));
                                          return Status::ok();
                                        });
    }));
    return out;
  };
  auto sizes = [](const std::vector<std::vector<FeedEntry>>& v) {
    std::vector<std::size_t> out;
    for (const auto& p : v) out.push_back(p.size());
    return out;
  };
  auto joined = [](const std::vector<std::vector<FeedEntry>>& v) {
    std::vector<FeedEntry> out;
    for (const auto& p : v) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  const auto in_threes = parts(0, 100, 3);
  EXPECT_EQ(sizes(in_threes), (std::vector<std::size_t>{3, 3, 1}));
  const auto again = joined(in_threes);
  ASSERT_EQ(again.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(again[i].cursor, whole[i].cursor);
    EXPECT_EQ(again[i].ref_id, whole[i].ref_id);
    EXPECT_EQ(again[i].sealed, whole[i].sealed);
    EXPECT_EQ(again[i].holder.participant, whole[i].holder.participant);
    EXPECT_EQ(again[i].holder.wrapped_key, whole[i].holder.wrapped_key);
  }
  EXPECT_EQ(sizes(parts(0, 5, 2)), (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(ref_ids_of(joined(parts(whole[2].cursor, 100, 4))),
            (std::vector<std::string>{"r4", "r5", "r6", "r7"}));
  EXPECT_EQ(sizes(parts(0, 6, 6)), (std::vector<std::size_t>{6}));
  EXPECT_TRUE(parts(whole[6].cursor, 100, 3).empty());

  // An error from a part ends the read with that error; no part of 0 entries.
  int calls = 0;
  const Status stopped = db().read([&](Stores& s) {
    calls = 0;
    return s.exchange.feed_page_parts("gem-a", 0, 100, 2, [&](std::vector<FeedEntry>) {
      return ++calls == 2 ? Status::error(Code::kUnavailable, "stop here") : Status::ok();
    });
  });
  EXPECT_EQ(stopped.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 2);
  const Status none = db().read([&](Stores& s) {
    return s.exchange.feed_page_parts("gem-a", 0, 100, 0,
                                      [](std::vector<FeedEntry>) { return Status::ok(); });
  });
  EXPECT_EQ(none.code(), Code::kInvalidArgument);
}

TEST_P(StoreConformance, AFeedPageShowsNoSealedRecordAfterPurgeAndNoKeyAfterErasure) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "gem-a", kP2, "proj-p")));
    for (const auto& item : {feed_item("proj-p", FeedKind::kReferral, kP1, "r1"),
                             feed_item("proj-p", FeedKind::kReferral, kP2, "r2")}) {
      auto added = s.exchange.add_feed_item(item);
      if (!added) return added.status();
    }
    // The purge takes r1 out of the feed; put back, it shows without its record.
    auto purged = s.exchange.purge_referrals(kP1, "proj-p", std::nullopt);
    if (!purged) return purged.status();
    auto again = s.exchange.add_feed_item(feed_item("proj-p", FeedKind::kReferral, kP1, "r1"));
    if (!again) return again.status();
    if (!*again) return Status::error(Code::kInternal, "the purge left r1 in the feed");
    return s.exchange.erase_participant(kP2, kNow).status();
  }));
  const auto page =
      read_value(db(), [](Stores& s) { return s.exchange.feed_page("proj-p", 0, 10); });
  ASSERT_EQ(ref_ids_of(page), (std::vector<std::string>{"r2", "r1"}));
  EXPECT_FALSE(page[1].sealed);
  EXPECT_EQ(page[1].from, "gem-a");
  EXPECT_EQ(page[1].holder.wrapped_key, participant_row(kP1).wrapped_key);
  EXPECT_FALSE(page[0].holder.wrapped_key);
  EXPECT_FALSE(page[0].holder.sealed_bsn);
}

TEST_P(StoreConformance, RemoveFeedItemsRemovesOneKindOfOneParticipantFromOneOrEveryFeed) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", "gem-a", kP2, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_outcome(outcome("o1", "proj-p", kP1)));
    for (const auto& item : {feed_item("proj-p", FeedKind::kReferral, kP1, "r1"),
                             feed_item("proj-p", FeedKind::kReferral, kP2, "r2"),
                             feed_item("proj-p", FeedKind::kDeletion, kP1, ""),
                             feed_item("proj-q", FeedKind::kReferral, kP1, "r1"),
                             feed_item("gem-a", FeedKind::kOutcome, kP1, "o1"),
                             feed_item("gem-a", FeedKind::kReferral, kP1, "r1")}) {
      auto added = s.exchange.add_feed_item(item);
      if (!added) return added.status();
    }
    return Status::ok();
  }));
  auto feed = [&](const std::string& recipient) {
    std::vector<std::string> out;
    for (const auto& e :
         read_value(db(), [&](Stores& s) { return s.exchange.feed_page(recipient, 0, 100); })) {
      out.push_back(std::string(to_string(e.kind)) + ":" + e.participant.substr(0, 1));
    }
    return out;
  };
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.remove_feed_items("proj-p", kP1, FeedKind::kReferral); }));
  EXPECT_EQ(feed("proj-p"), (std::vector<std::string>{"referral:2", "deletion:1"}));
  EXPECT_EQ(feed("proj-q"), (std::vector<std::string>{"referral:1"}));
  EXPECT_EQ(feed("gem-a"), (std::vector<std::string>{"outcome:1", "referral:1"}));

  // An empty recipient: every feed.
  CONFORMANCE_ASSERT_OK(db().write(
      [](Stores& s) { return s.exchange.remove_feed_items("", kP1, FeedKind::kReferral); }));
  EXPECT_EQ(feed("proj-p"), (std::vector<std::string>{"referral:2", "deletion:1"}));
  EXPECT_TRUE(feed("proj-q").empty());
  EXPECT_EQ(feed("gem-a"), (std::vector<std::string>{"outcome:1"}));

  // A removed record may enter the feed again.
  EXPECT_TRUE(write_value(db(), [](Stores& s) {
    return s.exchange.add_feed_item(feed_item("proj-q", FeedKind::kReferral, kP1, "r1"));
  }));
}

TEST_P(StoreConformance, DeletionIsNewestOnlyWhenTheLatestItemAboutTheParticipantIsOne) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", "gem-a", kP1, "proj-p")));
    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r3", "gem-a", kP2, "proj-p")));
    return s.exchange.add_referral(referral("r2", "gem-a", kP1, "proj-p", kPublic));
  }));
  auto newest = [&](const std::string& recipient, const std::string& p) {
    return read_value(db(), [&](Stores& s) { return s.exchange.deletion_is_newest(recipient, p); });
  };
  auto add = [&](const NewFeedItem& item) {
    EXPECT_TRUE(write_value(db(), [&](Stores& s) { return s.exchange.add_feed_item(item); }));
  };
  EXPECT_FALSE(newest("proj-p", kP1)) << "an empty feed";
  add(feed_item("proj-p", FeedKind::kReferral, kP1, "r1"));
  EXPECT_FALSE(newest("proj-p", kP1));
  add(feed_item("proj-p", FeedKind::kDeletion, kP1, ""));
  EXPECT_TRUE(newest("proj-p", kP1));
  add(feed_item("proj-p", FeedKind::kReferral, kP2, "r3"));
  EXPECT_TRUE(newest("proj-p", kP1)) << "another participant's item does not count";
  EXPECT_FALSE(newest("proj-q", kP1)) << "another feed";
  add(feed_item("proj-q", FeedKind::kDeletion, kP1, ""));
  add(feed_item("proj-p", FeedKind::kReferral, kP1, "r2"));
  EXPECT_FALSE(newest("proj-p", kP1));
  EXPECT_TRUE(newest("proj-q", kP1));
}

// ---- consents ----------------------------------------------------------------------------------

void expect_same_consent(const consent::Consent& got, const consent::Consent& want) {
  EXPECT_EQ(std::tie(got.id, got.participant, got.grantee, got.purpose, got.categories,
                     got.recorded_by, got.recorded_at),
            std::tie(want.id, want.participant, want.grantee, want.purpose, want.categories,
                     want.recorded_by, want.recorded_at));
  EXPECT_EQ(got.valid_from.to_string(), want.valid_from.to_string());
  EXPECT_EQ(got.valid_until.to_string(), want.valid_until.to_string());
  EXPECT_EQ(got.evidence.method, want.evidence.method);
  EXPECT_EQ(got.evidence.reference, want.evidence.reference);
  ASSERT_EQ(got.events.size(), want.events.size());
  for (std::size_t i = 0; i < want.events.size(); ++i) {
    EXPECT_EQ(std::tie(got.events[i].kind, got.events[i].at, got.events[i].actor),
              std::tie(want.events[i].kind, want.events[i].at, want.events[i].actor));
  }
}

TEST_P(StoreConformance, AnInsertedConsentIsFoundWithEveryFieldAndItsGivenEvent) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  consent::Consent c = consent_of("cns_1", kP1, "proj-p", Purpose::kResultaatverantwoording, kNow);
  c.categories = {"contact", "gezondheid", "uitkomsten"};
  c.evidence = {consent::EvidenceMethod::kMondeling, "gesprek 12 mei, dossier 7"};
  c.valid_until = *consent::Date::parse("2028-02-29");
  c.recorded_by = "pb-b";
  c.events = {{consent::EventKind::kGiven, kNow, "pb-b"}};
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.consents.insert(c); }));
  const auto found = read_value(db(), [](Stores& s) { return s.consents.find("cns_1"); });
  ASSERT_TRUE(found);
  expect_same_consent(*found, c);
  EXPECT_FALSE(read_value(db(), [](Stores& s) { return s.consents.find("cns_unknown"); }));
}

TEST_P(StoreConformance, WithdrawingAConsentAppendsOneWithdrawalEventOnly) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  const consent::Consent c =
      consent_of("cns_1", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, kNow);
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.consents.insert(c); }));
  const auto first = write_value(db(), [](Stores& s) {
    return s.consents.withdraw("cns_1", "proj-p", "2026-12-01T08:00:00Z");
  });
  consent::Consent want = c;
  want.events.push_back({consent::EventKind::kWithdrawn, "2026-12-01T08:00:00Z", "proj-p"});
  expect_same_consent(first, want);
  const auto second = write_value(db(), [](Stores& s) {
    return s.consents.withdraw("cns_1", "gem-a", "2026-12-02T08:00:00Z");
  });
  expect_same_consent(second, want);
  const auto stored = read_value(db(), [](Stores& s) { return s.consents.find("cns_1"); });
  ASSERT_TRUE(stored);
  expect_same_consent(*stored, want);
  EXPECT_EQ(stored->withdrawn_at(), std::optional<std::string>("2026-12-01T08:00:00Z"));
}

TEST_P(StoreConformance, WithdrawingAnUnknownConsentIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  const Status s = db().write([](Stores& stores) {
    return stores.consents.withdraw("cns_unknown", "gem-a", kNow).status();
  });
  EXPECT_EQ(s.code(), Code::kNotFound);
}

TEST_P(StoreConformance, ConsentsAreListedPerParticipantOldestFirstAndPerGrant) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    // Inserted out of time order; ids out of time order too.
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_a", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, "2026-03-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_b", kP1, "proj-q", Purpose::kBegeleidingNaarWerk, "2026-01-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.insert(consent_of(
        "cns_c", kP1, "proj-p", Purpose::kResultaatverantwoording, "2026-02-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_d", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, "2026-04-01T00:00:00Z")));
    return s.consents.insert(
        consent_of("cns_e", kP2, "proj-p", Purpose::kBegeleidingNaarWerk, "2026-01-15T00:00:00Z"));
  }));
  EXPECT_EQ(ids_of(read_value(db(), [](Stores& s) { return s.consents.for_participant(kP1); })),
            (std::vector<std::string>{"cns_b", "cns_c", "cns_a", "cns_d"}));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.consents.for_participant(kP3); }).empty());
  EXPECT_EQ(sorted(ids_of(read_value(db(),
                                     [](Stores& s) {
                                       return s.consents.for_grant(kP1, "proj-p",
                                                                   Purpose::kBegeleidingNaarWerk);
                                     }))),
            (std::vector<std::string>{"cns_a", "cns_d"}));
  const auto one = read_value(db(), [](Stores& s) {
    return s.consents.for_grant(kP1, "proj-p", Purpose::kResultaatverantwoording);
  });
  ASSERT_EQ(ids_of(one), (std::vector<std::string>{"cns_c"}));
  EXPECT_EQ(one[0].events.size(), 1u) << "listed consents carry their events";
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.consents.for_grant(kP2, "proj-q", Purpose::kBegeleidingNaarWerk);
              }).empty());
}

TEST_P(StoreConformance, ConsentsOfManyParticipantsAreReadPerParticipantForOneGrant) {
  ASSERT_NO_FATAL_FAILURE(seed(db()));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_a", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, "2026-03-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_b", kP1, "proj-p", Purpose::kBegeleidingNaarWerk, "2026-01-01T00:00:00Z")));
    // Another grantee and another purpose: not asked for.
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_c", kP2, "proj-q", Purpose::kBegeleidingNaarWerk, "2026-01-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.insert(consent_of(
        "cns_d", kP2, "proj-p", Purpose::kResultaatverantwoording, "2026-01-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.insert(
        consent_of("cns_e", kP3, "proj-p", Purpose::kBegeleidingNaarWerk, "2026-02-01T00:00:00Z")));
    BRUG_RETURN_IF_ERROR(s.consents.withdraw("cns_e", "gem-a", kNow).status());
    // Of kP1's two consents for the grant, the newer is withdrawn.
    return s.consents.withdraw("cns_a", "gem-a", kNow).status();
  }));
  const auto found = read_value(db(), [](Stores& s) {
    return s.consents.for_grants({kP1, kP2, kP3}, "proj-p", Purpose::kBegeleidingNaarWerk);
  });
  ASSERT_EQ(found.size(), 2u) << "a participant without a consent for the grant is absent";
  ASSERT_TRUE(found.count(kP1) == 1 && found.count(kP3) == 1);
  // The same consents, in the same order and with the same events, as for_grant gives.
  for (const std::string& p : {kP1, kP3}) {
    const auto one = read_value(db(), [&](Stores& s) {
      return s.consents.for_grant(p, "proj-p", Purpose::kBegeleidingNaarWerk);
    });
    ASSERT_EQ(ids_of(found.at(p)), ids_of(one)) << p;
    for (std::size_t i = 0; i < one.size(); ++i) expect_same_consent(found.at(p)[i], one[i]);
  }
  EXPECT_EQ(ids_of(found.at(kP1)), (std::vector<std::string>{"cns_b", "cns_a"}));
  // Each consent with its own events: the withdrawal on cns_a only.
  ASSERT_EQ(found.at(kP1)[0].events.size(), 1u);
  EXPECT_EQ(found.at(kP1)[0].events[0].at, "2026-01-01T00:00:00Z");
  ASSERT_EQ(found.at(kP1)[1].events.size(), 2u);
  EXPECT_EQ(found.at(kP1)[1].events[0].at, "2026-03-01T00:00:00Z");
  EXPECT_EQ(found.at(kP1)[1].events[1].kind, consent::EventKind::kWithdrawn);
  ASSERT_EQ(found.at(kP3).size(), 1u);
  EXPECT_EQ(found.at(kP3)[0].events.size(), 2u) << "the withdrawal comes with the consent";
  EXPECT_TRUE(read_value(db(), [](Stores& s) {
                return s.consents.for_grants({}, "proj-p", Purpose::kBegeleidingNaarWerk);
              }).empty());
}

// ---- the audit log -----------------------------------------------------------------------------

TEST_P(StoreConformance, AuditLeavesReadBackByteExactInHalfOpenRanges) {
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.size(); }), 0u);
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    return s.audit.add_leaves({leaf(0), leaf(1), leaf(2)});
  }));
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.audit.add_leaves({leaf(3)}); }));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.size(); }), 4u);
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.leaves(1, 3); }),
            (std::vector<std::string>{leaf(1).leaf, leaf(2).leaf}));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.leaves(0, 4); }).size(), 4u);
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.leaves(3, 10); }),
            (std::vector<std::string>{leaf(3).leaf}));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.audit.leaves(2, 2); }).empty());
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.audit.leaves(4, 8); }).empty());
}

TEST_P(StoreConformance, AnAuditLeafIndexIsStoredOnce) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) { return s.audit.add_leaves({leaf(0)}); }));
  AuditLeafRow again = leaf(0, "another subject");
  again.leaf = "another leaf";
  EXPECT_FALSE(db().write([&](Stores& s) { return s.audit.add_leaves({again}); }).is_ok());
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.leaves(0, 1); }),
            (std::vector<std::string>{leaf(0).leaf}));
}

TEST_P(StoreConformance, AuditNodesAreLeafHashesAtLevelZeroAndStoredNodesAbove) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.audit.add_leaves({leaf(0), leaf(1), leaf(2), leaf(3)}));
    return s.audit.add_nodes(
        {{1, 0, hash_filled(0x11)}, {1, 1, hash_filled(0x12)}, {2, 0, hash_filled(0x21)}});
  }));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.node(0, 2); }), leaf(2).hash);
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.node(1, 1); }), hash_filled(0x12));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.node(2, 0); }), hash_filled(0x21));
  for (const auto& [level, index] :
       {std::pair(0u, std::uint64_t{4}), std::pair(1u, std::uint64_t{2}),
        std::pair(3u, std::uint64_t{0})}) {
    Code code = Code::kOk;
    CONFORMANCE_EXPECT_OK(db().read([&, level = level, index = index](Stores& s) {
      code = s.audit.node(level, index).code();
      return Status::ok();
    }));
    EXPECT_EQ(code, Code::kCorrupt) << "missing node " << level << "/" << index;
  }
}

TEST_P(StoreConformance, SeveralAuditNodesAreReadInTheOrderAskedAndAMissingOneIsCorrupt) {
  CONFORMANCE_ASSERT_OK(db().write([](Stores& s) {
    BRUG_RETURN_IF_ERROR(s.audit.add_leaves({leaf(0), leaf(1), leaf(2), leaf(3), leaf(4)}));
    return s.audit.add_nodes(
        {{1, 0, hash_filled(0x11)}, {1, 1, hash_filled(0x12)}, {2, 0, hash_filled(0x21)}});
  }));
  using At = std::vector<AuditStore::NodeAt>;
  // Levels out of order, a leaf between nodes, the same position twice.
  EXPECT_EQ(
      read_value(db(),
                 [](Stores& s) {
                   return s.audit.nodes(At{{2, 0}, {0, 4}, {1, 1}, {0, 1}, {2, 0}});
                 }),
      (std::vector<std::array<std::uint8_t, 32>>{hash_filled(0x21), leaf(4).hash, hash_filled(0x12),
                                                 leaf(1).hash, hash_filled(0x21)}));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.audit.nodes(At{}); }).empty());
  for (const At& at : {At{{0, 5}}, At{{2, 0}, {1, 2}}, At{{0, 0}, {3, 0}, {1, 0}}}) {
    Code code = Code::kOk;
    CONFORMANCE_EXPECT_OK(db().read([&](Stores& s) {
      code = s.audit.nodes(at).code();
      return Status::ok();
    }));
    EXPECT_EQ(code, Code::kCorrupt) << "a missing node among " << at.size();
  }
}

TEST_P(StoreConformance, CheckpointsAreListedBySizeAndTheLatestIsTheLargest) {
  EXPECT_FALSE(read_value(db(), [](Stores& s) { return s.audit.latest_checkpoint(); }));
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.audit.checkpoints(); }).empty());
  const CheckpointRow small{2, hash_filled(0xa2), "2026-11-22T10:00:00Z", "key-1", awkward("sig2")};
  const CheckpointRow large{7, hash_filled(0xa7), "2026-11-22T11:00:00Z", "key-2", awkward("sig7")};
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.audit.add_checkpoint(small); }));
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) { return s.audit.add_checkpoint(large); }));
  auto fields = [](const CheckpointRow& c) {
    return std::tuple(c.size, c.root, c.time, c.key_id, c.signature);
  };
  const auto latest = read_value(db(), [](Stores& s) { return s.audit.latest_checkpoint(); });
  ASSERT_TRUE(latest);
  EXPECT_EQ(fields(*latest), fields(large));
  const auto all = read_value(db(), [](Stores& s) { return s.audit.checkpoints(); });
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(fields(all[0]), fields(small));
  EXPECT_EQ(fields(all[1]), fields(large));
}

TEST_P(StoreConformance, CosignaturesAreKeptPerSizeAndWitnessANewerOneReplacing) {
  EXPECT_TRUE(read_value(db(), [](Stores& s) { return s.audit.cosignatures(7); }).empty());
  auto add = [&](std::uint64_t size, const std::string& witness, const std::string& line) {
    CONFORMANCE_ASSERT_OK(
        db().write([&](Stores& s) { return s.audit.add_cosignature(size, witness, line); }));
  };
  add(7, "witness-b", "— witness-b AAAA\n");
  add(7, "witness-a", "— witness-a BBBB\n");
  add(9, "witness-a", "— witness-a CCCC\n");
  add(7, "witness-b", "— witness-b DDDD\n");  // replaces AAAA
  const auto seven = read_value(db(), [](Stores& s) { return s.audit.cosignatures(7); });
  EXPECT_EQ(seven, (std::vector<std::string>{"— witness-a BBBB\n", "— witness-b DDDD\n"}));
  const auto nine = read_value(db(), [](Stores& s) { return s.audit.cosignatures(9); });
  EXPECT_EQ(nine, (std::vector<std::string>{"— witness-a CCCC\n"}));
}

// Five events, one field changing at a time.
std::vector<AuditLeafRow> searchable_leaves() {
  std::vector<AuditLeafRow> out;
  struct Fields {
    const char *time, *actor, *action, *purpose, *subject, *decision;
  };
  const Fields fields[] = {
      {"2026-01-01T09:00:00Z", "gem-a", "referral.create", "begeleiding-naar-werk", "s1", "permit"},
      {"2026-01-02T09:00:00Z", "pb-b", "referral.create", "uitvoering-participatiewet", "s2",
       "deny"},
      {"2026-01-03T09:00:00Z", "gem-a", "feed.read", "begeleiding-naar-werk", "s1", "permit"},
      {"2026-01-04T09:00:00Z", "proj-p", "outcome.create", "resultaatverantwoording", "s3",
       "permit"},
      {"2026-01-05T09:00:00Z", "gem-a", "consent.withdraw", "uitvoering-participatiewet", "s2",
       "deny"},
  };
  for (std::uint64_t i = 0; i < std::size(fields); ++i) {
    AuditLeafRow l = leaf(i);
    const Fields& f = fields[i];
    std::tie(l.time, l.actor, l.action, l.purpose, l.subject, l.decision) =
        std::tie(f.time, f.actor, f.action, f.purpose, f.subject, f.decision);
    out.push_back(l);
  }
  return out;
}

TEST_P(StoreConformance, AuditSearchFiltersByEveryFieldOldestFirst) {
  CONFORMANCE_ASSERT_OK(
      db().write([](Stores& s) { return s.audit.add_leaves(searchable_leaves()); }));
  auto search = [&](const AuditQuery& q) {
    return read_value(db(), [&](Stores& s) { return s.audit.search(q); });
  };
  using Indexes = std::vector<std::uint64_t>;
  const auto all = search({});
  EXPECT_EQ(indexes_of(all), (Indexes{0, 1, 2, 3, 4}));
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[3].second, leaf(3).leaf) << "the leaf bytes come with the index";
  EXPECT_EQ(indexes_of(search({.actor = "gem-a"})), (Indexes{0, 2, 4}));
  EXPECT_EQ(indexes_of(search({.purpose = "begeleiding-naar-werk"})), (Indexes{0, 2}));
  EXPECT_EQ(indexes_of(search({.decision = "deny"})), (Indexes{1, 4}));
  EXPECT_EQ(indexes_of(search({.subject = "s2"})), (Indexes{1, 4}));
  EXPECT_EQ(indexes_of(search({.action = "referral.create"})), (Indexes{0, 1}));
  EXPECT_EQ(indexes_of(search({.from_time = "2026-01-02T09:00:00Z"})), (Indexes{1, 2, 3, 4}));
  EXPECT_EQ(indexes_of(search({.to_time = "2026-01-04T09:00:00Z"})), (Indexes{0, 1, 2, 3}));
  EXPECT_EQ(
      indexes_of(search({.from_time = "2026-01-02T09:00:00Z", .to_time = "2026-01-03T09:00:00Z"})),
      (Indexes{1, 2}));
  EXPECT_EQ(indexes_of(search({.from_time = "2026-01-03"})), (Indexes{2, 3, 4}))
      << "a date is a prefix that compares as text";
  EXPECT_EQ(indexes_of(search({.actor = "gem-a", .decision = "deny"})), (Indexes{4}));
  EXPECT_EQ(indexes_of(search({.actor = "pb-b", .subject = "s2"})), (Indexes{1}));
  EXPECT_EQ(indexes_of(search({.from_time = "2026-01-02", .subject = "s1"})), (Indexes{2}));
  EXPECT_TRUE(search({.actor = "nobody"}).empty());
  EXPECT_TRUE(search({.subject = "nobody"}).empty());
  EXPECT_EQ(indexes_of(search({.limit = 2})), (Indexes{0, 1}));
  EXPECT_EQ(indexes_of(search({.actor = "gem-a", .limit = 2})), (Indexes{0, 2}));
  EXPECT_EQ(indexes_of(search({.subject = "s2", .limit = 1})), (Indexes{1}));
  EXPECT_EQ(indexes_of(search({.limit = 2, .from_index = 2})), (Indexes{2, 3}));
  EXPECT_EQ(indexes_of(search({.actor = "gem-a", .from_index = 1})), (Indexes{2, 4}));
  EXPECT_EQ(indexes_of(search({.subject = "s2", .from_index = 2})), (Indexes{4}));
  EXPECT_TRUE(search({.from_index = 5}).empty());
}

TEST_P(StoreConformance, AuditSearchBySubjectFindsEventsInEveryBlockOf4096) {
  constexpr std::uint64_t kLeaves = 4096 + 1004;
  const std::vector<std::uint64_t> needles = {7, 4095, 4096, 4097, kLeaves - 1};
  CONFORMANCE_ASSERT_OK(db().write([&](Stores& s) {
    std::vector<AuditLeafRow> leaves;
    leaves.reserve(kLeaves);
    for (std::uint64_t i = 0; i < kLeaves; ++i) {
      const bool needle = std::find(needles.begin(), needles.end(), i) != needles.end();
      leaves.push_back(leaf(i, needle ? "needle" : "hay-" + std::to_string(i % 13),
                            i == 4097 ? "pb-b" : "gem-a"));
    }
    return s.audit.add_leaves(leaves);
  }));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.size(); }), kLeaves);
  auto search = [&](const AuditQuery& q) {
    return indexes_of(read_value(db(), [&](Stores& s) { return s.audit.search(q); }));
  };
  using Indexes = std::vector<std::uint64_t>;
  EXPECT_EQ(search({.subject = "needle"}), needles);
  EXPECT_EQ(search({.subject = "needle", .limit = 3}), (Indexes{7, 4095, 4096}));
  EXPECT_EQ(search({.subject = "needle", .limit = 1}), (Indexes{7}));
  EXPECT_EQ(search({.subject = "needle", .limit = 2, .from_index = 4096}), (Indexes{4096, 4097}));
  EXPECT_EQ(search({.subject = "needle", .from_index = 4098}), (Indexes{kLeaves - 1}));
  EXPECT_EQ(search({.actor = "gem-a", .subject = "needle"}), (Indexes{7, 4095, 4096, kLeaves - 1}));
  EXPECT_EQ(search({.actor = "pb-b", .subject = "needle"}), (Indexes{4097}));
  EXPECT_EQ(search({.actor = "pb-b"}), (Indexes{4097}));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.leaves(4095, 4097); }),
            (std::vector<std::string>{leaf(4095).leaf, leaf(4096).leaf}));
  EXPECT_EQ(read_value(db(), [](Stores& s) { return s.audit.node(0, 4096); }), leaf(4096).hash);
}

}  // namespace
}  // namespace brug::adapters::testing
