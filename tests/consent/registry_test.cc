// The consent registry over the real SQLite store.
#include "consent/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include "adapters/sqlite/storage.h"
#include "adapters/stores.h"
#include "tests/support/temp_dir.h"

namespace brug::consent {
namespace {

// The registry as the gateway uses it: a ConsentRegistry over the consent store of one
// transaction of the Database, one transaction per call.
class Registry {
 public:
  Registry(adapters::Database& db, const std::string& clock) : db_(db), clock_(clock) {}
  Result<Consent> record(const NewConsent& n, const std::string& by) {
    return run<Consent>(true, [&](ConsentRegistry& r) { return r.record(n, by); });
  }
  Result<Consent> withdraw(const std::string& id, const std::string& actor) {
    return run<Consent>(true, [&](ConsentRegistry& r) { return r.withdraw(id, actor); });
  }
  Result<std::optional<Consent>> find(const std::string& id) {
    return run<std::optional<Consent>>(false, [&](ConsentRegistry& r) { return r.find(id); });
  }
  Result<std::vector<Consent>> of_participant(const std::string& p) {
    return run<std::vector<Consent>>(false,
                                     [&](ConsentRegistry& r) { return r.of_participant(p); });
  }
  Result<Decision> permits(const std::string& p, const std::string& grantee, Purpose purpose,
                           std::optional<std::string_view> category = std::nullopt) {
    return run<Decision>(
        false, [&](ConsentRegistry& r) { return r.permits(p, grantee, purpose, category); });
  }
  Result<std::map<std::string, Decision>> permits_each(const std::vector<std::string>& ps,
                                                       const std::string& grantee,
                                                       Purpose purpose) {
    return run<std::map<std::string, Decision>>(
        false, [&](ConsentRegistry& r) { return r.permits_each(ps, grantee, purpose); });
  }

 private:
  template <class T, class F>
  Result<T> run(bool write, F f) {
    std::optional<Result<T>> out;
    auto body = [&](adapters::Stores& st) {
      ConsentRegistry r(st.consents, [this] { return clock_; });
      out.emplace(f(r));
      return out->status();
    };
    Status s = write ? db_.write(body) : db_.read(body);
    if (out && !out->is_ok()) return std::move(*out);
    if (!s.is_ok()) return s;
    return std::move(*out);
  }
  adapters::Database& db_;
  const std::string& clock_;
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = adapters::open_sqlite_storage({.path = dir_.file("brug.db")});
    ASSERT_TRUE(db) << db.message();
    db_ = std::move(db).value();
    auto database = adapters::open_sqlite({.path = dir_.file("brug.db")});
    ASSERT_TRUE(database) << database.message();
    database_ = std::move(database).value();
    ASSERT_TRUE(db_->transact([](adapters::Tx& tx) {
                     for (const char* id : {"gemeente-a", "project-b", "project-c"}) {
                       BRUG_RETURN_IF_ERROR(
                           tx.exec("INSERT INTO organisations (id, name, role, updated_at) "
                                   "VALUES (?, ?, 'project', 'x')",
                                   {std::string(id), std::string(id)})
                               .status());
                     }
                     return Status::ok();
                   })
                    .is_ok());
    registry_ = std::make_unique<Registry>(*database_, clock_);
  }

  NewConsent consent_for(const std::string& grantee) {
    return {.participant = participant_,
            .grantee = grantee,
            .purpose = Purpose::kBegeleidingNaarWerk,
            .categories = {"profiel", "contact", "profiel"},
            .valid_from = *Date::parse("2026-01-01"),
            .valid_until = *Date::parse("2026-12-31"),
            .evidence = {EvidenceMethod::kSchriftelijk, "formulier 2026-014"}};
  }

  testing::TempDir dir_;
  std::unique_ptr<adapters::Storage> db_;  // for SQL the gateway never writes
  std::unique_ptr<adapters::Database> database_;
  std::unique_ptr<Registry> registry_;
  std::string clock_ = "2026-03-01T12:00:00.000Z";
  const std::string participant_ = std::string(64, 'f');
};

TEST_F(RegistryTest, ARecordedConsentIsStoredWithItsGivenEvent) {
  auto c = registry_->record(consent_for("project-b"), "gemeente-a");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->categories, (std::vector<std::string>{"contact", "profiel"}));
  auto found = registry_->find(c->id);
  ASSERT_TRUE(found && found->has_value());
  const Consent& f = **found;
  EXPECT_EQ(f.grantee, "project-b");
  EXPECT_EQ(f.recorded_by, "gemeente-a");
  EXPECT_EQ(f.recorded_at, clock_);
  EXPECT_EQ(f.categories, c->categories);
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.events[0].kind, EventKind::kGiven);
  EXPECT_EQ(f.evidence.reference, "formulier 2026-014");
}

TEST_F(RegistryTest, PermitsNamesTheConsentThatPermits) {
  auto c = registry_->record(consent_for("project-b"), "gemeente-a");
  ASSERT_TRUE(c);
  auto d = registry_->permits(participant_, "project-b", Purpose::kBegeleidingNaarWerk, "contact");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->permitted);
  EXPECT_EQ(d->consent_ids, std::vector<std::string>{c->id});
}

TEST_F(RegistryTest, AGrantForOneProjectPermitsNothingForAnother) {
  ASSERT_TRUE(registry_->record(consent_for("project-b"), "gemeente-a"));
  auto d = registry_->permits(participant_, "project-c", Purpose::kBegeleidingNaarWerk);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->permitted);
  EXPECT_EQ(d->reason, DenyReason::kNoConsent);
  auto other_purpose = registry_->permits(participant_, "project-b", Purpose::kMonitoring);
  ASSERT_TRUE(other_purpose);
  EXPECT_FALSE(other_purpose->permitted);
}

TEST_F(RegistryTest, WithdrawingIsImmediateAndIdempotent) {
  auto c = registry_->record(consent_for("project-b"), "gemeente-a");
  ASSERT_TRUE(c);
  clock_ = "2026-04-01T08:00:00.000Z";
  auto w1 = registry_->withdraw(c->id, "gemeente-a");
  ASSERT_TRUE(w1) << w1.message();
  EXPECT_EQ(w1->withdrawn_at(), clock_);
  auto d = registry_->permits(participant_, "project-b", Purpose::kBegeleidingNaarWerk);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->permitted);
  EXPECT_EQ(d->reason, DenyReason::kWithdrawn);

  clock_ = "2026-05-01T08:00:00.000Z";
  auto w2 = registry_->withdraw(c->id, "gemeente-a");
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->withdrawn_at(), "2026-04-01T08:00:00.000Z");
  EXPECT_EQ(w2->events.size(), 2u);
}

TEST_F(RegistryTest, WithdrawingAnUnknownConsentIsNotFound) {
  EXPECT_EQ(registry_->withdraw("cns_doesnotexist", "gemeente-a").code(), Code::kNotFound);
}

TEST_F(RegistryTest, InvalidConsentsAreRefusedNamingTheField) {
  auto bad = consent_for("project-b");
  bad.valid_until = *Date::parse("2025-12-31");
  EXPECT_EQ(registry_->record(bad, "gemeente-a").message(),
            "valid_until: must not be before valid_from");
  bad = consent_for("project-b");
  bad.categories = {"contact", "horoscoop"};
  EXPECT_EQ(registry_->record(bad, "gemeente-a").message(),
            "categories[1]: is not a category of the vocabulary");
  bad = consent_for("project-b");
  bad.categories = {"identificatie"};
  EXPECT_EQ(registry_->record(bad, "gemeente-a").code(), Code::kInvalidArgument);
  bad = consent_for("project-b");
  bad.purpose = Purpose::kUitvoeringParticipatiewet;
  EXPECT_EQ(registry_->record(bad, "gemeente-a").message(),
            "purpose: rests on a public task, not on consent");
  bad = consent_for("project-b");
  bad.evidence.reference = "";
  EXPECT_EQ(registry_->record(bad, "gemeente-a").message(),
            "evidence.reference: must say where the evidence is kept");
  auto all = registry_->of_participant(participant_);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());  // nothing stored half
}

// A stored consent that does not read back (its immutability trigger dropped, as someone with
// the database could) denies its own participant with kUnreadable and nobody else.
TEST_F(RegistryTest, AConsentThatDoesNotReadBackDeniesOnlyItsParticipant) {
  const std::string other(64, 'e');
  auto damaged = registry_->record(consent_for("project-b"), "gemeente-a");
  NewConsent theirs = consent_for("project-b");
  theirs.participant = other;
  ASSERT_TRUE(damaged && registry_->record(theirs, "gemeente-a"));
  for (const std::string& sql :
       {std::string("DROP TRIGGER consents_immutable"),
        "UPDATE consents SET valid_from = 'gisteren' WHERE id = '" + damaged->id + "'"}) {
    ASSERT_TRUE(db_->transact([&](adapters::Tx& tx) { return tx.exec(sql).status(); }).is_ok());
  }
  auto one = registry_->permits(participant_, "project-b", Purpose::kBegeleidingNaarWerk);
  ASSERT_TRUE(one) << one.message();
  EXPECT_FALSE(one->permitted);
  EXPECT_EQ(one->reason, DenyReason::kUnreadable);
  EXPECT_EQ(to_string(one->reason), "consent-unreadable");
  auto each = registry_->permits_each({participant_, other, std::string(64, 'd')}, "project-b",
                                      Purpose::kBegeleidingNaarWerk);
  ASSERT_TRUE(each) << each.message();
  ASSERT_EQ(each->size(), 3u);
  EXPECT_EQ(each->at(participant_).reason, DenyReason::kUnreadable);
  EXPECT_TRUE(each->at(other).permitted) << "the other participant's consent still counts";
  EXPECT_FALSE(each->at(std::string(64, 'd')).permitted);
  EXPECT_EQ(each->at(std::string(64, 'd')).reason, DenyReason::kNoConsent);
}

// The real store of a transaction, counting the consent look-ups that reach it.
class CountingStore final : public ConsentStore {
 public:
  explicit CountingStore(ConsentStore& inner) : inner_(inner) {}
  Status insert(const Consent& c) override { return inner_.insert(c); }
  Result<std::optional<Consent>> find(const std::string& id) override { return inner_.find(id); }
  Result<Consent> withdraw(const std::string& id, const std::string& actor,
                           const std::string& at) override {
    return inner_.withdraw(id, actor, at);
  }
  Result<std::vector<Consent>> for_participant(const std::string& p) override {
    return inner_.for_participant(p);
  }
  Result<std::vector<Consent>> for_grant(const std::string& p, const std::string& grantee,
                                         Purpose purpose) override {
    ++look_ups;
    return inner_.for_grant(p, grantee, purpose);
  }
  Result<std::map<std::string, std::vector<Consent>>> for_grants(const std::vector<std::string>& ps,
                                                                 const std::string& grantee,
                                                                 Purpose purpose) override {
    ++look_ups;
    return inner_.for_grants(ps, grantee, purpose);
  }
  int look_ups = 0;

 private:
  ConsentStore& inner_;
};

// One damaged consent among many: the others are still decided from their own consents, in
// a few batched look-ups, not one per participant.
TEST_F(RegistryTest, OneUnreadableConsentAmongManyCostsAFewLookUps) {
  std::vector<std::string> people;
  std::string damaged_id;
  for (int i = 0; i < 128; ++i) {
    char hex[65];
    std::snprintf(hex, sizeof hex, "%064x", 0x1000 + i);
    people.emplace_back(hex);
    NewConsent c = consent_for("project-b");
    c.participant = people.back();
    auto stored = registry_->record(c, "gemeente-a");
    ASSERT_TRUE(stored) << stored.message();
    if (i == 77) damaged_id = stored->id;
  }
  people.push_back(std::string(64, 'd'));  // no consent at all
  for (const std::string& sql :
       {std::string("DROP TRIGGER consents_immutable"),
        "UPDATE consents SET valid_until = 'morgen' WHERE id = '" + damaged_id + "'"}) {
    ASSERT_TRUE(db_->transact([&](adapters::Tx& tx) { return tx.exec(sql).status(); }).is_ok());
  }
  int look_ups = 0;
  std::map<std::string, Decision> each;
  const Status read = database_->read([&](adapters::Stores& st) {
    CountingStore counting(st.consents);
    ConsentRegistry r(counting, [this] { return clock_; });
    auto got = r.permits_each(people, "project-b", Purpose::kBegeleidingNaarWerk);
    if (!got) return got.status();
    each = std::move(got).value();
    look_ups = counting.look_ups;
    return Status::ok();
  });
  ASSERT_TRUE(read.is_ok()) << read.message();
  ASSERT_EQ(each.size(), people.size());
  for (std::size_t i = 0; i < 128; ++i) {
    if (i == 77) {
      EXPECT_EQ(each.at(people[i]).reason, DenyReason::kUnreadable);
    } else {
      EXPECT_TRUE(each.at(people[i]).permitted) << i;
    }
  }
  EXPECT_EQ(each.at(std::string(64, 'd')).reason, DenyReason::kNoConsent);
  // 129 participants halved down to the damaged one: two look-ups per level, about 16.
  EXPECT_LE(look_ups, 20);
}

// Any other storage failure is no decision at all: it is returned, never read as a denial.
TEST_F(RegistryTest, AStorageFailureIsAnErrorNotADenial) {
  ASSERT_TRUE(registry_->record(consent_for("project-b"), "gemeente-a"));
  ASSERT_TRUE(
      db_->transact([](adapters::Tx& tx) { return tx.exec("DROP TABLE consent_events").status(); })
          .is_ok());
  EXPECT_FALSE(registry_->permits(participant_, "project-b", Purpose::kBegeleidingNaarWerk));
  EXPECT_FALSE(registry_->permits_each({participant_}, "project-b", Purpose::kBegeleidingNaarWerk));
}

TEST_F(RegistryTest, AnUnknownGranteeIsRefusedByTheStore) {
  auto r = registry_->record(consent_for("nobody"), "gemeente-a");
  EXPECT_FALSE(r);
  EXPECT_EQ(r.code(), Code::kIo);
}

TEST_F(RegistryTest, StoredConsentsCannotBeChangedOrDeleted) {
  auto c = registry_->record(consent_for("project-b"), "gemeente-a");
  ASSERT_TRUE(c);
  for (const char* sql :
       {"UPDATE consents SET categories = 'gezondheid'", "DELETE FROM consents",
        "UPDATE consent_events SET kind = 'given'", "DELETE FROM consent_events"}) {
    Status s = db_->transact([&](adapters::Tx& tx) { return tx.exec(sql).status(); });
    EXPECT_FALSE(s.is_ok()) << sql;
  }
  auto found = registry_->find(c->id);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->categories, c->categories);
}

TEST_F(RegistryTest, ASecondWithdrawalEventIsRefusedByTheSchema) {
  auto c = registry_->record(consent_for("project-b"), "gemeente-a");
  ASSERT_TRUE(c && registry_->withdraw(c->id, "gemeente-a"));
  Status s = db_->transact([&](adapters::Tx& tx) {
    return tx
        .exec(
            "INSERT INTO consent_events (consent_id, kind, at, actor) VALUES (?, 'withdrawn', "
            "'x', 'gemeente-a')",
            {c->id})
        .status();
  });
  EXPECT_FALSE(s.is_ok());
}

// A withdrawal racing a stream of disclosures: every evaluation that starts after the
// withdrawal has returned must deny.
TEST_F(RegistryTest, AWithdrawalCommittedBeforeAnEvaluationStartsIsNeverMissed) {
  auto c = registry_->record(consent_for("project-b"), "gemeente-a");
  ASSERT_TRUE(c);
  std::atomic<bool> withdrawn{false};
  std::atomic<int> permitted_after{0}, evaluations{0};
  std::thread reader([&] {
    for (int i = 0; i < 400; ++i) {
      const bool committed_before = withdrawn.load();
      auto d = registry_->permits(participant_, "project-b", Purpose::kBegeleidingNaarWerk);
      ASSERT_TRUE(d);
      ++evaluations;
      if (committed_before && d->permitted) ++permitted_after;
    }
  });
  while (evaluations.load() < 50) std::this_thread::yield();
  ASSERT_TRUE(registry_->withdraw(c->id, "gemeente-a"));
  withdrawn = true;
  reader.join();
  EXPECT_EQ(permitted_after.load(), 0);
}

}  // namespace
}  // namespace brug::consent
