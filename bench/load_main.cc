// A load run over loopback with real mutual TLS against a running gateway (`brug serve`):
//   brug_load --config DIR/brug.json --participants N [--threads T] [--rate R] [--seconds S]
//             [--port2 P] [--server-pid PID] [--consented K] [--reread 1]
// With --server-pid, each phase also prints the server's CPU time per record (user + system,
// from /proc): what the gateway costs, whatever else shares the machine.
// The client does the minimum a consumer must: push bodies are built before the clock starts,
// and each feed page is read whole and scanned (SAX, no tree) for its items and next cursor.
// With --port2, a second gateway process over the same database listens on P (PostgreSQL):
// odd threads push and ask /healthz there, and the feed pages alternate between the two.
// 1. push: the participatiebedrijf pushes N referrals to the gemeente (public task, no consent
//    needed) in batches of 1000 from T threads, durably stored: records/s.
// 2. feed: the gemeente pulls everything with limit=100 and with limit=1000: records/s.
// 2b. with --consented K: K people with consent to a project, referred to it and pulled by it
//     with limit=1000 (each item's consent looked up): consents/s and records/s.
// 3. small requests: GET /healthz at R requests/s for S seconds from T threads: p50/p99.
// With --reread 1, only the limit=1000 pull runs, from the start of a feed that an earlier run
// filled with N items (e.g. the 10^6 of a long run): to measure or profile that phase again
// without pushing again. Each read is audited again, so the audit log keeps growing.
// With --push-only 1, only the push runs (with --block B beyond the BSNs already stored): to
// measure the push into such a database.
// Each participant is new (BSNs from a run-specific block), so N is also the number stored.
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "gateway/app/config.h"
#include "gateway/cli/synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Target {
  std::string host;
  std::uint16_t port;
  std::string pki;
};

class Client {
 public:
  Client(const Target& t, const std::string& org) {
    Poco::Net::Context::Params p;
    p.caLocation = t.pki + "/ca.pem";
    p.certificateFile = t.pki + "/" + org + ".pem";
    p.privateKeyFile = t.pki + "/" + org + ".key";
    p.loadDefaultCAs = false;
    ctx_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
    session_ = std::make_unique<Poco::Net::HTTPSClientSession>("localhost", t.port, ctx_);
    session_->setKeepAlive(true);
  }
  std::string call(const std::string& method, const std::string& uri, const std::string& body,
                   int expect = 200) {
    Poco::Net::HTTPRequest req(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    if (!body.empty()) {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session_->sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::string answer;
    Poco::StreamCopier::copyToString(session_->receiveResponse(resp), answer);
    if (static_cast<int>(resp.getStatus()) != expect) {
      throw std::runtime_error(uri + ": " + std::to_string(static_cast<int>(resp.getStatus())) +
                               " " + answer.substr(0, 200));
    }
    return answer;
  }

 private:
  Poco::Net::Context::Ptr ctx_;
  std::unique_ptr<Poco::Net::HTTPSClientSession> session_;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds (user + system) the process has used so far; 0 without a pid.
double cpu_seconds(int pid) {
  if (pid == 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  // Fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The client's own CPU seconds so far (this process, every thread).
double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void print_cpu(int pid, double cpu, double client_cpu, std::int64_t records) {
  if (pid == 0 || records == 0) return;
  std::printf("      server CPU %.2f s = %.1f us per record; client CPU %.1f us per record\n", cpu,
              cpu * 1e6 / static_cast<double>(records),
              client_cpu * 1e6 / static_cast<double>(records));
}

// Counts the items of a feed page and takes its next_cursor without building a tree.
class PageScan : public nlohmann::json_sax<json> {
 public:
  std::int64_t items = 0;
  std::string next_cursor;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& v) override {
    if (depth_ == 1 && key_ == "next_cursor") next_cursor = v;
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (depth_ == 2 && in_items_) ++items;
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1 && key_ == "items") in_items_ = true;
    ++depth_;
    return true;
  }
  bool end_array() override {
    if (--depth_ == 1) in_items_ = false;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw std::runtime_error(std::string("feed page: ") + e.what());
  }

 private:
  int depth_ = 0;
  bool in_items_ = false;
  std::string key_;
};

// A feed from `after` to the end with pages of `limit`, alternating between `c`
// and `other` when there is one; returns the item count.
std::int64_t pull_all(Client& c, Client* other, std::string after, int limit) {
  std::int64_t n = 0;
  for (int i = 0;; ++i) {
    Client& via = other != nullptr && i % 2 == 1 ? *other : c;
    PageScan page;
    json::sax_parse(
        via.call("GET", "/v1/feed?limit=" + std::to_string(limit) + "&after=" + after, ""), &page);
    if (page.items == 0) return n;
    if (page.next_cursor.empty()) throw std::runtime_error("feed page without next_cursor");
    n += page.items;
    after = page.next_cursor;
  }
}

// The cursor at the end of a feed as it is now: a phase then measures its own items only.
std::string feed_end(Client& c) {
  std::string after = "0";
  for (;;) {
    PageScan page;
    json::sax_parse(c.call("GET", "/v1/feed?limit=1000&after=" + after, ""), &page);
    if (page.items == 0) return after;
    after = page.next_cursor;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file;
  int participants = 10000, threads = 2, rate = 1000, seconds = 10, block = 0, port2 = 0,
      server_pid = 0, consented = 0, reread = 0, push_only = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--config") config_file = v;
    if (k == "--participants") participants = std::stoi(v);
    if (k == "--threads") threads = std::stoi(v);
    if (k == "--rate") rate = std::stoi(v);
    if (k == "--seconds") seconds = std::stoi(v);
    if (k == "--block") block = std::stoi(v);  // offset of the BSN range, for repeated runs
    if (k == "--port2") port2 = std::stoi(v);
    if (k == "--server-pid") server_pid = std::stoi(v);
    if (k == "--consented") consented = std::stoi(v);
    if (k == "--reread") reread = std::stoi(v);
    if (k == "--push-only") push_only = std::stoi(v);
  }
  auto config = brug::gateway::load_config(config_file);
  if (!config) {
    std::cerr << "load: " << config.message() << "\n";
    return 2;
  }
  Poco::Net::initializeSSL();
  const Target target{config->host, config->port,
                      std::filesystem::path(config->tls_ca_file).parent_path().string()};
  const Target second{target.host, static_cast<std::uint16_t>(port2), target.pki};
  auto target_of = [&](int t) -> const Target& {
    return port2 != 0 && t % 2 == 1 ? second : target;
  };
  try {
    if (reread != 0) {
      Client puller(target, "gemeente-oude-ijsselstreek");
      const double cpu0 = cpu_seconds(server_pid), own0 = own_cpu_seconds();
      const auto t0 = Clock::now();
      const std::int64_t n = pull_all(puller, nullptr, "0", 1000);
      const double s = seconds_since(t0);
      std::printf("feed again: %lld records in %.2f s = %.0f records/s (limit=1000)\n",
                  static_cast<long long>(n), s, static_cast<double>(n) / s);
      print_cpu(server_pid, cpu_seconds(server_pid) - cpu0, own_cpu_seconds() - own0, n);
      return n >= participants ? 0 : 1;
    }
    // The gemeente's cursor before this run, so the pull measures this run's items only.
    Client g(target, "gemeente-oude-ijsselstreek");
    const std::string start = push_only != 0 ? "0" : feed_end(g);

    // A fresh person per m: 1xxxxxxxk with the check digit k of the elfproef (when no k fits, m
    // shares a person with the demo range: harmless for a load run).
    auto bsn_of = [](int m) {
      std::string bsn = brug::gateway::synthetic_bsn(m % 1000);
      char buf[16];
      for (int k = 0; k < 10; ++k) {
        std::snprintf(buf, sizeof buf, "%08d%d", 10000000 + m, k);
        int sum = 0;
        for (int i = 0; i < 8; ++i) sum += (9 - i) * (buf[i] - '0');
        if ((sum - k) % 11 == 0) {
          bsn = buf;
          break;
        }
      }
      return bsn;
    };

    // 1. push: the bodies first, then the clock
    std::vector<std::string> bodies;
    for (int first = 0; first < participants; first += 1000) {
      json items = json::array();
      for (int n = first; n < std::min(first + 1000, participants); ++n) {
        const int m = block + n;
        const std::string bsn = bsn_of(m);
        json rec = brug::gateway::synthetic_referral(m);
        rec.erase("gezondheid");
        items.push_back({{"source_ref", "load-" + std::to_string(m)},
                         {"to", "gemeente-oude-ijsselstreek"},
                         {"purpose", "uitvoering-participatiewet"},
                         {"subject", {{"bsn", bsn}}},
                         {"record", rec}});
      }
      bodies.push_back(json{{"items", items}}.dump());
    }
    std::atomic<std::size_t> next{0};
    double cpu0 = cpu_seconds(server_pid), own0 = own_cpu_seconds();
    const auto push_start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Client p(target_of(t), "laborijn");
        for (std::size_t b = next++; b < bodies.size(); b = next++) {
          p.call("POST", "/v1/referrals", bodies[b]);
        }
      });
    }
    for (auto& w : workers) w.join();
    const double push_s = seconds_since(push_start);
    std::printf("push: %d referrals in %.2f s = %.0f records/s (%d threads, batches of 1000)\n",
                participants, push_s, participants / push_s, threads);
    print_cpu(server_pid, cpu_seconds(server_pid) - cpu0, own_cpu_seconds() - own0, participants);
    bodies.clear();
    if (push_only != 0) return 0;

    // 2. feed pulls, on new connections (a push longer than keep_alive_timeout_s closes g's)
    Client puller(target, "gemeente-oude-ijsselstreek");
    std::unique_ptr<Client> g2;
    if (port2 != 0) g2 = std::make_unique<Client>(second, "gemeente-oude-ijsselstreek");
    for (int limit : {100, 1000}) {
      cpu0 = cpu_seconds(server_pid);
      own0 = own_cpu_seconds();
      const auto t0 = Clock::now();
      const std::int64_t n = pull_all(puller, g2.get(), start, limit);
      const double s = seconds_since(t0);
      std::printf("feed: %lld records in %.2f s = %.0f records/s (limit=%d)\n",
                  static_cast<long long>(n), s, static_cast<double>(n) / s, limit);
      print_cpu(server_pid, cpu_seconds(server_pid) - cpu0, own_cpu_seconds() - own0, n);
      if (n != participants) {
        std::fprintf(stderr, "load: the feed delivered %lld of %d records\n",
                     static_cast<long long>(n), participants);
        return 1;
      }
    }

    // 2b. the flow a volunteer project sees (--consented K): the gemeente records K consents
    //     (one request each, from T threads), the participatiebedrijf refers the K people to the
    //     project, and the project pulls them with limit=1000: each item's consent is looked up.
    if (consented > 0) {
      const std::string project = "reconnact-leusden";
      Client pc(target, project);
      const std::string from = feed_end(pc);
      auto person = [&](int i) { return block + participants + i; };
      std::atomic<int> next_consent{0};
      const auto c0 = Clock::now();
      workers.clear();
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
          Client c(target, "gemeente-oude-ijsselstreek");
          for (int i = next_consent++; i < consented; i = next_consent++) {
            const json body = {{"subject", {{"bsn", bsn_of(person(i))}}},
                               {"grantee", project},
                               {"purpose", "begeleiding-naar-werk"},
                               {"categories", {"contact", "profiel", "segmentatie"}},
                               {"valid_from", "2026-01-01"},
                               {"valid_until", "2030-12-31"},
                               {"evidence", {{"method", "digitaal"}, {"reference", "load"}}}};
            c.call("POST", "/v1/consents", body.dump(), 201);
          }
        });
      }
      for (auto& w : workers) w.join();
      const double consent_s = seconds_since(c0);
      std::printf("consents: %d in %.2f s = %.0f/s (%d threads, one per request)\n", consented,
                  consent_s, consented / consent_s, threads);
      Client l(target, "laborijn");
      for (int first = 0; first < consented; first += 1000) {
        json items = json::array();
        for (int i = first; i < std::min(first + 1000, consented); ++i) {
          json rec = brug::gateway::synthetic_referral(person(i));
          rec.erase("gezondheid");
          items.push_back({{"source_ref", "load-c-" + std::to_string(person(i))},
                           {"to", project},
                           {"purpose", "begeleiding-naar-werk"},
                           {"subject", {{"bsn", bsn_of(person(i))}}},
                           {"record", rec}});
        }
        l.call("POST", "/v1/referrals", json{{"items", items}}.dump());
      }
      // The first pass also takes the referrals into the feed; the second reads what is there.
      for (int pass = 0; pass < 2; ++pass) {
        cpu0 = cpu_seconds(server_pid);
        own0 = own_cpu_seconds();
        const auto t0 = Clock::now();
        const std::int64_t n = pull_all(pc, nullptr, from, 1000);
        const double s = seconds_since(t0);
        std::printf("project feed: %lld records in %.2f s = %.0f records/s (limit=1000, %s)\n",
                    static_cast<long long>(n), s, static_cast<double>(n) / s,
                    pass == 0 ? "first pull" : "again");
        print_cpu(server_pid, cpu_seconds(server_pid) - cpu0, own_cpu_seconds() - own0, n);
        if (n != consented) {
          std::fprintf(stderr, "load: the project's feed delivered %lld of %d records\n",
                       static_cast<long long>(n), consented);
          return 1;
        }
      }
    }

    // 3. small authenticated requests at a fixed rate
    std::vector<double> latencies;
    std::mutex mu;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    const auto interval = std::chrono::duration<double>(static_cast<double>(threads) / rate);
    workers.clear();
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Client c(target_of(t), "reconnact-leusden");
        std::vector<double> mine;
        auto due = Clock::now();
        while (Clock::now() < deadline) {
          std::this_thread::sleep_until(due);
          const auto t0 = Clock::now();
          c.call("GET", "/healthz", "");
          mine.push_back(seconds_since(t0) * 1000.0);
          due += std::chrono::duration_cast<Clock::duration>(interval);
        }
        std::lock_guard lock(mu);
        latencies.insert(latencies.end(), mine.begin(), mine.end());
      });
    }
    for (auto& w : workers) w.join();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
      return latencies[std::min(
          latencies.size() - 1,
          static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
    };
    std::printf("healthz: %zu requests at %d/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                latencies.size(), rate, pct(0.50), pct(0.99), latencies.back());
  } catch (const std::exception& e) {
    std::cerr << "load: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
