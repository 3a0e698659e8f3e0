#include "crypto/random.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/secret.h"

namespace brug::crypto {
namespace {

std::string random_string(std::size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), s.size());
  return s;
}

TEST(PooledRandom, IsWhatLibsodiumUsesAfterInit) {
  ASSERT_TRUE(init().is_ok());
  EXPECT_STREQ(randombytes_implementation_name(), "brug-getrandom-pool");
}

// Requests of every size, crossing the pool's refills, never hand out the same bytes twice.
TEST(PooledRandom, NoBytesAreHandedOutTwice) {
  ASSERT_TRUE(init().is_ok());
  std::set<std::string> seen;
  std::size_t total = 0;
  for (std::size_t n : {1, 7, 16, 17, 24, 32, 100, 1000, 1023, 1024, 4095, 5000}) {
    for (int i = 0; i < 40; ++i) {
      const std::string s = random_string(n);
      total += n;
      if (n >= 16) {
        EXPECT_TRUE(seen.insert(s).second) << n;
      }
    }
  }
  EXPECT_GT(total, 4 * 4096u);
  // 16 bytes taken one at a time in a row are not a repeat of the 16 taken at once before.
  const std::string whole = random_string(16);
  std::string pieces;
  for (int i = 0; i < 16; ++i) pieces += random_string(1);
  EXPECT_NE(whole, pieces);
  EXPECT_NE(whole, std::string(16, '\0'));
}

// Each thread has its own pool: threads do not get each other's bytes.
TEST(PooledRandom, ThreadsGetDifferentBytes) {
  ASSERT_TRUE(init().is_ok());
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&got, t] { got[t] = random_string(32); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size());
}

// A forked child does not repeat the bytes its parent is about to use.
TEST(PooledRandom, AForkedChildDoesNotReuseTheParentsPool) {
  ASSERT_TRUE(init().is_ok());
  (void)random_string(8);  // the pool now holds unused bytes
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string s = random_string(32);
    _exit(write(fds[1], s.data(), s.size()) == 32 ? 0 : 1);
  }
  close(fds[1]);
  const std::string mine = random_string(32);
  std::string child(32, '\0');
  ASSERT_EQ(read(fds[0], child.data(), child.size()), 32);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_NE(mine, child);
}

}  // namespace
}  // namespace brug::crypto
