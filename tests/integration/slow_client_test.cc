// Slow clients against the real gateway, on loopback only, each attack bounded in time: while
// it runs, a legitimate organisation opens a new mutual-TLS connection for every /healthz, and
// none of those may fail or take longer than 100 ms at the 99th percentile.
//
// The gateway runs with short deadlines (2 s for the handshake and for a request head) so the
// attacks, which keep trickling for longer, outlast them; an attacker that is dropped comes
// back at once. Attackers use other loopback addresses (127.0.0.x) than the organisation.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/gateway_fixture.h"

namespace brug::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kDeadlineS = 2;
constexpr auto kAttack = std::chrono::seconds(7);
// A probe stalled by the attack would wait for the 2 s deadline; a healthy one is a new TLS
// connection. Under AddressSanitizer each handshake is several times slower (p50 27 ms, one
// probe of 99 at 124 ms in a CI run), so the bound that tells the two apart is scaled.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kProbeP99Ms = 400.0;
#else
constexpr double kProbeP99Ms = 100.0;
#endif
constexpr auto kTrickle = std::chrono::seconds(2);

// A TCP connection to the gateway from `source` (a loopback address); -1 when refused.
int connect_from(const std::string& source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server has closed `fd` (waits up to `wait`).
bool closed_by_peer(int fd, milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

// Waits one trickle interval; true as soon as the server drops `fd`.
bool dropped_while_waiting(int fd, const std::atomic<bool>& stop) {
  for (auto t = milliseconds(0); !stop && t < kTrickle; t += milliseconds(100)) {
    if (closed_by_peer(fd, milliseconds(100))) return true;
  }
  return false;
}

// The first flight of a real TLS client: its ClientHello.
std::string client_hello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_connect(ssl);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return hello;
}

// How long the attack connections lived before the server dropped them.
class Lifetimes {
 public:
  void add(Clock::duration d) {
    std::lock_guard lock(mu_);
    longest_ = std::max(longest_, d);
    ++dropped_;
  }
  Clock::duration longest() const { return longest_; }
  int dropped() const { return dropped_; }

 private:
  std::mutex mu_;
  Clock::duration longest_{};
  int dropped_ = 0;
};

class SlowClientTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() {
    configure_ = [](gateway::Config& c) {
      c.handshake_timeout_s = kDeadlineS;
      c.head_timeout_s = kDeadlineS;
      c.timeout_s = 30;  // a per-read timeout would never fire on a byte every 2 s
      c.max_connections_per_address = 16;
    };
    GatewayFixture::SetUpTestSuite();
    configure_ = nullptr;
  }

  // Runs `attack` (given a stop flag) while the organisation probes /healthz with a new
  // connection every 40 ms; checks the probes.
  static void expect_unaffected(const std::function<void(const std::atomic<bool>&)>& attack) {
    std::atomic<bool> stop{false};
    std::thread attacker([&] { attack(stop); });
    std::this_thread::sleep_for(milliseconds(500));  // let the attack take hold
    std::vector<double> ms;
    int failures = 0;
    const auto until = Clock::now() + kAttack;
    while (Clock::now() < until) {
      const auto started = Clock::now();
      try {
        if (client(kGemeente).get("/healthz").status != 200) ++failures;
      } catch (const std::exception&) {
        ++failures;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
      std::this_thread::sleep_for(milliseconds(40));
    }
    stop = true;
    attacker.join();
    std::sort(ms.begin(), ms.end());
    ASSERT_GT(ms.size(), 50U);
    const double p99 = ms[ms.size() * 99 / 100];
    std::cout << "healthz over new connections during the attack: " << ms.size()
              << " requests, p50 " << ms[ms.size() / 2] << " ms, p99 " << p99 << " ms, max "
              << ms.back() << " ms\n";
    EXPECT_EQ(failures, 0);
    EXPECT_LT(p99, kProbeP99Ms);
  }

  // 20 attackers, each from its own address, that come back at once when dropped: `attack`
  // works one connection and tells whether the server dropped it.
  static void twenty_attackers(const std::atomic<bool>& stop, Lifetimes& lifetimes,
                               const std::function<bool(int fd)>& attack) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; ++i) {
      threads.emplace_back([&, i] {
        while (!stop) {
          const int fd = connect_from("127.0.0." + std::to_string(10 + i), gateway_->port());
          if (fd < 0) continue;
          const auto opened = Clock::now();
          if (attack(fd)) lifetimes.add(Clock::now() - opened);
          ::close(fd);
        }
      });
    }
    for (auto& t : threads) t.join();
  }

  // brug_connections_refused_total, as the operator reads it.
  static std::uint64_t refused_connections() {
    const std::string body = client(kAuditor).get("/metrics").body;
    const std::string name = "\nbrug_connections_refused_total ";
    const auto at = body.find(name);
    EXPECT_NE(at, std::string::npos) << body;
    return at == std::string::npos ? 0 : std::stoull(body.substr(at + name.size()));
  }
};

TEST_F(SlowClientTest, ClientHellosTrickledByteByByteNeitherStallOthersNorOutliveTheDeadline) {
  const std::string hello = client_hello();
  ASSERT_GT(hello.size(), 100U);
  Lifetimes lifetimes;
  expect_unaffected([&](const std::atomic<bool>& stop) {
    twenty_attackers(stop, lifetimes, [&](int fd) {
      for (std::size_t sent = 0; !stop && sent < hello.size(); ++sent) {
        if (::send(fd, &hello[sent], 1, MSG_NOSIGNAL) != 1) return true;
        if (dropped_while_waiting(fd, stop)) return true;
      }
      return false;
    });
  });
  // The handshake deadline is a total: trickling never extends it.
  EXPECT_GE(lifetimes.dropped(), 20);
  EXPECT_LT(lifetimes.longest(), std::chrono::seconds(kDeadlineS) + milliseconds(1500));
}

TEST_F(SlowClientTest, RequestHeadsTrickledLineByLineNeitherStallOthersNorOutliveTheDeadline) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_use_certificate_chain_file(ctx, org(kJobhulp).cert_file.c_str()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx, org(kJobhulp).key_file.c_str(), SSL_FILETYPE_PEM), 1);
  Lifetimes lifetimes;
  std::atomic<int> handshakes{0};
  expect_unaffected([&](const std::atomic<bool>& stop) {
    twenty_attackers(stop, lifetimes, [&](int fd) {
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      bool dropped = false;
      if (SSL_connect(ssl) == 1) {
        ++handshakes;
        std::string line = "GET /healthz HTTP/1.1\r\n";
        for (int n = 0; !stop && !dropped; ++n) {
          dropped = SSL_write(ssl, line.data(), static_cast<int>(line.size())) <= 0 ||
                    dropped_while_waiting(fd, stop);
          line = "X-Slow-" + std::to_string(n) + ": 1\r\n";
        }
      }
      ERR_clear_error();
      SSL_free(ssl);
      return dropped;
    });
  });
  SSL_CTX_free(ctx);
  // The head deadline is a total: a line every 2 s never extends it.
  EXPECT_GE(handshakes.load(), 20);
  EXPECT_GE(lifetimes.dropped(), 20);
  EXPECT_LT(lifetimes.longest(), std::chrono::seconds(kDeadlineS) + milliseconds(1500));
}

TEST_F(SlowClientTest, IdleConnectionsThatReconnectWhenDroppedNeitherStallNorLockOutOthers) {
  const std::uint64_t refused_before = refused_connections();
  std::atomic<int> reconnects{0};
  expect_unaffected([&](const std::atomic<bool>& stop) {
    std::vector<int> fds(100, -1);
    while (!stop) {
      for (int& fd : fds) {
        if (fd < 0) {
          fd = connect_from("127.0.0.2", gateway_->port());
          ++reconnects;
        }
      }
      std::vector<pollfd> polls;
      for (int fd : fds) polls.push_back({fd, POLLIN, 0});
      ::poll(polls.data(), polls.size(), 20);
      for (std::size_t i = 0; i < fds.size(); ++i) {
        char c;
        if (fds[i] >= 0 && (polls[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
            ::recv(fds[i], &c, 1, MSG_DONTWAIT) <= 0) {
          ::close(fds[i]);
          fds[i] = -1;
        }
      }
    }
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  });
  // One address holds at most 16 connections: the rest were refused as they came.
  EXPECT_GT(refused_connections(), refused_before + 84);
  EXPECT_GT(reconnects.load(), 100);
}

}  // namespace
}  // namespace brug::testing
