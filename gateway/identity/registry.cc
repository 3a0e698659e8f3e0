#include "gateway/identity/registry.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/stores.h"
#include "gateway/identity/json_text.h"

namespace brug::gateway {
namespace {

bool all_digits(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

Status invalid(const std::string& where, const std::string& what) {
  return Status::error(Code::kInvalidArgument, where + ": " + what);
}

}  // namespace

std::string_view to_string(CertificateMapping mapping) {
  return mapping == CertificateMapping::kOinOnly ? "oin-only" : "oin-or-cn";
}

bool is_valid_org_id(const std::string& id) {
  if (id.size() < 2 || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<OrgRegistry> OrgRegistry::from_list(std::vector<Organisation> orgs) {
  OrgRegistry r;
  for (std::size_t i = 0; i < orgs.size(); ++i) {
    const Organisation& o = orgs[i];
    const std::string at = "organisation '" + o.id + "'";
    if (!is_valid_org_id(o.id)) {
      return invalid("organisations[" + std::to_string(i) + "].id",
                     "must be 2 to 64 characters of a-z, 0-9 and '-'");
    }
    if (!r.by_id_.emplace(o.id, i).second) return invalid(at, "id appears twice");
    if (o.oin.empty() && o.cert_cn.empty()) return invalid(at, "needs an oin or a cert_cn");
    if (!o.oin.empty()) {
      if (o.oin.size() != 20 || !all_digits(o.oin)) return invalid(at, "oin must be 20 digits");
      if (!r.by_oin_.emplace(o.oin, i).second) return invalid(at, "oin is used twice");
    }
    if (!o.cert_cn.empty() && !r.by_cn_.emplace(o.cert_cn, i).second) {
      return invalid(at, "cert_cn is used twice");
    }
  }
  r.orgs_ = std::move(orgs);
  return r;
}

Result<OrgRegistry> OrgRegistry::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(Code::kNotFound, path + ": cannot read the registry file");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  auto parsed = parse_json_text(path, text);
  if (!parsed) return parsed.status();
  const nlohmann::json& doc = *parsed;
  auto fail = [&](const std::vector<std::string>& key_path, const std::string& what) {
    std::string key;
    for (const auto& k : key_path) key += (key.empty() ? "" : ".") + k;
    return Status::error(
        Code::kInvalidArgument,
        path + ":" + std::to_string(line_of_key(text, key_path)) + ": " + key + ": " + what);
  };
  if (!doc.is_object() || !doc.contains("organisations") || !doc["organisations"].is_array()) {
    return fail({"organisations"}, "the file must hold {\"organisations\": [...]}");
  }
  for (const auto& [k, v] : doc.items()) {
    if (k != "organisations") return fail({k}, "unknown key");
  }
  std::vector<Organisation> orgs;
  const auto& list = doc["organisations"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    const std::string idx = std::to_string(i);
    if (!e.is_object()) return fail({"organisations", idx}, "must be an object");
    Organisation o;
    for (const auto& [k, v] : e.items()) {
      if (k != "id" && k != "name" && k != "role" && k != "oin" && k != "cert_cn") {
        return fail({"organisations", idx, k}, "unknown key");
      }
      if (!v.is_string()) return fail({"organisations", idx, k}, "must be a string");
    }
    o.id = e.value("id", "");
    o.name = e.value("name", "");
    o.oin = e.value("oin", "");
    o.cert_cn = e.value("cert_cn", "");
    if (o.name.empty()) return fail({"organisations", idx, "name"}, "is required");
    const auto role = parse_role(e.value("role", ""));
    if (!role) {
      return fail({"organisations", idx, "role"},
                  "must be gemeente, participatiebedrijf, project or auditor");
    }
    o.role = *role;
    orgs.push_back(std::move(o));
  }
  auto reg = from_list(std::move(orgs));
  if (!reg) return Status::error(Code::kInvalidArgument, path + ": " + reg.message());
  return reg;
}

const Organisation* OrgRegistry::find_by_certificate(const std::string& subject_serial_number,
                                                     const std::string& subject_cn) const {
  if (!subject_serial_number.empty()) {
    auto it = by_oin_.find(subject_serial_number);
    return it == by_oin_.end() ? nullptr : &orgs_[it->second];
  }
  if (mapping_ == CertificateMapping::kOinOrCommonName && !subject_cn.empty()) {
    auto it = by_cn_.find(subject_cn);
    if (it != by_cn_.end()) return &orgs_[it->second];
  }
  return nullptr;
}

const Organisation* OrgRegistry::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &orgs_[it->second];
}

Status OrgRegistry::sync_to(adapters::Database& db, const std::string& now) const {
  std::vector<adapters::OrgRow> rows;
  for (const Organisation& o : orgs_) rows.push_back({o.id, o.name, o.role, o.oin, o.cert_cn});
  return db.write([&](adapters::Stores& s) { return s.orgs.sync(rows, now); });
}

}  // namespace brug::gateway
