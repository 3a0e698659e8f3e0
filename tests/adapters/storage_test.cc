#include "adapters/sqlite/storage.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"

namespace brug::adapters {
namespace {

class StorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<Storage> open() {
    auto s = open_sqlite_storage({.path = dir_.file("brug.db")});
    if (!s) ADD_FAILURE() << s.status().to_string();
    return s ? std::move(s).value() : nullptr;
  }
  std::int64_t count_organisations(Storage& db) {
    std::int64_t n = -1;
    EXPECT_TRUE(db.read([&](Tx& tx) {
                    auto rows = tx.query("SELECT COUNT(*) FROM organisations");
                    if (!rows) return rows.status();
                    n = rows->front().integer(0);
                    return Status::ok();
                  }).is_ok());
    return n;
  }
  Status insert_org(Tx& tx, const std::string& id) {
    return tx
        .exec("INSERT INTO organisations (id, name, role, updated_at) VALUES (?, ?, ?, ?)",
              {id, std::string("Org ") + id, std::string("project"), std::string("2026-11-22")})
        .status();
  }
  testing::TempDir dir_;
};

TEST_F(StorageTest, OpeningAppliesEveryMigration) {
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->schema_version(), static_cast<int>(migrations().size()));
  EXPECT_EQ(count_organisations(*db), 0);
  EXPECT_EQ(db->backend(), "sqlite");
}

TEST_F(StorageTest, MigrationsAreNumberedWithoutGaps) {
  int expected = 1;
  for (const Migration& m : migrations()) EXPECT_EQ(m.version, expected++);
}

TEST_F(StorageTest, ConnectionsUseWalForeignKeysAndABusyTimeout) {
  auto db = open();
  ASSERT_TRUE(db);
  // PRAGMA statements count as writes to SQLite (they could set), so they run in a write.
  ASSERT_TRUE(db->transact([](Tx& tx) {
                  auto mode = tx.query("PRAGMA journal_mode");
                  EXPECT_TRUE(mode && mode->front().text(0) == "wal");
                  auto fk = tx.query("PRAGMA foreign_keys");
                  EXPECT_TRUE(fk && fk->front().integer(0) == 1);
                  auto busy = tx.query("PRAGMA busy_timeout");
                  EXPECT_TRUE(busy && busy->front().integer(0) == 5000);
                  // Two restarts' worth of the largest cadence (65,536 frames), a quarter more.
                  auto limit = tx.query("PRAGMA journal_size_limit");
                  EXPECT_TRUE(limit && limit->front().integer(0) == 65536 * 4120 * 5 / 4);
                  return Status::ok();
                }).is_ok());
}

TEST_F(StorageTest, ATransactionThatFailsStoresNothing) {
  auto db = open();
  ASSERT_TRUE(db);
  Status s = db->transact([&](Tx& tx) {
    BRUG_RETURN_IF_ERROR(insert_org(tx, "a"));
    return Status::error(Code::kInvalidArgument, "second item bad");
  });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(count_organisations(*db), 0);
}

TEST_F(StorageTest, ATransactionThatThrowsStoresNothingAndReportsInternal) {
  auto db = open();
  ASSERT_TRUE(db);
  Status s = db->transact([&](Tx& tx) -> Status {
    BRUG_RETURN_IF_ERROR(insert_org(tx, "a"));
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(count_organisations(*db), 0);
}

TEST_F(StorageTest, CommittedRowsSurviveReopening) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->transact([&](Tx& tx) { return insert_org(tx, "kept"); }).is_ok());
  }
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(count_organisations(*db), 1);
}

TEST_F(StorageTest, RefusesADatabaseWrittenByANewerBrug) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        db->transact([](Tx& tx) {
            return tx.exec("INSERT INTO schema_migrations VALUES (999, 'future', 'x')").status();
          }).is_ok());
  }
  auto again = open_sqlite_storage({.path = dir_.file("brug.db")});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.code(), Code::kFailedPrecondition);
  EXPECT_NE(again.message().find("999"), std::string::npos);
}

TEST_F(StorageTest, BadSqlIsAnErrorNotAnException) {
  auto db = open();
  ASSERT_TRUE(db);
  Status s =
      db->transact([](Tx& tx) { return tx.exec("INSERT INTO nowhere VALUES (1)").status(); });
  EXPECT_EQ(s.code(), Code::kIo);
}

TEST_F(StorageTest, ForeignKeysAreEnforced) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(
      db->transact([](Tx& tx) {
          return tx.exec("CREATE TABLE child (org TEXT REFERENCES organisations(id))").status();
        }).is_ok());
  Status s = db->transact([](Tx& tx) {
    return tx.exec("INSERT INTO child VALUES (?)", {std::string("none")}).status();
  });
  EXPECT_EQ(s.code(), Code::kIo);
}

TEST_F(StorageTest, ValuesOfEveryTypeRoundTrip) {
  auto db = open();
  ASSERT_TRUE(db);
  const Blob bytes = {0x00, 0xff, 0x10, 0x00};
  ASSERT_TRUE(
      db->transact([&](Tx& tx) {
          BRUG_RETURN_IF_ERROR(
              tx.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)").status());
          return tx
              .exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                    {std::int64_t{1} << 40, 2.5, std::string("tekst é"), bytes, std::monostate{}})
              .status();
        }).is_ok());
  ASSERT_TRUE(db->read([&](Tx& tx) {
                  auto rows = tx.query("SELECT i, r, s, b, n FROM t");
                  if (!rows) return rows.status();
                  const Row& row = rows->front();
                  EXPECT_EQ(row.integer(0), std::int64_t{1} << 40);
                  EXPECT_DOUBLE_EQ(std::get<double>(row.at(1)), 2.5);
                  EXPECT_EQ(row.text(2), "tekst é");
                  EXPECT_EQ(row.blob(3), bytes);
                  EXPECT_TRUE(row.is_null(4));
                  EXPECT_EQ(row.optional_text(4), std::nullopt);
                  EXPECT_EQ(row.optional_blob(3), bytes);
                  return Status::ok();
                }).is_ok());
}

// Typed rows: NULL or another type is never read as 0 or "", and the transaction that tried
// fails whole.
TEST_F(StorageTest, ReadingANullOrAWrongTypeFailsTheTransaction) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->transact([&](Tx& tx) {
                  BRUG_RETURN_IF_ERROR(tx.exec("CREATE TABLE t (i INTEGER, s TEXT)").status());
                  return tx.exec("INSERT INTO t VALUES (NULL, 'x')").status();
                }).is_ok());
  for (int column : {0, 1}) {
    Status s = db->transact([&](Tx& tx) {
      BRUG_RETURN_IF_ERROR(tx.exec("INSERT INTO t VALUES (7, 'y')").status());
      auto rows = tx.query("SELECT i, s FROM t WHERE s = 'x'");
      if (!rows) return rows.status();
      (void)rows->front().integer(static_cast<std::size_t>(column));  // NULL, then text
      return Status::ok();
    });
    EXPECT_EQ(s.code(), Code::kInternal) << column;
  }
  std::int64_t rows_after = -1;
  ASSERT_TRUE(db->read([&](Tx& tx) {
                  auto rows = tx.query("SELECT COUNT(*) FROM t");
                  if (!rows) return rows.status();
                  rows_after = rows->front().integer(0);
                  return Status::ok();
                }).is_ok());
  EXPECT_EQ(rows_after, 1);
}

TEST_F(StorageTest, AReadTransactionCannotWrite) {
  auto db = open();
  ASSERT_TRUE(db);
  Status s = db->read([&](Tx& tx) { return insert_org(tx, "x"); });
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(count_organisations(*db), 0);
}

TEST_F(StorageTest, AReadTransactionCannotWriteThroughQueryEither) {
  auto db = open();
  ASSERT_TRUE(db);
  Status s = db->read([&](Tx& tx) {
    return tx
        .query(
            "INSERT INTO organisations (id, name, role, updated_at) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            {std::string("x"), std::string("X"), std::string("project"), std::string("2026-11-22")})
        .status();
  });
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(count_organisations(*db), 0);
}

TEST_F(StorageTest, ACallbackThatEndsItsTransactionIsRefused) {
  auto db = open();
  ASSERT_TRUE(db);
  // A callback that commits its first row itself and then writes a second one outside any
  // transaction must not report success: the second write would not be atomic with the first.
  Status s = db->transact([&](Tx& tx) {
    BRUG_RETURN_IF_ERROR(insert_org(tx, "a"));
    return tx.exec("COMMIT").status();
  });
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("ended inside its callback"), std::string::npos) << s.to_string();
}

TEST_F(StorageTest, ConcurrentWritersLoseNothing) {
  auto db = open();
  ASSERT_TRUE(db);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Status s = db->transact(
            [&](Tx& tx) { return insert_org(tx, std::to_string(t) + "-" + std::to_string(i)); });
        EXPECT_TRUE(s.is_ok()) << s.to_string();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(count_organisations(*db), kThreads * kEach);
}

// Writers that never pause, with a read transaction open at every moment (as under load: each
// push reads a snapshot first), still let the WAL start again: past wal_restart_frames the
// checkpointer holds this process's writers back while it copies the WAL. Without that the WAL
// only grows (13 GB in a load run of 10^6 referrals). The file is written over from its start,
// not truncated: it never shrinks (growing it again costs the filesystem a new block per frame).
TEST_F(StorageTest, TheWalStaysBoundedWhileWritersAndReadersNeverPause) {
  constexpr int kRestart = 1500;  // frames; the passive checkpoint starts at 1000
  auto opened = open_sqlite_storage(
      {.path = dir_.file("brug.db"), .synchronous_full = false, .wal_restart_frames = kRestart});
  ASSERT_TRUE(opened) << opened.status().to_string();
  auto& db = **opened;
  ASSERT_TRUE(db.transact([](Tx& tx) {
                  return tx.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)").status();
                }).is_ok());
  std::atomic<bool> writing{true};
  // Two readers, each holding its snapshot for a while, started apart: one is always open.
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::this_thread::sleep_for(std::chrono::milliseconds(2 * r));
      while (writing) {
        (void)db.read([](Tx& tx) {
          auto n = tx.query("SELECT COUNT(*) FROM filler");
          std::this_thread::sleep_for(std::chrono::milliseconds(4));
          return n.status();
        });
      }
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&] {
      const Blob b(6000, 0x5a);  // two pages a row
      for (int i = 0; i < 1500; ++i) {
        Status s = db.transact(
            [&](Tx& tx) { return tx.exec("INSERT INTO filler (b) VALUES (?)", {b}).status(); });
        ASSERT_TRUE(s.is_ok()) << s.to_string();
      }
    });
  }
  const std::string wal_path = dir_.file("brug.db") + "-wal";
  std::uintmax_t shrunk_from = 0, shrunk_to = 0;
  std::thread watcher([&] {
    std::uintmax_t last = 0;
    while (writing) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(wal_path, ec);
      if (!ec && size < last && shrunk_from == 0) {
        shrunk_from = last;
        shrunk_to = size;
      }
      if (!ec) last = size;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (auto& w : writers) w.join();
  writing = false;
  for (auto& r : readers) r.join();
  watcher.join();
  // 3000 rows wrote over 10,000 frames; the WAL holds a few thousand at most.
  const auto wal = std::filesystem::file_size(wal_path);
  EXPECT_LT(wal, 4u * kRestart * 4120u) << wal;
  EXPECT_EQ(shrunk_from, 0u) << "the WAL shrank from " << shrunk_from << " to " << shrunk_to;
}

// The checkpointer copies the WAL into the database only once the WAL holds an eighth of the
// database's pages (at least 1000 frames): writes at random places then reach the database file
// once per checkpoint, not once per commit.
TEST_F(StorageTest, TheCheckpointWaitsUntilTheWalHoldsAnEighthOfTheDatabase) {
  const std::string path = dir_.file("brug.db");
  constexpr int kRows = 16000;  // one 4 KiB page each: the database has about 16,000 pages
  const Blob page(4000, 0x5a);
  {
    auto opened = open_sqlite_storage({.path = path, .synchronous_full = false});
    ASSERT_TRUE(opened) << opened.status().to_string();
    ASSERT_TRUE(
        (*opened)
            ->transact([](Tx& tx) {
              return tx.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)").status();
            })
            .is_ok());
    for (int first = 0; first < kRows; first += 1000) {
      ASSERT_TRUE((*opened)
                      ->transact([&](Tx& tx) {
                        for (int i = 0; i < 1000; ++i) {
                          auto done = tx.exec("INSERT INTO filler (b) VALUES (?)", {page});
                          if (!done) return done.status();
                        }
                        return Status::ok();
                      })
                      .is_ok());
    }
  }  // closing the last connection copies the WAL into the database
  auto read_file = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  auto opened = open_sqlite_storage({.path = path, .synchronous_full = false});
  ASSERT_TRUE(opened) << opened.status().to_string();
  auto& db = **opened;
  const std::string before = read_file();
  ASSERT_GT(before.size(), kRows * 4096u);
  // Rewrites rows [first, first + n), far apart: about one frame each, in commits of 100.
  auto rewrite = [&](int first, int n) {
    const Blob other(4000, 0xa5);
    for (int done = 0; done < n; done += 100) {
      ASSERT_TRUE(db.transact([&](Tx& tx) {
                      for (int i = done; i < std::min(n, done + 100); ++i) {
                        auto r = tx.exec("UPDATE filler SET b = ? WHERE id = ?",
                                         {other, std::int64_t{1 + (first + i) * 7 % kRows}});
                        if (!r) return r.status();
                      }
                      return Status::ok();
                    }).is_ok());
    }
  };
  // About 1500 frames: past SQLite's 1000, short of an eighth of 16,000 pages.
  rewrite(0, 1500);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(read_file() == before) << "checkpointed before the WAL held 2000 frames";
  // A reader holds a snapshot of the WAL as it is now: no checkpoint copies past it, and the WAL
  // cannot start again from its beginning while it reads.
  std::promise<void> release;
  std::promise<void> reading;
  std::thread reader([&] {
    (void)db.read([&](Tx& tx) {
      auto n = tx.query("SELECT COUNT(*) FROM filler");
      reading.set_value();
      release.get_future().wait();
      return n.status();
    });
  });
  reading.get_future().wait();
  // Past 2000 frames: the checkpointer copies what the reader allows (on its own thread, soon).
  rewrite(1500, 1000);
  auto changes_from = [&](const std::string& was) {
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (read_file() != was) return true;
    }
    return false;
  };
  const bool checkpointed = changes_from(before);
  release.set_value();
  reader.join();
  ASSERT_TRUE(checkpointed) << "no checkpoint after the WAL held more than 2000 frames";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string copied = read_file();
  // The count starts again from what was copied: the 1000 frames of the second rewrite wait,
  // with 400 more; 1000 more after those are copied.
  rewrite(2500, 400);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(read_file() == copied) << "checkpointed 1400 frames after the last checkpoint";
  rewrite(2900, 1000);
  EXPECT_TRUE(changes_from(copied)) << "no checkpoint 2400 frames after the last one";
}

TEST_F(StorageTest, AnUnwritablePathIsAClearError) {
  auto db = open_sqlite_storage({.path = dir_.file("missing/dir/brug.db")});
  ASSERT_FALSE(db);
  EXPECT_EQ(db.code(), Code::kIo);
  EXPECT_NE(db.message().find("missing/dir/brug.db"), std::string::npos) << db.message();
}

}  // namespace
}  // namespace brug::adapters
