// A Database that fails on purpose, wrapped around a real one (LevelDB's
// FaultInjectionTestEnv is the model): the tests cause the faults a disk, a crash or a broken
// audit store would, without triggers written into the database. Test-only; the gateway takes
// it through app::Seams::wrap_database.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "adapters/stores.h"

namespace brug::adapters::testing {

enum class Fault {
  kNone,
  kCommitFails,  // the write transaction runs, then its commit fails (nothing stays)
  kDiskFull,     // the write fails with "disk full" before anything is stored
  kAuditFails,   // appending audit leaves fails (the rest of the transaction ran)
  kStall,        // the write waits `stall` before it runs, then succeeds
  kRetried,      // the write runs, is rolled back as a conflict would be, and runs again
  kSlowReturn,   // the write commits, then waits `stall` before it returns (lock already free)
};

class FaultyDatabase final : public Database {
 public:
  explicit FaultyDatabase(std::unique_ptr<Database> inner) : inner_(std::move(inner)) {}

  // Makes the `nth` write from now on (1 = the next one) fail with `fault`; every other write
  // goes through. A fault fires once.
  void arm(Fault fault, int nth = 1, std::chrono::milliseconds stall = {});
  void disarm();
  // Writes that failed because of an armed fault.
  int faults_fired() const { return fired_.load(); }
  // Writes run twice by an armed kRetried.
  int writes_retried() const { return retried_.load(); }
  // While on, every read runs its callback to the end, discards that run as a backend does after
  // a dropped connection, and runs it again in a new snapshot (the Database retry rule).
  void retry_reads(bool on) { retry_reads_ = on; }
  int reads_retried() const { return reads_retried_.load(); }
  // While above zero, every read waits this long after its callback ran, before it returns (a
  // slow snapshot: what the callback handed over is out, the read is not over).
  void stall_reads(std::chrono::milliseconds stall) { read_stall_ms_ = stall.count(); }

  Status write(const std::function<Status(Stores&)>& fn) override;
  Status read(const std::function<Status(Stores&)>& fn) override;
  int schema_version() override { return inner_->schema_version(); }
  std::string_view backend() const override { return inner_->backend(); }
  Status scrub() override { return inner_->scrub(); }

 private:
  std::unique_ptr<Database> inner_;
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> countdown_{0};
  std::atomic<int> fired_{0};
  std::atomic<int> retried_{0};
  std::atomic<bool> retry_reads_{false};
  std::atomic<int> reads_retried_{0};
  std::atomic<std::int64_t> read_stall_ms_{0};
  std::chrono::milliseconds stall_{0};
};

}  // namespace brug::adapters::testing
