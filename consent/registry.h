// The consent registry: records, withdraws and evaluates consents over a ConsentStore.
// Evaluation reads the store every time (no cache), so a withdrawal that has committed is in
// force for every disclosure that starts after it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "consent/consent.h"
#include "consent/store.h"
#include "crypto/result.h"

namespace brug::consent {

// A refusal of a new consent, naming the offending field ("categories", "valid_until", ...).
struct FieldProblem {
  std::string field;
  std::string problem;
};

class ConsentRegistry {
 public:
  // `now` returns RFC 3339 UTC timestamps ("2026-11-22T20:53:02.715Z").
  ConsentRegistry(ConsentStore& store, std::function<std::string()> now);

  // Checks a new consent: known categories (not identificatie), a purpose that rests on
  // consent, a period that ends on or after it starts. nullopt when it is acceptable.
  static std::optional<FieldProblem> check(const NewConsent& consent);

  // Validates (kInvalidArgument "field: problem") and stores; returns the stored consent.
  Result<Consent> record(const NewConsent& consent, const std::string& recorded_by);
  // Withdraws now; withdrawing again changes nothing and returns the same consent.
  Result<Consent> withdraw(const std::string& id, const std::string& actor);
  Result<std::optional<Consent>> find(const std::string& id);
  Result<std::vector<Consent>> of_participant(const std::string& participant);

  // May `grantee` receive `category` (or, when none is given, anything) of `participant` for
  // `purpose` now? A consent of the grant that does not read back denies (kUnreadable); any
  // other storage failure is returned as an error.
  Result<Decision> permits(const std::string& participant, const std::string& grantee,
                           Purpose purpose,
                           std::optional<std::string_view> category = std::nullopt);

  // permits() without a category for each of `participants` (one look-up for all, where the
  // store can), by participant. An unreadable consent denies its own participant only.
  Result<std::map<std::string, Decision>> permits_each(const std::vector<std::string>& participants,
                                                       const std::string& grantee, Purpose purpose);

  std::string now() const { return now_(); }

 private:
  Status decide_each(std::span<const std::string> participants, const std::string& grantee,
                     Purpose purpose, std::map<std::string, Decision>& out);

  ConsentStore& store_;
  std::function<std::string()> now_;
};

}  // namespace brug::consent
