#include "adapters/testing/faulty_database.h"

#include <thread>

namespace brug::adapters::testing {
namespace {

Status disk_full() { return Status::error(Code::kUnavailable, "injected: disk full"); }

// The stores of a transaction with the audit store's appends failing.
class FailingAuditStore final : public AuditStore {
 public:
  explicit FailingAuditStore(AuditStore& inner) : inner_(inner) {}
  Result<std::uint64_t> size() override { return inner_.size(); }
  Status add_leaves(std::vector<AuditLeafRow>) override {
    return Status::error(Code::kIo, "injected: the audit store refuses the append");
  }
  Status add_nodes(const std::vector<AuditNodeRow>& n) override { return inner_.add_nodes(n); }
  Result<std::array<std::uint8_t, 32>> node(unsigned level, std::uint64_t index) override {
    return inner_.node(level, index);
  }
  Result<std::vector<std::array<std::uint8_t, 32>>> nodes(const std::vector<NodeAt>& at) override {
    return inner_.nodes(at);
  }
  Result<std::vector<std::string>> leaves(std::uint64_t start, std::uint64_t end) override {
    return inner_.leaves(start, end);
  }
  Status add_checkpoint(const CheckpointRow& c) override { return inner_.add_checkpoint(c); }
  Result<std::optional<CheckpointRow>> latest_checkpoint() override {
    return inner_.latest_checkpoint();
  }
  Result<std::vector<CheckpointRow>> checkpoints() override { return inner_.checkpoints(); }
  Status add_cosignature(std::uint64_t size, const std::string& witness,
                         const std::string& line) override {
    return inner_.add_cosignature(size, witness, line);
  }
  Result<std::vector<std::string>> cosignatures(std::uint64_t size) override {
    return inner_.cosignatures(size);
  }
  Result<std::vector<std::pair<std::uint64_t, std::string>>> search(const AuditQuery& q) override {
    return inner_.search(q);
  }

 private:
  AuditStore& inner_;
};

}  // namespace

void FaultyDatabase::arm(Fault fault, int nth, std::chrono::milliseconds stall) {
  stall_ = stall;
  countdown_ = nth;
  fault_ = fault;
}

void FaultyDatabase::disarm() { fault_ = Fault::kNone; }

Status FaultyDatabase::write(const std::function<Status(Stores&)>& fn) {
  Fault fault = fault_.load();
  if (fault != Fault::kNone && countdown_.fetch_sub(1) == 1) {
    fault_ = Fault::kNone;
    ++fired_;
  } else {
    fault = Fault::kNone;
  }
  switch (fault) {
    case Fault::kNone:
      return inner_->write(fn);
    case Fault::kStall:
      std::this_thread::sleep_for(stall_);
      --fired_;  // a stall is not a failure
      return inner_->write(fn);
    case Fault::kRetried: {
      // What the backends do on a serialization failure or a lost connection: the callback's
      // first run is rolled back and the callback runs again (the Database retry rule).
      const Status first = inner_->write([&](Stores& s) {
        BRUG_RETURN_IF_ERROR(fn(s));
        return Status::error(Code::kUnavailable, "injected: conflict, retried");
      });
      if (first.code() != Code::kUnavailable) return first;
      --fired_;  // a retry is not a failure
      ++retried_;
      return inner_->write(fn);
    }
    case Fault::kSlowReturn: {
      const Status s = inner_->write(fn);
      std::this_thread::sleep_for(stall_);
      --fired_;  // not a failure either
      return s;
    }
    case Fault::kDiskFull:
      return inner_->write([&](Stores&) { return disk_full(); });
    case Fault::kCommitFails:
      return inner_->write([&](Stores& s) {
        BRUG_RETURN_IF_ERROR(fn(s));
        // Everything ran; the commit is what fails, so the backend rolls all of it back.
        return Status::error(Code::kIo, "injected: commit failed");
      });
    case Fault::kAuditFails:
      return inner_->write([&](Stores& s) {
        FailingAuditStore audit(s.audit);
        Stores with_failing_audit{s.orgs, s.exchange, s.consents, audit};
        return fn(with_failing_audit);
      });
  }
  return inner_->write(fn);
}

Status FaultyDatabase::read(const std::function<Status(Stores&)>& fn) {
  if (const std::int64_t ms = read_stall_ms_.load(); ms > 0) {
    const Status s = inner_->read(fn);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return s;
  }
  if (!retry_reads_) return inner_->read(fn);
  const Status first = inner_->read(fn);
  if (!first.is_ok()) return first;
  ++reads_retried_;
  return inner_->read(fn);
}

}  // namespace brug::adapters::testing
