// The organisation registry: who may connect, in which role, identified by which certificate.
//
// Loaded from the registry file at start and mirrored into storage (organisations table) so that
// later records can refer to organisations by id. A client certificate maps to an organisation
// by its subject serialNumber (the 20-digit OIN on PKIoverheid certificates) or, for the
// development PKI of `brug init`, by its subject CN.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"
#include "policies/vocabulary.h"

namespace brug::adapters {
class Database;
}

namespace brug::gateway {

struct Organisation {
  std::string id;    // stable identifier, [a-z0-9-], used in URLs, policies and consents
  std::string name;  // display name
  Role role;
  std::string oin;      // 20 digits, or empty
  std::string cert_cn;  // development certificate CN, or empty
};

// How client certificates map to organisations.
enum class CertificateMapping {
  kOinOnly,          // the subject serialNumber (OIN) only
  kOinOrCommonName,  // the OIN when there is one, else the CN (development PKI)
};
std::string_view to_string(CertificateMapping mapping);

class OrgRegistry {
 public:
  // Parses and validates the registry file: unique ids, OINs and CNs, known roles.
  static Result<OrgRegistry> load(const std::string& path);
  static Result<OrgRegistry> from_list(std::vector<Organisation> orgs);

  // The organisation a client certificate belongs to: by its OIN when it has a serialNumber
  // (an unknown OIN maps to nobody, whatever the CN says), else by CN if the mapping allows it.
  const Organisation* find_by_certificate(const std::string& subject_serial_number,
                                          const std::string& subject_cn) const;
  void set_mapping(CertificateMapping mapping) { mapping_ = mapping; }
  CertificateMapping mapping() const { return mapping_; }
  const Organisation* find(const std::string& id) const;
  const std::vector<Organisation>& all() const { return orgs_; }

  // Mirrors the registry into the organisations table: inserts and updates, and marks
  // organisations that left the file inactive (rows are kept: old records refer to them).
  Status sync_to(adapters::Database& db, const std::string& now) const;

 private:
  std::vector<Organisation> orgs_;
  CertificateMapping mapping_ = CertificateMapping::kOinOnly;
  std::map<std::string, std::size_t> by_id_, by_oin_, by_cn_;
};

// True for an identifier brug accepts as an organisation id.
bool is_valid_org_id(const std::string& id);

}  // namespace brug::gateway
