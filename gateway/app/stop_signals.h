// How a long-running command (`brug serve`, `brug portal`) stops: SIGINT and SIGTERM are blocked
// in every thread started afterwards, and the main thread waits for one of them. SIGPIPE is
// ignored (a client that hangs up is a failed write, not a dead process).
#pragma once

#include <signal.h>

namespace brug::gateway {

class StopSignals {
 public:
  // Call before starting any thread.
  StopSignals();
  // Blocks until SIGINT or SIGTERM arrives; returns the signal.
  int wait();

 private:
  sigset_t set_;
};

}  // namespace brug::gateway
