#include "adapters/postgres/pg_stores.h"

namespace brug::adapters::pg {
namespace {

Value text_or_null(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

}  // namespace

Status PgOrgStore::sync(const std::vector<OrgRow>& orgs, const std::string& now) {
  // Free OINs and CNs first so that moving one between organisations cannot collide.
  BRUG_RETURN_IF_ERROR(
      tx_.exec("UPDATE organisations SET active = 0, oin = NULL, cert_cn = NULL").status());
  for (const OrgRow& o : orgs) {
    BRUG_RETURN_IF_ERROR(
        tx_.exec("INSERT INTO organisations (id, name, role, oin, cert_cn, active, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, 1, ?) "
                 "ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, "
                 "oin = excluded.oin, cert_cn = excluded.cert_cn, active = 1, "
                 "updated_at = excluded.updated_at",
                 {o.id, o.name, std::string(to_string(o.role)), text_or_null(o.oin),
                  text_or_null(o.cert_cn), now})
            .status());
  }
  return Status::ok();
}

Result<std::vector<OrgRow>> PgOrgStore::active() {
  auto rows = tx_.query(
      "SELECT id, name, role, oin, cert_cn FROM organisations WHERE active = 1 ORDER BY id");
  if (!rows) return rows.status();
  std::vector<OrgRow> out;
  for (const Row& r : *rows) {
    const auto role = parse_role(r.text(2));
    if (!role) return Status::error(Code::kCorrupt, "organisation " + r.text(0) + ": stored role");
    out.push_back({r.text(0), r.text(1), *role, r.optional_text(3).value_or(""),
                   r.optional_text(4).value_or("")});
  }
  return out;
}

}  // namespace brug::adapters::pg
