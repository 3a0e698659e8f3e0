// Where consents are kept. The interface lives here; adapters/ implements it over Storage, so
// consent/ does not depend on the database. Consents are never updated: a withdrawal appends an
// event, in the same transaction that checks there is none yet.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "consent/consent.h"
#include "crypto/result.h"

namespace brug::consent {

class ConsentStore {
 public:
  virtual ~ConsentStore() = default;
  // Stores a new consent with its kGiven event.
  virtual Status insert(const Consent& consent) = 0;
  virtual Result<std::optional<Consent>> find(const std::string& id) = 0;
  // Appends a kWithdrawn event unless the consent has one; returns the consent afterwards.
  // kNotFound for an unknown id.
  virtual Result<Consent> withdraw(const std::string& id, const std::string& actor,
                                   const std::string& at) = 0;
  // Every consent of a participant, oldest first.
  virtual Result<std::vector<Consent>> for_participant(const std::string& participant) = 0;
  // The consents of one (participant, grantee, purpose): one indexed look-up.
  virtual Result<std::vector<Consent>> for_grant(const std::string& participant,
                                                 const std::string& grantee, Purpose purpose) = 0;
};

}  // namespace brug::consent
