// The audit log's writer on a real SQLite file: the leaf bytes, and the tree it keeps while
// appending in batches, from one or from two gateways on the same database.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "adapters/stores.h"
#include "adapters/testing/faulty_database.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/merkle.h"
#include "gateway/audit/audit_log.h"
#include "tests/support/temp_dir.h"

namespace brug::gateway {
namespace {

// The definition the direct writer must match byte for byte: nlohmann's sorted compact dump.
std::string reference_leaf(const AuditEvent& e, std::uint64_t index,
                           const crypto::Sha256Digest& prev) {
  nlohmann::json j = {{"index", index},
                      {"prev", crypto::to_hex(prev)},
                      {"time", e.time},
                      {"request_id", e.request_id},
                      {"trace_id", e.trace_id},
                      {"actor", e.actor},
                      {"actor_role", e.actor_role},
                      {"action", e.action},
                      {"record_type", e.record_type},
                      {"purpose", e.purpose},
                      {"basis", e.basis},
                      {"subject", e.subject},
                      {"recipient", e.recipient},
                      {"fields", e.fields},
                      {"policy_set", e.policy_set},
                      {"policy_ids", e.policy_ids},
                      {"consent_ids", e.consent_ids},
                      {"decision", e.decision},
                      {"reason", e.reason}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string random_text(std::mt19937& rng) {
  // Plain text, every control character, quotes and backslashes, multi-byte UTF-8, and
  // invalid sequences (lone continuation, truncated, overlong, surrogate, beyond U+10FFFF).
  static const std::vector<std::string> pieces = {"a",
                                                  "Z",
                                                  " ",
                                                  "\"",
                                                  "\\",
                                                  "/",
                                                  "\x7f",
                                                  "é",
                                                  "€",
                                                  "😀",
                                                  "\x80",
                                                  "\xc3",
                                                  "\xc0\xaf",
                                                  "\xed\xa0\x80",
                                                  "\xf4\x90\x80\x80",
                                                  "\xe2\x82",
                                                  "ref_",
                                                  "-",
                                                  "0"};
  std::string s;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    if (rng() % 5 == 0) {
      s.push_back(static_cast<char>(rng() % 0x20));
    } else {
      s += pieces[rng() % pieces.size()];
    }
  }
  return s;
}

AuditEvent random_event(std::mt19937& rng) {
  AuditEvent e;
  for (std::string* s :
       {&e.time, &e.request_id, &e.trace_id, &e.actor, &e.actor_role, &e.action, &e.record_type,
        &e.purpose, &e.basis, &e.subject, &e.recipient, &e.policy_set, &e.decision, &e.reason}) {
    *s = random_text(rng);
  }
  for (auto* list : {&e.fields, &e.policy_ids, &e.consent_ids}) {
    const int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) list->push_back(random_text(rng));
  }
  return e;
}

TEST(AuditLeaf, MatchesTheSortedCompactJsonByteForByte) {
  std::mt19937 rng(20261122);
  for (int i = 0; i < 2000; ++i) {
    const AuditEvent e = random_event(rng);
    crypto::Sha256Digest prev{};
    for (auto& b : prev) b = static_cast<std::uint8_t>(rng());
    const std::uint64_t index = rng() % 3 == 0 ? rng() : static_cast<std::uint64_t>(i);
    ASSERT_EQ(audit_leaf(e, index, prev), reference_leaf(e, index, prev)) << "case " << i;
  }
}

TEST(AuditLeaf, IsValidJsonWithoutTheBadBytes) {
  AuditEvent e;
  e.request_id = std::string("id\xff\xfe") + "\n";
  const std::string leaf = audit_leaf(e, 7, {});
  const auto j = nlohmann::json::parse(leaf);
  EXPECT_EQ(j["request_id"], "id\xef\xbf\xbd\xef\xbf\xbd\n");
  EXPECT_EQ(j["index"], 7);
  EXPECT_EQ(leaf.find('\n'), std::string::npos);
}

AuditEvent numbered(int i) {
  AuditEvent e;
  e.time = "2026-11-22T10:00:00.000Z";
  e.request_id = "req-" + std::to_string(i);
  e.actor = "reconnact-leusden";
  e.action = "feed.read";
  e.decision = "permit";
  e.fields = {"voornaam", "postcode4"};
  return e;
}

// Every stored leaf, hashed into an in-memory tree: the reference for the stored one.
crypto::MemoryMerkleTree replay(AuditLog& log) {
  crypto::MemoryMerkleTree tree;
  const std::uint64_t n = *log.size();
  auto leaves = log.entries(0, n);
  EXPECT_TRUE(leaves.is_ok());
  for (const std::string& leaf : *leaves) {
    tree.append_leaf_hash(crypto::merkle_leaf_hash(
        std::span(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size())));
  }
  return tree;
}

class AuditLogTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  crypto::KeyDir keys_ = std::move(crypto::KeyDir::ephemeral()).value();
  std::unique_ptr<adapters::Database> db_ =
      std::move(adapters::open_sqlite({.path = dir_.file("audit.db")})).value();
  crypto::Env& env_ = crypto::Env::system();
};

TEST_F(AuditLogTest, BatchesOfEverySizeKeepTheTreeAndTheChain) {
  AuditLog log(*db_, keys_.signing_key(), AuditOptions{.checkpoint_every_events = 50}, env_);
  int next = 0;
  for (int batch : {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 1, 64, 127, 2}) {
    std::vector<AuditEvent> events;
    for (int i = 0; i < batch; ++i) events.push_back(numbered(next++));
    ASSERT_TRUE(log.append(std::move(events)).is_ok());
    const std::uint64_t n = *log.size();
    ASSERT_EQ(n, static_cast<std::uint64_t>(next));
    auto tree = replay(log);
    EXPECT_EQ(*log.root(n), *crypto::merkle_root(tree, n)) << "after " << n << " events";
  }
  // Every leaf names its index and the hash of the one before it.
  auto leaves = *log.entries(0, static_cast<std::uint64_t>(next));
  crypto::Sha256Digest prev{};
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const auto j = nlohmann::json::parse(leaves[i]);
    EXPECT_EQ(j["index"], i);
    EXPECT_EQ(j["prev"], crypto::to_hex(prev));
    prev = crypto::merkle_leaf_hash(
        std::span(reinterpret_cast<const std::uint8_t*>(leaves[i].data()), leaves[i].size()));
  }
  // Proofs from the stored subtree hashes verify against the recomputed root.
  const auto n = static_cast<std::uint64_t>(next);
  const auto root = *log.root(n);
  for (std::uint64_t i = 0; i < n; i += 37) {
    auto proof = log.inclusion_proof(i, n);
    ASSERT_TRUE(proof.is_ok());
    const auto h = crypto::merkle_leaf_hash(
        std::span(reinterpret_cast<const std::uint8_t*>(leaves[i].data()), leaves[i].size()));
    EXPECT_TRUE(crypto::verify_inclusion(h, i, n, *proof, root).is_ok()) << i;
  }
  auto latest = log.checkpoint(true);
  ASSERT_TRUE(latest.is_ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, n);
  EXPECT_EQ((*latest)->root, crypto::to_hex(root));
  // The checkpoints signed along the way (every 50 events, from the appends' right edge) name
  // the roots the leaves give at their sizes.
  const auto signed_along = *log.checkpoints();
  ASSERT_GE(signed_along.size(), 6u);
  const auto tree = replay(log);
  for (const Checkpoint& c : signed_along) {
    EXPECT_EQ(c.root, crypto::to_hex(*crypto::merkle_root(tree, c.size))) << "at " << c.size;
  }
}

// Subtree hashes are stored at levels 0, 4, 8, ... only; every other level comes from them, and
// a tile, a proof or a root read through them is the tree's.
TEST_F(AuditLogTest, SubtreeHashesAreStoredAtEveryFourthLevelAndTheLevelsBetweenComeFromThem) {
  AuditLog log(*db_, keys_.signing_key(), AuditOptions{}, env_);
  int next = 0;
  for (int batch : {1, 200, 3, 96, 300}) {
    std::vector<AuditEvent> events;
    for (int i = 0; i < batch; ++i) events.push_back(numbered(next++));
    ASSERT_TRUE(log.append(std::move(events)).is_ok());
  }
  const auto n = static_cast<std::uint64_t>(next);
  const auto tree = replay(log);
  for (unsigned level = 0; (n >> level) > 0; ++level) {
    const std::uint64_t count = n >> level;
    auto hashes = log.subtree_hashes(level, 0, count);
    ASSERT_TRUE(hashes.is_ok()) << "level " << level << ": " << hashes.status().to_string();
    ASSERT_EQ(hashes->size(), count);
    for (std::uint64_t i = 0; i < count; ++i) {
      EXPECT_EQ((*hashes)[i], *tree.perfect_subtree_hash(level, i)) << level << "/" << i;
    }
  }
  auto code_at = [&](unsigned level, std::uint64_t index) {
    Code code = Code::kOk;
    EXPECT_TRUE(db_->read([&](adapters::Stores& s) {
                     code = s.audit.node(level, index).code();
                     return Status::ok();
                   })
                    .is_ok());
    return code;
  };
  EXPECT_EQ(code_at(4, 0), Code::kOk);
  EXPECT_EQ(code_at(8, 1), Code::kOk);
  for (unsigned level : {1u, 2u, 3u, 5u, 7u}) {
    EXPECT_EQ(code_at(level, 0), Code::kCorrupt) << "level " << level << " is not stored";
  }
  EXPECT_EQ(*log.root(n), *crypto::merkle_root(tree, n));
}

TEST_F(AuditLogTest, LeavesPreparedAheadAreStoredAsTheAppendWouldMakeThem) {
  // The same events, prepared ahead (some with an empty time, filled in then) or not, appended
  // in batches to two logs: the same leaves, byte for byte, in the same tree.
  testing::TempDir other_dir;
  auto other = std::move(adapters::open_sqlite({.path = other_dir.file("audit.db")})).value();
  AuditLog plain(*db_, keys_.signing_key(), AuditOptions{}, env_);
  AuditLog prepared(*other, keys_.signing_key(), AuditOptions{}, env_);
  std::mt19937 rng(20261203);
  for (int batch : {1, 3, 64, 300, 2}) {
    std::vector<AuditEvent> as_is, ahead;
    for (int i = 0; i < batch; ++i) {
      AuditEvent e = random_event(rng);
      if (i % 3 == 0) e.time.clear();
      AuditEvent p = e;
      prepare_leaf(p, "2026-12-03T08:00:00.000Z");
      ASSERT_TRUE(p.draft.has_value());
      if (e.time.empty()) e.time = "2026-12-03T08:00:00.000Z";
      as_is.push_back(std::move(e));
      ahead.push_back(std::move(p));
    }
    ASSERT_TRUE(plain.append(std::move(as_is)).is_ok());
    ASSERT_TRUE(prepared.append(std::move(ahead)).is_ok());
  }
  const std::uint64_t n = *plain.size();
  ASSERT_EQ(*prepared.size(), n);
  EXPECT_EQ(*plain.entries(0, n), *prepared.entries(0, n));
  EXPECT_EQ(*plain.root(n), *prepared.root(n));
  EXPECT_EQ(*prepared.root(n), *crypto::merkle_root(replay(prepared), n));
}

TEST_F(AuditLogTest, TwoWritersOnOneDatabaseExtendTheSameTree) {
  // A second AuditLog on the same file (a CLI command beside the server) appends in between:
  // each writer must notice the log moved and pick up the other's edge of the tree.
  AuditLog a(*db_, keys_.signing_key(), AuditOptions{}, env_);
  AuditLog b(*db_, keys_.signing_key(), AuditOptions{}, env_);
  int next = 0;
  for (int round = 0; round < 12; ++round) {
    AuditLog& w = round % 3 == 2 ? b : a;
    std::vector<AuditEvent> events;
    for (int i = 0; i < round + 1; ++i) events.push_back(numbered(next++));
    ASSERT_TRUE(w.append(std::move(events)).is_ok());
  }
  const auto n = static_cast<std::uint64_t>(next);
  auto tree = replay(a);
  ASSERT_EQ(tree.size(), n);
  EXPECT_EQ(*a.root(n), *crypto::merkle_root(tree, n));
  EXPECT_EQ(*b.root(n), *crypto::merkle_root(tree, n));
  // And the chain of leaf hashes runs across the writers.
  auto leaves = *a.entries(0, n);
  for (std::size_t i = 1; i < leaves.size(); ++i) {
    const auto h = crypto::merkle_leaf_hash(std::span(
        reinterpret_cast<const std::uint8_t*>(leaves[i - 1].data()), leaves[i - 1].size()));
    EXPECT_EQ(nlohmann::json::parse(leaves[i])["prev"], crypto::to_hex(h)) << i;
  }
}

TEST_F(AuditLogTest, SearchBySubjectFindsEventsInEveryBlockOfTheIndex) {
  // The subject index is kept per block of 4096 events. Rows far apart (written directly:
  // only the search is under test) must all be found, oldest first, within the limit.
  const std::vector<std::int64_t> mine = {3, 4095, 4096, 140000, 262143, 262144};
  auto row = [](std::int64_t idx, const std::string& subject) {
    return adapters::AuditLeafRow{.index = static_cast<std::uint64_t>(idx),
                                  .leaf = "x",
                                  .time = "2026-11-22T10:00:00.000Z",
                                  .actor = "a",
                                  .action = "feed.read",
                                  .purpose = "p",
                                  .subject = subject,
                                  .recipient = "r",
                                  .decision = "permit"};
  };
  std::vector<adapters::AuditLeafRow> rows;
  for (std::int64_t idx : {std::int64_t{1}, std::int64_t{70000}, std::int64_t{262145}}) {
    rows.push_back(row(idx, "someone-else"));
  }
  for (std::int64_t idx : mine) rows.push_back(row(idx, "me"));
  ASSERT_TRUE(db_->write([&](adapters::Stores& st) { return st.audit.add_leaves(rows); }).is_ok());
  AuditLog log(*db_, keys_.signing_key(), AuditOptions{}, env_);
  auto all = log.search({.subject = "me"});
  ASSERT_TRUE(all.is_ok()) << all.message();
  std::vector<std::int64_t> found;
  for (const auto& [idx, leaf] : *all) found.push_back(static_cast<std::int64_t>(idx));
  EXPECT_EQ(found, mine);
  auto first = log.search({.subject = "me", .limit = 3});
  ASSERT_TRUE(first.is_ok());
  ASSERT_EQ(first->size(), 3U);
  EXPECT_EQ((*first)[2].first, 4096U);
  auto other = log.search({.subject = "me", .action = "consent.record"});
  ASSERT_TRUE(other.is_ok());
  EXPECT_TRUE(other->empty());
}

// What a request stores commits with its events: a failing transaction leaves neither, a
// committed one both, and the tree stays whole across record() and append().
TEST_F(AuditLogTest, RecordCommitsTheEventsWithTheDataOrNeither) {
  AuditLog log(*db_, keys_.signing_key(), AuditOptions{}, env_);
  ASSERT_TRUE(log.append({numbered(0)}).is_ok());
  const std::vector<adapters::OrgRow> orgs = {{"org-a", "A", Role::kProject, "", ""}};
  Status failed = log.record([&](adapters::Stores& st, std::vector<AuditEvent>& events) {
    BRUG_RETURN_IF_ERROR(st.orgs.sync(orgs, "2026-11-30T00:00:00.000Z"));
    events.push_back(numbered(1));
    return Status::error(Code::kIo, "the request failed after its writes");
  });
  EXPECT_FALSE(failed.is_ok());
  EXPECT_EQ(*log.size(), 1U);
  std::size_t active = 99;
  ASSERT_TRUE(db_->read([&](adapters::Stores& st) {
                   auto all = st.orgs.active();
                   if (!all) return all.status();
                   active = all->size();
                   return Status::ok();
                 })
                  .is_ok());
  EXPECT_EQ(active, 0U);

  int runs = 0;
  ASSERT_TRUE(log.record([&](adapters::Stores& st, std::vector<AuditEvent>& events) {
                   ++runs;
                   EXPECT_TRUE(events.empty());
                   BRUG_RETURN_IF_ERROR(st.orgs.sync(orgs, "2026-11-30T00:00:00.000Z"));
                   events.push_back(numbered(1));
                   events.push_back(numbered(2));
                   return Status::ok();
                 })
                  .is_ok());
  EXPECT_EQ(runs, 1);
  ASSERT_TRUE(log.append({numbered(3)}).is_ok());
  const std::uint64_t n = *log.size();
  ASSERT_EQ(n, 4U);
  auto tree = replay(log);
  EXPECT_EQ(*log.root(n), *crypto::merkle_root(tree, n));
  ASSERT_TRUE(db_->read([&](adapters::Stores& st) {
                   auto all = st.orgs.active();
                   if (!all) return all.status();
                   active = all->size();
                   return Status::ok();
                 })
                  .is_ok());
  EXPECT_EQ(active, 1U);
}

// A writer that read ahead of its write lock (a push) learns whether anything committed since
// can have changed what it read: only when every commit since went through the same AuditLog,
// said what it changed, and changed none of it.
TEST_F(AuditLogTest, UnchangedSinceKnowsOnlyCommitsThatSaidWhatTheyChanged) {
  AuditLog a(*db_, keys_.signing_key(), AuditOptions{}, env_);
  AuditLog b(*db_, keys_.signing_key(), AuditOptions{}, env_);
  int next = 0;
  auto commit = [&](AuditLog& log, Changes changes) {
    ASSERT_TRUE(log.record(
                       [&](adapters::Stores&, std::vector<AuditEvent>& events) {
                         events.push_back(numbered(next++));
                         return Status::ok();
                       },
                       std::move(changes))
                    .is_ok());
  };
  // Asked under the write lock, as a push asks.
  auto unchanged = [&](AuditLog& log, std::uint64_t seen, const std::vector<std::string>& names) {
    bool out = false;
    EXPECT_TRUE(log.record([&](adapters::Stores& st, std::vector<AuditEvent>&) {
                     auto same = log.unchanged_since(st.audit, seen, Changes::of(names));
                     if (!same) return same.status();
                     out = *same;
                     return Status::ok();
                   })
                    .is_ok());
    return out;
  };
  commit(a, Changes::none());
  const std::uint64_t seen = *a.size();
  EXPECT_TRUE(unchanged(a, seen, {"x"})) << "nothing committed since";
  commit(a, Changes::of({"x", "z"}));
  ASSERT_TRUE(a.append({numbered(next++), numbered(next++)}).is_ok());
  EXPECT_TRUE(unchanged(a, seen, {"y", "w"})) << "the commits since changed other rows";
  EXPECT_FALSE(unchanged(a, seen, {"y", "z"}));
  EXPECT_FALSE(unchanged(a, seen, {"x"}));
  // A commit that does not say what it changed.
  const std::uint64_t later = *a.size();
  commit(a, Changes{});
  EXPECT_FALSE(unchanged(a, later, {"y"}));
  // Another writer on the same database (a second process): a's memory has a gap.
  const std::uint64_t before_b = *a.size();
  EXPECT_TRUE(unchanged(a, before_b, {"y"}));
  ASSERT_TRUE(b.append({numbered(next++)}).is_ok());
  EXPECT_FALSE(unchanged(a, before_b, {"y"}));
  // Past that gap a's own commits count again, and a failed write is no commit.
  const std::uint64_t after_b = *a.size();
  EXPECT_FALSE(a.record(
                    [&](adapters::Stores&, std::vector<AuditEvent>& events) {
                      events.push_back(numbered(1000));
                      return Status::error(Code::kIo, "failed");
                    },
                    Changes::of({"y"}))
                   .is_ok());
  commit(a, Changes::of({"x"}));
  EXPECT_TRUE(unchanged(a, after_b, {"y"}));
  // Only the newest commits are remembered.
  const std::uint64_t long_ago = *a.size();
  for (int i = 0; i < 300; ++i) commit(a, Changes::none());
  EXPECT_FALSE(unchanged(a, long_ago, {"y"}));
  EXPECT_TRUE(unchanged(a, *a.size() - 10, {"y"}));
}

// A write of the same process that has committed but not yet returned (its thread not yet
// scheduled) is no gap: the check waits for it a little, and no longer than that.
TEST_F(AuditLogTest, UnchangedSinceWaitsBrieflyForACommitNotYetRemembered) {
  auto* faulty = new adapters::testing::FaultyDatabase(std::move(db_));
  std::unique_ptr<adapters::Database> owned(faulty);
  AuditLog log(*faulty, keys_.signing_key(), AuditOptions{}, env_);
  int next = 0;
  ASSERT_TRUE(log.append({numbered(next++)}).is_ok());
  // Another thread's write commits, then returns `stall` later; meanwhile this thread checks.
  auto check_beside = [&](std::chrono::milliseconds stall, std::chrono::nanoseconds& took) {
    const std::uint64_t seen = *log.size();
    faulty->arm(adapters::testing::Fault::kSlowReturn, 1, stall);
    std::thread slow([&] {
      EXPECT_TRUE(log.record(
                         [&](adapters::Stores&, std::vector<AuditEvent>& events) {
                           events.push_back(numbered(next++));
                           return Status::ok();
                         },
                         Changes::of({"x"}))
                      .is_ok());
    });
    while (*log.size() == seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    bool same = false;
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(log.record([&](adapters::Stores& st, std::vector<AuditEvent>&) {
                     auto u = log.unchanged_since(st.audit, seen, Changes::of({"y"}));
                     if (!u) return u.status();
                     same = *u;
                     return Status::ok();
                   })
                    .is_ok());
    took = std::chrono::steady_clock::now() - started;
    slow.join();
    return same;
  };
  // Returning 10 ms after its commit: waited for (a busy machine may delay that thread past the
  // wait, so one of three tries is enough; without the wait none passes).
  std::chrono::nanoseconds took{};
  bool waited = false;
  for (int attempt = 0; attempt < 3 && !waited; ++attempt) {
    waited = check_beside(std::chrono::milliseconds(10), took);
  }
  EXPECT_TRUE(waited);
  // Returning 400 ms after: a gap after the short wait, not a 400 ms stall under the lock.
  EXPECT_FALSE(check_beside(std::chrono::milliseconds(400), took));
  EXPECT_LT(took, std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace brug::gateway
