// The gateway's key types. Each purpose has its own type, so a pseudonym key cannot be passed
// where a KEK is expected. All are 32-byte secrets (libsodium's KDF, generichash and AEAD
// key size); the .cc files check these sizes against libsodium's constants.
#pragma once

#include "crypto/secret.h"

namespace brug::crypto {

inline constexpr std::size_t kKeyBytes = 32;

// The key-dir secret from which the purpose keys below are derived (crypto_kdf).
using RootKey = SecretKey<kKeyBytes, "root key">;
// Wraps participants' data keys; versioned in a KekRing.
using Kek = SecretKey<kKeyBytes, "key-encryption key">;
// Keys the hash of a BSN into a ParticipantIndex.
using ParticipantIndexKey = SecretKey<kKeyBytes, "participant index key">;
// Root of the per-organisation pseudonym keys.
using PseudonymKey = SecretKey<kKeyBytes, "pseudonym key">;
// Keys the one-way pseudonyms written to the audit log.
using AuditPseudonymKey = SecretKey<kKeyBytes, "audit pseudonym key">;
// Keys the record keys of the cell-key perturbation of reports (docs/REPORTS.md).
using ReportNoiseKey = SecretKey<kKeyBytes, "report noise key">;
// One participant's record key; destroying it shreds their records.
using DataKey = SecretKey<kKeyBytes, "data key">;
// The 32-byte seed of an Ed25519 signing key (what the key dir stores).
using SigningSeed = SecretKey<kKeyBytes, "signing key seed">;

}  // namespace brug::crypto
