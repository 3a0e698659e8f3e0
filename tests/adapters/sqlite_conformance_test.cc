// The store conformance suite (adapters/testing/conformance.h) on SQLite: each test gets a fresh
// database file in its own temporary folder.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "adapters/sqlite/storage.h"
#include "adapters/stores.h"
#include "adapters/testing/conformance.h"
#include "tests/support/temp_dir.h"

namespace brug::adapters {
namespace {

using testing::Backend;
using testing::StoreConformance;

// A SQLite database that removes its folder when destroyed.
class TempSqlite final : public Database {
 public:
  TempSqlite() {
    auto opened = open_sqlite({.path = dir_.file("brug.db")});
    if (!opened) throw std::runtime_error("cannot open SQLite: " + opened.status().to_string());
    db_ = std::move(opened).value();
  }
  Status write(const std::function<Status(Stores&)>& fn) override { return db_->write(fn); }
  Status read(const std::function<Status(Stores&)>& fn) override { return db_->read(fn); }
  int schema_version() override { return db_->schema_version(); }
  std::string_view backend() const override { return db_->backend(); }
  Status scrub() override { return db_->scrub(); }

 private:
  brug::testing::TempDir dir_;  // declared first: removed after the database closes
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(Backend{
                             "sqlite", [] { return std::unique_ptr<Database>(new TempSqlite()); }}),
                         testing::backend_name);

// Schemas 9 and 10 find a participant's referrals and feed items through a number given to the
// participant. A database of schema 8 is upgraded with the referrals and feed items it holds:
// they are found, purged and removed as before, and a participant stored after the upgrade gets
// a number of its own.
TEST(SqliteMigration, ReferralsAndFeedItemsStoredUnderSchema8AreFoundAfterTheUpgrade) {
  brug::testing::TempDir dir;
  const std::string path = dir.file("brug.db");
  const std::string now = "2026-11-22T10:00:00Z";
  const std::string p1(64, '1'), p2(64, '2'), p3(64, '3');
  auto referral = [&](const std::string& id, const std::string& participant) {
    return NewReferral{
        id, "gem-a", "src-" + id, participant, "proj-p", "begeleiding-naar-werk", Blob{7}, "", now};
  };
  auto item = [&](const std::string& to, FeedKind kind, const std::string& participant,
                  const std::string& ref) {
    return NewFeedItem{to, kind, participant, ref, "begeleiding-naar-werk", now};
  };
  {
    auto db = open_sqlite({.path = path});
    ASSERT_TRUE(db) << db.status().to_string();
    ASSERT_TRUE(
        (*db)
            ->write([&](Stores& s) -> Status {
              BRUG_RETURN_IF_ERROR(
                  s.orgs.sync({{"gem-a", "Gemeente A", Role::kGemeente, "", "gem-a"},
                               {"proj-p", "Project P", Role::kProject, "", "proj-p"}},
                              now));
              BRUG_RETURN_IF_ERROR(s.exchange.put_participants(
                  {{p1, Blob{1}, Blob{1}}, {p2, Blob{2}, Blob{2}}}, now));
              BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r1", p1)));
              BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r2", p2)));
              BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r3", p1)));
              // o1 reached gem-a (in its feed), o2 still waits for it.
              for (const char* id : {"o1", "o2"}) {
                BRUG_RETURN_IF_ERROR(s.exchange.add_outcome({id, "proj-p", p1, Blob{9}, now}));
              }
              auto fed = s.exchange.add_feed_item(item("gem-a", FeedKind::kOutcome, p1, "o1"));
              if (!fed) return fed.status();
              for (const NewFeedItem& f : {item("proj-p", FeedKind::kReferral, p1, "r1"),
                                           item("proj-p", FeedKind::kDeletion, p2, ""),
                                           item("proj-p", FeedKind::kReferral, p1, "r3")}) {
                auto added = s.exchange.add_feed_item(f);
                if (!added) return added.status();
              }
              return Status::ok();
            })
            .is_ok());
  }
  {
    // Back to schema 8 as it was stored: no numbers, the index by pseudonym, none to feed items.
    auto raw = open_sqlite_storage({.path = path});
    ASSERT_TRUE(raw) << raw.status().to_string();
    ASSERT_TRUE((*raw)
                    ->transact([](Tx& tx) -> Status {
                      for (const char* sql :
                           {"DROP TABLE outcome_routes", "DROP INDEX feed_by_holder",
                            "ALTER TABLE feed_items DROP COLUMN holder",
                            "DROP INDEX referrals_by_holder", "DROP INDEX participants_by_no",
                            "ALTER TABLE referrals DROP COLUMN holder",
                            "ALTER TABLE participants DROP COLUMN no",
                            "CREATE INDEX referrals_by_participant ON referrals "
                            "(participant, recipient)",
                            "DELETE FROM schema_migrations WHERE version >= 9"}) {
                        BRUG_RETURN_IF_ERROR(tx.exec(sql).status());
                      }
                      return Status::ok();
                    })
                    .is_ok());
  }
  auto upgraded = open_sqlite({.path = path});
  ASSERT_TRUE(upgraded) << upgraded.status().to_string();
  EXPECT_GE((*upgraded)->schema_version(), 11);
  std::int64_t purged = -1;
  std::vector<std::string> of_p2, of_p3;
  bool p2_deleted = false, p1_deleted = true, p1_deleted_later = false;
  std::size_t outcomes_left = 99;
  std::vector<std::string> waiting;
  ASSERT_TRUE((*upgraded)
                  ->write([&](Stores& s) -> Status {
                    BRUG_RETURN_IF_ERROR(s.exchange.put_participant({p3, Blob{3}, Blob{3}}, now));
                    BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral("r4", p3)));
                    auto n = s.exchange.purge_referrals(p1, "proj-p", std::nullopt);
                    if (!n) return n.status();
                    purged = *n;
                    auto a = s.exchange.recipients_of(p2);
                    if (!a) return a.status();
                    of_p2 = *a;
                    auto b = s.exchange.recipients_of(p3);
                    if (!b) return b.status();
                    of_p3 = *b;
                    auto routed = s.exchange.outcomes_for_sender("gem-a", true);
                    if (!routed) return routed.status();
                    for (const auto& o : *routed) waiting.push_back(o.id);
                    auto newest2 = s.exchange.deletion_is_newest("proj-p", p2);
                    if (!newest2) return newest2.status();
                    p2_deleted = *newest2;
                    auto newest1 = s.exchange.deletion_is_newest("proj-p", p1);
                    if (!newest1) return newest1.status();
                    p1_deleted = *newest1;
                    auto added =
                        s.exchange.add_feed_item(item("proj-p", FeedKind::kDeletion, p1, ""));
                    if (!added) return added.status();
                    auto later = s.exchange.deletion_is_newest("proj-p", p1);
                    if (!later) return later.status();
                    p1_deleted_later = *later;
                    BRUG_RETURN_IF_ERROR(s.exchange.remove_feed_items("", p1, FeedKind::kOutcome));
                    auto page = s.exchange.feed_page("gem-a", 0, 10);
                    if (!page) return page.status();
                    outcomes_left = page->size();
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(purged, 2);
  EXPECT_EQ(of_p2, std::vector<std::string>{"proj-p"});
  EXPECT_EQ(of_p3, std::vector<std::string>{"proj-p"});
  EXPECT_TRUE(p2_deleted);
  EXPECT_FALSE(p1_deleted);
  EXPECT_TRUE(p1_deleted_later);
  EXPECT_EQ(outcomes_left, 0u);
  EXPECT_EQ(waiting, std::vector<std::string>{"o2"});
}

// Schema 12 keeps subtree hashes at every fourth level only: the upgrade removes the others
// and keeps those.
TEST(SqliteMigration, SubtreeHashesBetweenEveryFourthLevelAreRemovedByTheUpgrade) {
  brug::testing::TempDir dir;
  const std::string path = dir.file("brug.db");
  auto hash = [](std::uint8_t b) {
    std::array<std::uint8_t, 32> h{};
    h.fill(b);
    return h;
  };
  {
    auto db = open_sqlite({.path = path});
    ASSERT_TRUE(db) << db.status().to_string();
    ASSERT_TRUE((*db)
                    ->write([&](Stores& s) {
                      return s.audit.add_nodes({{1, 0, hash(1)},
                                                {2, 0, hash(2)},
                                                {3, 0, hash(3)},
                                                {4, 0, hash(4)},
                                                {5, 0, hash(5)},
                                                {8, 0, hash(8)}});
                    })
                    .is_ok());
  }
  {
    auto raw = open_sqlite_storage({.path = path});
    ASSERT_TRUE(raw) << raw.status().to_string();
    ASSERT_TRUE((*raw)
                    ->transact([](Tx& tx) {
                      return tx.exec("DELETE FROM schema_migrations WHERE version >= 12").status();
                    })
                    .is_ok());
  }
  auto upgraded = open_sqlite({.path = path});
  ASSERT_TRUE(upgraded) << upgraded.status().to_string();
  EXPECT_GE((*upgraded)->schema_version(), 12);
  for (unsigned level : {1u, 2u, 3u, 4u, 5u, 8u}) {
    Code code = Code::kInternal;
    std::array<std::uint8_t, 32> got{};
    ASSERT_TRUE((*upgraded)
                    ->read([&](Stores& s) {
                      auto node = s.audit.node(level, 0);
                      code = node.code();
                      if (node) got = *node;
                      return Status::ok();
                    })
                    .is_ok());
    if (level % 4 == 0) {
      ASSERT_EQ(code, Code::kOk) << level;
      EXPECT_EQ(got, hash(static_cast<std::uint8_t>(level)));
    } else {
      EXPECT_EQ(code, Code::kCorrupt) << "level " << level << " removed";
    }
  }
}

}  // namespace
}  // namespace brug::adapters
