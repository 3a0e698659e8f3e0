// The outcome reports: counts for accountability, never one person's outcome (docs/REPORTS.md).
#pragma once

namespace brug {
class Catalogue;
class PolicySet;
namespace adapters {
class Database;
}
namespace crypto {
class Env;
class KeyDir;
}  // namespace crypto
}  // namespace brug

namespace brug::gateway {

class OrgRegistry;
class Pipeline;

struct ReportDeps {
  adapters::Database& db;
  const crypto::KeyDir& keys;
  const Catalogue& catalogue;
  const PolicySet& policies;
  const OrgRegistry& orgs;
  crypto::Env& env;            // the clock that says which periods are published
  int report_delay_days = 30;  // days after a period's end before its report is published
};

// GET /v1/reports/outcomes. `deps` must outlive the pipeline.
void add_report_routes(Pipeline& pipeline, const ReportDeps& deps);

}  // namespace brug::gateway
