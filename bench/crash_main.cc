// The crash test as a long run: N rounds (default 20) of a real `brug serve` killed with SIGKILL
// under concurrent pushes, consents, outcomes and withdrawals over mutual TLS, restarted and
// checked (tests/support/crash_workload.h lists the checks).
//   brug_crash [--rounds N] [--keep DIR] [--brug PATH] [--seed S]
// --keep DIR: work in DIR (must not exist) and keep it; otherwise a temporary directory that is
// removed after a passing run and kept after a failing one. --brug: the `brug` binary (default:
// gateway/brug of the same build tree). Prints counts per round, never a BSN; exits 1 on the
// first violated check, naming it, 2 on wrong usage.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "tests/support/crash_workload.h"

namespace {

std::filesystem::path self_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

int usage(const std::string& why) {
  std::cerr << "brug_crash: " << why
            << "\nusage: brug_crash [--rounds N] [--keep DIR] [--brug PATH] [--seed S]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace crash = brug::testing::crash;
  int rounds = 20;
  std::string keep, brug = (self_dir() / "../gateway/brug").lexically_normal().string();
  unsigned seed =
      static_cast<unsigned>(std::chrono::system_clock::now().time_since_epoch().count());
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) return usage(k + " needs a value");
    const std::string v = argv[i + 1];
    try {
      if (k == "--rounds") {
        rounds = std::stoi(v);
      } else if (k == "--keep") {
        keep = v;
      } else if (k == "--brug") {
        brug = v;
      } else if (k == "--seed") {
        seed = static_cast<unsigned>(std::stoul(v));
      } else {
        return usage("unknown option " + k);
      }
    } catch (const std::exception&) {
      return usage(k + ": not a number");
    }
  }
  if (rounds < 1) return usage("--rounds must be at least 1");
  if (!std::filesystem::exists(brug)) return usage(brug + ": no brug binary (use --brug PATH)");
  std::string dir = keep;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "brug-crash-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return usage("mkdtemp failed");
    dir = tmpl + "/dev";
  } else if (std::filesystem::exists(dir)) {
    return usage(dir + " exists; --keep needs a new directory");
  }

  crash::CrashRun run({.brug_binary = brug, .dir = dir, .seed = seed});
  std::printf("brug_crash: %d rounds in %s (seed %u)\n", rounds, dir.c_str(), seed);
  if (auto e = run.init(); !e.empty()) {
    std::fprintf(stderr, "brug_crash: %s\n", e.c_str());
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    crash::RoundCounts c;
    crash::CheckReport rep;
    const std::string violation = run.round(r, c, rep);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "round %2d: kill after %3d ms | acknowledged: %d/%d batches (%d referrals), %d consents, "
        "%d outcomes, %d withdrawals | retried %d unacknowledged batches (%d found stored) | "
        "errors before kill %d | stored: %zu referrals, %zu consents (%zu withdrawn, %zu "
        "notices checked, %zu not newest), %zu outcomes, %zu audit events | %.2f s\n",
        r, c.kill_after_ms, c.batches_acked, c.batches_sent, c.referrals_acked, c.consents_acked,
        c.outcomes_acked, c.withdrawals_acked, c.retried_batches, c.retried_stored,
        c.errors_before_kill, rep.counts.referrals, rep.counts.consents, rep.counts.withdrawn,
        rep.counts.notices, rep.counts.notices_not_newest, rep.counts.outcomes,
        rep.counts.audit_events, s);
    std::fflush(stdout);
    if (!violation.empty()) {
      std::fprintf(stderr, "brug_crash: round %d: VIOLATION %s\n(directory kept: %s)\n", r,
                   violation.c_str(), dir.c_str());
      return 1;
    }
  }
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("brug_crash: %d rounds passed every check in %.1f s\n", rounds, total);
  if (keep.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir).parent_path(), ec);
  }
  return 0;
}
