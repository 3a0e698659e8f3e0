// Per-organisation pseudonyms and audit pseudonyms (docs/CRYPTO.md explains the scheme).
//
// pseudonym(org, participant) is a deterministic authenticated encryption of the participant
// index under keys derived for that organisation: XChaCha20-Poly1305 with a synthetic nonce
// (a keyed hash of the index) and the organisation id as associated data. So it is stable per
// organisation, unlinkable between organisations, opaque outside the gateway, and resolve()
// turns it back into the index inside the gateway. A pseudonym presented by any organisation
// other than the one it was issued to fails to authenticate and is refused.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "crypto/bsn.h"
#include "crypto/keys.h"
#include "crypto/result.h"

namespace brug::crypto {

class Pseudonym {
 public:
  // nonce || ciphertext || tag
  static constexpr std::size_t kBytes = 24 + ParticipantIndex::kSize + 16;
  static constexpr std::size_t kTextSize = 96;  // base64url, no padding
  // Checks the shape only; resolve() says whether it belongs to an organisation.
  static Result<Pseudonym> parse(std::string_view text);
  // URL-safe, fixed length (kTextSize characters of [A-Za-z0-9_-]).
  const std::string& text() const { return text_; }
  friend bool operator==(const Pseudonym&, const Pseudonym&) = default;

 private:
  explicit Pseudonym(std::string text) : text_(std::move(text)) {}
  friend class PseudonymDomain;
  std::string text_;
};

// One organisation's pseudonym keys, derived once: for converting many participants.
class PseudonymDomain {
 public:
  // The organisation id must be 1 to 255 bytes.
  static Result<PseudonymDomain> open(const PseudonymKey& key, std::string_view org);
  const std::string& org() const { return org_; }
  Result<Pseudonym> pseudonym(const ParticipantIndex& participant) const;
  // The participant behind `p`, if `p` was issued to this organisation; kPermissionDenied if
  // not (issued to another organisation, by another gateway, or altered).
  Result<ParticipantIndex> resolve(const Pseudonym& p) const;

 private:
  using Keys = SecretKey<64, "organisation pseudonym keys">;
  PseudonymDomain(Keys keys, std::string org) : keys_(std::move(keys)), org_(std::move(org)) {}
  // The work of pseudonym()/resolve() given the derived keys, shared with the one-off forms.
  static Pseudonym encrypt(std::span<const std::uint8_t, 64> keys, std::string_view org,
                           const ParticipantIndex& participant);
  static Result<ParticipantIndex> decrypt(std::span<const std::uint8_t, 64> keys,
                                          std::string_view org, const Pseudonym& p);
  friend Result<Pseudonym> pseudonym(const PseudonymKey&, std::string_view,
                                     const ParticipantIndex&);
  friend Result<ParticipantIndex> resolve(const PseudonymKey&, std::string_view, const Pseudonym&);
  Keys keys_;
  std::string org_;
};

// One-off forms of PseudonymDomain::pseudonym / resolve.
Result<Pseudonym> pseudonym(const PseudonymKey& key, std::string_view org,
                            const ParticipantIndex& participant);
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

// The fixed random record key of one participant's contribution to a project's reports, for the
// cell-key perturbation (docs/REPORTS.md): a keyed hash of the index and the project, so it is
// the same every time it is computed and nobody without the gateway's keys can compute it.
std::uint64_t report_record_key(const ReportNoiseKey& key, const ParticipantIndex& participant,
                                std::string_view project);

}  // namespace brug::crypto
