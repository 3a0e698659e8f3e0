// Per-organisation pseudonyms and audit pseudonyms (docs/CRYPTO.md explains the scheme).
//
// pseudonym(org, participant) is a deterministic authenticated encryption (AES-256-SIV,
// RFC 5297) of the participant index under a key derived for that organisation, with the
// organisation id as associated data. So it is stable per organisation, unlinkable between
// organisations, opaque outside the gateway, and resolve() turns it back into the index inside
// the gateway. A pseudonym presented by any organisation other than the one it was issued to
// fails to authenticate and is refused.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/bsn.h"
#include "crypto/keys.h"
#include "crypto/result.h"

namespace brug::crypto {

class Pseudonym {
 public:
  static constexpr std::size_t kBytes = 16 + ParticipantIndex::kSize;  // SIV tag + ciphertext
  static constexpr std::size_t kTextSize = 64;                         // base64url, no padding
  // Checks the shape only; resolve() says whether it belongs to an organisation.
  static Result<Pseudonym> parse(std::string_view text);
  // URL-safe, fixed length (kTextSize characters of [A-Za-z0-9_-]).
  const std::string& text() const { return text_; }
  friend bool operator==(const Pseudonym&, const Pseudonym&) = default;

 private:
  explicit Pseudonym(std::string text) : text_(std::move(text)) {}
  friend Result<Pseudonym> pseudonym(const PseudonymKey&, std::string_view,
                                     const ParticipantIndex&);
  std::string text_;
};

// The organisation id must be non-empty (at most 255 bytes).
Result<Pseudonym> pseudonym(const PseudonymKey& key, std::string_view org,
                            const ParticipantIndex& participant);
// The participant behind `p`, if `p` was issued to `org`; kPermissionDenied otherwise.
Result<ParticipantIndex> resolve(const PseudonymKey& key, std::string_view org, const Pseudonym& p);

// A one-way keyed hash of the participant index for the audit log: lets an auditor follow one
// participant's events without learning who it is or their pseudonym at any organisation.
class AuditPseudonym {
 public:
  static constexpr std::size_t kTextSize = 43;  // 32 bytes base64url, no padding
  static Result<AuditPseudonym> parse(std::string_view text);
  const std::string& text() const { return text_; }
  friend bool operator==(const AuditPseudonym&, const AuditPseudonym&) = default;

 private:
  explicit AuditPseudonym(std::string text) : text_(std::move(text)) {}
  friend AuditPseudonym audit_pseudonym(const AuditPseudonymKey&, const ParticipantIndex&);
  std::string text_;
};

AuditPseudonym audit_pseudonym(const AuditPseudonymKey& key, const ParticipantIndex& participant);

}  // namespace brug::crypto
