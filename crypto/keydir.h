// The gateway's key directory (made by `brug init`): the long-term secrets, checked at load.
//
// Layout (every file 0600, the directory 0700, raw bytes, exact sizes):
//   root.key     32 bytes  root secret; purpose keys are derived from it with crypto_kdf
//   signing.key  32 bytes  Ed25519 seed of the checkpoint signing key
//   kek.<N>      32 bytes  key-encryption key version N (1, 2, ...); the highest is current
// A file that is group/world accessible, missing, a symlink or of the wrong size stops the load
// with an error naming the file, never its content.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/result.h"
#include "crypto/sign.h"

namespace brug::crypto {

// The KEK versions the gateway knows. Wrapping uses the current (highest) version; unwrapping
// uses the version the wrapped key names, so old versions stay readable after rotation.
class KekRing {
 public:
  // Adds a version (>= 1, not already present).
  Status add(std::uint32_t version, Kek kek);
  bool empty() const { return keks_.empty(); }
  // 0 when empty.
  std::uint32_t current_version() const { return empty() ? 0 : keks_.rbegin()->first; }
  // nullptr when the version is unknown.
  const Kek* find(std::uint32_t version) const;
  std::vector<std::uint32_t> versions() const;

 private:
  std::map<std::uint32_t, Kek> keks_;
};

class KeyDir {
 public:
  static constexpr const char* kRootFile = "root.key";
  static constexpr const char* kSigningFile = "signing.key";
  static constexpr const char* kKekPrefix = "kek.";

  // Creates `dir` (0700; its parent must exist) with fresh key material. Refuses a directory
  // that exists and is not empty (kAlreadyExists): keys are never overwritten.
  static Status create(const std::string& dir);
  // Loads and checks a key directory.
  static Result<KeyDir> load(const std::string& dir);
  // Adds KEK version current+1 to `dir` and returns its number. Old versions stay. The file
  // appears whole or not at all (written aside, synced, renamed): a crash leaves no kek.<N>
  // that fails the load.
  static Result<std::uint32_t> add_kek_version(const std::string& dir);
  // Deletes kek.<version> from `dir` (and syncs the directory). Refuses the current (highest)
  // version and a version that is not there. The caller checks first that no wrapped data key
  // names the version (brug keys rotate asks the database).
  static Status remove_kek_version(const std::string& dir, std::uint32_t version);
  // Fresh key material held only in memory (tests, tools). One KEK version.
  static Result<KeyDir> ephemeral();

  const ParticipantIndexKey& participant_index_key() const { return participant_index_key_; }
  const PseudonymKey& pseudonym_key() const { return pseudonym_key_; }
  const AuditPseudonymKey& audit_pseudonym_key() const { return audit_pseudonym_key_; }
  const ReportNoiseKey& report_noise_key() const { return report_noise_key_; }
  const KekRing& keks() const { return keks_; }
  const SigningKey& signing_key() const { return signing_key_; }

 private:
  KeyDir(ParticipantIndexKey pidx, PseudonymKey pseudonym, AuditPseudonymKey audit,
         ReportNoiseKey noise, KekRing keks, SigningKey signing)
      : participant_index_key_(std::move(pidx)),
        pseudonym_key_(std::move(pseudonym)),
        audit_pseudonym_key_(std::move(audit)),
        report_noise_key_(std::move(noise)),
        keks_(std::move(keks)),
        signing_key_(std::move(signing)) {}
  static Result<KeyDir> from_material(const RootKey& root, KekRing keks, SigningKey signing);

  ParticipantIndexKey participant_index_key_;
  PseudonymKey pseudonym_key_;
  AuditPseudonymKey audit_pseudonym_key_;
  ReportNoiseKey report_noise_key_;
  KekRing keks_;
  SigningKey signing_key_;
};

// An advisory lock (flock) on the key directory: a serving gateway holds it shared for its
// whole life, `brug keys rotate` exclusive, so the two never run at once on one host (a serving
// gateway keeps the KEK versions it loaded at start and could not open a key re-wrapped under a
// newer one). Released when the object is destroyed (or the process ends, even by a crash).
class KeyDirLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Never waits: kFailedPrecondition, naming the directory, when the other mode holds it.
  static Result<KeyDirLock> acquire(const std::string& dir, Mode mode);
  KeyDirLock(KeyDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  KeyDirLock& operator=(KeyDirLock&& other) noexcept;
  KeyDirLock(const KeyDirLock&) = delete;
  KeyDirLock& operator=(const KeyDirLock&) = delete;
  ~KeyDirLock();

 private:
  explicit KeyDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace brug::crypto
