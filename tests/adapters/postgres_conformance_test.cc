// The store conformance suite (adapters/testing/conformance.h) on PostgreSQL: each test gets a
// fresh database on the test server (tests/support/postgres.h), dropped afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/stores.h"
#include "adapters/testing/conformance.h"
#include "tests/support/postgres.h"

namespace brug::adapters {
namespace {

using testing::Backend;
using testing::StoreConformance;

// A PostgreSQL database that drops itself when destroyed.
class TempPgDatabase final : public Database {
 public:
  TempPgDatabase() {
    auto opened = open_postgres({.url = pg_.url()});
    if (!opened) throw std::runtime_error("cannot open PostgreSQL: " + opened.status().to_string());
    db_ = std::move(opened).value();
  }
  Status write(const std::function<Status(Stores&)>& fn) override { return db_->write(fn); }
  Status read(const std::function<Status(Stores&)>& fn) override { return db_->read(fn); }
  int schema_version() override { return db_->schema_version(); }
  std::string_view backend() const override { return db_->backend(); }
  Status scrub() override { return db_->scrub(); }

 private:
  brug::testing::TempPostgres pg_;  // declared first: dropped after the pool closes
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
                         ::testing::Values(Backend{
                             "postgresql",
                             [] { return std::unique_ptr<Database>(new TempPgDatabase()); }}),
                         testing::backend_name);

// ---- what only PostgreSQL needs: several processes, lost connections, the URL ----------------

const std::string kNow = "2026-11-22T10:00:00Z";

std::unique_ptr<Database> open_or_die(const std::string& url) {
  auto opened = open_postgres({.url = url});
  if (!opened) throw std::runtime_error("cannot open PostgreSQL: " + opened.status().to_string());
  return std::move(opened).value();
}

Status seed(Stores& s) {
  BRUG_RETURN_IF_ERROR(s.orgs.sync({{"gem-a", "Gemeente A", Role::kGemeente, "", ""},
                                    {"proj-p", "Project P", Role::kProject, "", ""}},
                                   kNow));
  return s.exchange.put_participant({std::string(64, '1'), Blob{1}, Blob{2}}, kNow);
}

NewFeedItem deletion_for(const std::string& recipient) {
  return {recipient, FeedKind::kDeletion, std::string(64, '1'), "", "begeleiding-naar-werk", kNow};
}

// Two gateways are two pools over one database: here two Databases on one URL.
class PostgresProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    first_ = open_or_die(pg_.url());
    second_ = open_or_die(pg_.url());
    ASSERT_TRUE(first_->write(seed).is_ok());
  }
  brug::testing::TempPostgres pg_;
  std::unique_ptr<Database> first_, second_;
};

// The scenario of the issue: a slow transaction takes its position, a later one commits first,
// a reader moves its cursor past the later one. With positions from a sequence alone the slow
// item would then commit below the reader's cursor and never be delivered.
TEST_F(PostgresProcesses, AReaderNeverSkipsTheItemOfASlowWriter) {
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, go = false;
  std::atomic<bool> fast_done{false};
  std::thread slow([&] {
    const Status s = first_->write([&](Stores& st) -> Status {
      auto added = st.exchange.add_feed_item(deletion_for("proj-p"));
      if (!added) return added.status();
      std::unique_lock lock(mu);
      inside = true;
      cv.notify_all();
      cv.wait(lock, [&] { return go; });
      return Status::ok();
    });
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return inside; });
  }
  std::thread fast([&] {
    const Status s = second_->write(
        [](Stores& st) { return st.exchange.add_feed_item(deletion_for("proj-p")).status(); });
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    fast_done = true;
  });
  // The reader pulls all the while, moving its cursor on to whatever it saw.
  std::int64_t cursor = 0;
  std::vector<std::int64_t> seen;
  auto pull = [&] {
    std::vector<FeedEntry> page;
    ASSERT_TRUE(second_
                    ->read([&](Stores& st) {
                      auto p = st.exchange.feed_page("proj-p", cursor, 100);
                      if (!p) return p.status();
                      page = std::move(p).value();
                      return Status::ok();
                    })
                    .is_ok());
    for (const FeedEntry& e : page) {
      EXPECT_GT(e.cursor, cursor);
      cursor = e.cursor;
      seen.push_back(e.cursor);
    }
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until) pull();
  EXPECT_FALSE(fast_done) << "the later writer committed while the slow one held its position";
  {
    std::lock_guard lock(mu);
    go = true;
    cv.notify_all();
  }
  slow.join();
  fast.join();
  pull();
  EXPECT_EQ(seen.size(), 2u) << "an item was skipped";
}

// Appends from two processes form one tree: indexes 0..n-1, each once, whoever wrote them.
TEST_F(PostgresProcesses, AuditAppendsFromTwoProcessesExtendOneLog) {
  constexpr int kEach = 40;
  auto append = [](Database& db, const std::string& actor) {
    for (int i = 0; i < kEach; ++i) {
      const Status s = db.write([&](Stores& st) -> Status {
        auto size = st.audit.size();
        if (!size) return size.status();
        AuditLeafRow l;
        l.index = *size;
        l.leaf = actor + " " + std::to_string(i);
        l.time = kNow;
        l.actor = actor;
        return st.audit.add_leaves({l});
      });
      EXPECT_TRUE(s.is_ok()) << s.to_string();
    }
  };
  std::thread a([&] { append(*first_, "gem-a"); });
  std::thread b([&] { append(*second_, "proj-p"); });
  a.join();
  b.join();
  std::vector<std::string> leaves;
  ASSERT_TRUE(first_
                  ->read([&](Stores& st) {
                    auto l = st.audit.leaves(0, 1000);
                    if (!l) return l.status();
                    leaves = std::move(l).value();
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_EQ(leaves.size(), 2u * kEach);
  EXPECT_EQ(std::set<std::string>(leaves.begin(), leaves.end()).size(), leaves.size());
}

// Schema 4 moved the referrals that wait for their feed out of `referrals` (a `fed` flag) into
// a table of their own. A database of schema 3 is upgraded with its waiting referrals: the
// unfed one still waits, the fed one and the purged one do not. Schema 5 keeps which outcome
// waits for which sender: an outcome stored under schema 3 waits for its referrer after the
// upgrade.
TEST_F(PostgresProcesses, ReferralsWaitingUnderSchema3StillWaitAfterTheUpgrade) {
  auto referral = [](const std::string& id) {
    return NewReferral{
        id,      "gem-a", "ref-" + id, std::string(64, '1'), "proj-p", "begeleiding-naar-werk",
        Blob{7}, "",      kNow};
  };
  ASSERT_TRUE(first_
                  ->write([&](Stores& s) -> Status {
                    for (const char* id : {"r-waits", "r-fed", "r-purged"}) {
                      BRUG_RETURN_IF_ERROR(s.exchange.add_referral(referral(id)));
                    }
                    return s.exchange.add_outcome(
                        {"o-waits", "proj-p", std::string(64, '1'), Blob{8}, kNow});
                  })
                  .is_ok());
  first_.reset();
  second_.reset();
  // Back to schema 3 as it was stored: the flag, its partial index, no table of waiting ones.
  brug::testing::postgres_admin(
      pg_.url(),
      "ALTER TABLE referrals ADD COLUMN fed integer NOT NULL DEFAULT 0; "
      "CREATE INDEX referrals_pending ON referrals (recipient, seq) WHERE fed = 0; "
      "DROP TABLE referrals_unfed; DROP TABLE outcome_routes; "
      "DELETE FROM schema_migrations WHERE version >= 4; "
      "UPDATE referrals SET fed = 1 WHERE id = 'r-fed'; "
      "UPDATE referrals SET sealed = NULL WHERE id = 'r-purged'");
  auto upgraded = open_or_die(pg_.url());
  EXPECT_GE(upgraded->schema_version(), 5);
  std::vector<PendingReferral> pending;
  std::vector<OutcomeForSender> outcomes;
  ASSERT_TRUE(upgraded
                  ->read([&](Stores& s) {
                    auto rows = s.exchange.pending_referrals("proj-p", 0, 10);
                    if (!rows) return rows.status();
                    pending = std::move(rows).value();
                    auto waiting = s.exchange.outcomes_for_sender("gem-a", true);
                    if (!waiting) return waiting.status();
                    outcomes = std::move(waiting).value();
                    return Status::ok();
                  })
                  .is_ok());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].id, "o-waits");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, "r-waits");
  EXPECT_EQ(pending[0].source_org, "gem-a");
  EXPECT_EQ(pending[0].participant, std::string(64, '1'));
  // It leaves the waiting ones once fed, and only once.
  bool first = false, again = true;
  ASSERT_TRUE(upgraded
                  ->write([&](Stores& s) -> Status {
                    auto a = s.exchange.mark_fed("r-waits");
                    if (!a) return a.status();
                    auto b = s.exchange.mark_fed("r-waits");
                    if (!b) return b.status();
                    first = *a;
                    again = *b;
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_TRUE(first);
  EXPECT_FALSE(again);
}

// Audit rows are sent behind (the COPY's outcome is read with the next statement or the
// commit): a COPY that fails there still fails its transaction, and nothing of it is stored.
TEST_F(PostgresProcesses, AnAuditCopySentBehindThatFailsFailsItsTransaction) {
  const AuditNodeRow node{1, 0, {}};
  const Status twice = first_->write([&](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.audit.add_nodes({node}));
    return s.audit.add_nodes({node});  // the same key again: refused, but only at the commit
  });
  EXPECT_FALSE(twice.is_ok());
  const Status then_read = first_->write([&](Stores& s) -> Status {
    BRUG_RETURN_IF_ERROR(s.audit.add_nodes({node}));
    BRUG_RETURN_IF_ERROR(s.audit.add_nodes({node}));
    return s.audit.size().status();  // the next statement reports it
  });
  EXPECT_FALSE(then_read.is_ok());
  Status found = Status::ok();
  ASSERT_TRUE(first_
                  ->read([&](Stores& s) {
                    found = s.audit.node(1, 0).status();
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(found.code(), Code::kCorrupt) << "a node of a failed transaction was stored";
  // The connection is clean again: a good append commits.
  EXPECT_TRUE(first_->write([&](Stores& s) { return s.audit.add_nodes({node}); }).is_ok());
}

// A connection that drops inside a transaction: the transaction is run again on a new one, and
// what the lost run wrote is not stored.
TEST_F(PostgresProcesses, ATransactionWhoseConnectionDropsIsRunAgainAndStoredOnce) {
  int runs = 0;
  const Status s = first_->write([&](Stores& st) -> Status {
    ++runs;
    auto added = st.exchange.add_feed_item(deletion_for("proj-p"));
    if (!added) return added.status();
    if (runs == 1) {
      brug::testing::postgres_admin(
          brug::testing::with_database(*brug::testing::test_postgres_url(), "postgres"),
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + pg_.name() +
              "' AND pid <> pg_backend_pid()");
    }
    return st.exchange.add_feed_item(deletion_for("gem-a")).status();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(runs, 2);
  std::int64_t count = -1;
  ASSERT_TRUE(second_
                  ->read([&](Stores& st) {
                    auto n = st.exchange.feed_count_after("proj-p", 0, 100);
                    if (!n) return n.status();
                    count = *n;
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(count, 1);
}

TEST(PostgresUrl, APasswordInTheUrlIsRefusedWithoutQuotingIt) {
  for (const std::string url : {"postgresql://brug:s3cret@127.0.0.1:5432/brug",
                                "postgresql://brug@127.0.0.1/brug?password=s3cret"}) {
    const Status s = check_postgres_url(url);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << url;
    EXPECT_EQ(s.message().find("s3cret"), std::string::npos);
    EXPECT_EQ(open_postgres({.url = url}).code(), Code::kInvalidArgument);
  }
  EXPECT_FALSE(check_postgres_url("mysql://brug@127.0.0.1/brug").is_ok());
  EXPECT_FALSE(check_postgres_url("postgresql://brug@127.0.0.1/brug?nonsense=1").is_ok());
  EXPECT_TRUE(
      check_postgres_url("postgresql://brug@db.example:5432/brug?sslmode=verify-full").is_ok());
}

TEST(PostgresUrl, AServerThatDoesNotAnswerIsUnavailable) {
  // A port nobody listens on: refused at once, tried a few times, then kUnavailable.
  auto opened = open_postgres({.url = "postgresql://brug@127.0.0.1:1/brug", .attempts = 2});
  EXPECT_EQ(opened.code(), Code::kUnavailable) << opened.status().to_string();
}

}  // namespace
}  // namespace brug::adapters
