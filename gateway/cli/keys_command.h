// `brug keys rotate`: a new key-encryption key (KEK) version, every wrapped data key re-wrapped
// under it in bounded batches (records are never touched), and only then the old kek.<N> files
// removed, once the database says no wrapped key names them (docs/CRYPTO.md, "Rotation").
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "adapters/stores.h"
#include "crypto/result.h"

namespace brug::gateway {

extern const char* const kKeysUsage;

struct RotationReport {
  std::uint32_t version = 0;  // the KEK version every data key is now wrapped under
  bool resumed = false;       // finished an interrupted rotation instead of starting one
  std::int64_t rewrapped = 0;
  std::int64_t batches = 0;
  std::vector<std::uint32_t> removed;  // the old versions whose files were deleted
};

// Rotates the KEK of `key_dir` over `db`, committing every `batch` re-wrapped keys. Takes the
// key directory's lock exclusively, so it refuses while a gateway on this host serves from it.
// Resumable: after an interruption (crash, failed commit) the key dir holds the old and the new
// version, every record opens with it, and running it again finishes the rotation.
Result<RotationReport> rotate_keks(adapters::Database& db, const std::string& key_dir,
                                   std::int64_t batch);

int run_keys(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace brug::gateway
