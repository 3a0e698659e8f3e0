// Where consents are kept. The interface lives here; adapters/ implements it over Storage, so
// consent/ does not depend on the database. Consents are never updated: a withdrawal appends an
// event, in the same transaction that checks there is none yet.
#pragma once

#include <map>
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
  // The consents of each of `participants` for one (grantee, purpose), by participant; a
  // participant without any is absent. For a feed page, whose items each need their consent:
  // by default for_grant for each, a backend with round trips reads them all at once.
  virtual Result<std::map<std::string, std::vector<Consent>>> for_grants(
      const std::vector<std::string>& participants, const std::string& grantee, Purpose purpose) {
    std::map<std::string, std::vector<Consent>> out;
    for (const std::string& p : participants) {
      auto found = for_grant(p, grantee, purpose);
      if (!found) return found.status();
      if (!found->empty()) out[p] = std::move(found).value();
    }
    return out;
  }
};

}  // namespace brug::consent
