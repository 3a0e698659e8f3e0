// One exchange policy: which fields of which record may flow from whom to whom for which
// purpose, transformed how. Parsed from one file of a policy directory (see docs/POLICIES.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/catalogue.h"
#include "policies/diagnostic.h"
#include "policies/transform.h"
#include "policies/vocabulary.h"

namespace brug {

// The legal basis (grondslag) of a permitted flow.
enum class Basis { kConsent, kPublicTask };
// Cedar-style: a matching deny always beats a matching permit.
enum class Effect { kPermit, kDeny };

std::string_view to_string(Basis basis);
std::string_view to_string(Effect effect);

// A concrete party of an exchange: its role and, when known, its organisation id.
struct Party {
  Role role = Role::kGemeente;
  std::string org;
};

// The side of a flow a policy names: any party ("*"), every party of a role ("project"), or
// one organisation of a role ({"role": "project", "org": "jhm-soest"}).
struct PartyPattern {
  std::optional<Role> role;  // nullopt: any party
  std::string org;           // empty: any organisation of the role

  bool matches(const Party& party) const {
    return (!role || *role == party.role) && (org.empty() || org == party.org);
  }
  bool may_be(Role r) const { return !role || *role == r; }
  std::string to_string() const;  // "*", "project", "project:jhm-soest"
};

// One field a policy lists.
struct FieldRule {
  std::string field;   // the catalogue name
  std::string output;  // the name in the view, e.g. "leeftijdsgroep" for geboortedatum
  Transform transform = Transform::kNone;
  Category category = Category::kProfiel;  // from the catalogue, never from the policy
  int line = 0;                            // where the policy file lists it
};

struct Policy {
  std::string id;
  int version = 0;
  std::string description;
  PartyPattern from;
  PartyPattern to;
  RecordType record = RecordType::kReferral;
  Purpose purpose = Purpose::kBegeleidingNaarWerk;
  Basis basis = Basis::kConsent;
  Effect effect = Effect::kPermit;
  bool special_category = false;
  std::string legal_basis_note;
  // Permit: the fields it discloses. Deny: the fields it withholds, or none to refuse the flow.
  std::vector<FieldRule> fields;

  std::string file;
  int line = 1;           // of the policy's "id"
  std::string canonical;  // compact JSON with sorted keys, for the set's content hash

  std::string ref() const { return id + "@" + std::to_string(version); }  // "referral@2"
};

// Parses and checks one policy file's text against the catalogue. Problems become
// `file:line` diagnostics and the result is nullopt.
std::optional<Policy> parse_policy(std::string_view text, std::string file,
                                   const Catalogue& catalogue,
                                   std::vector<Diagnostic>& diagnostics);

}  // namespace brug
