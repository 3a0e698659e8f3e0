// The outcome reports: counts for accountability, never one person's outcome (docs/REPORTS.md).
#pragma once

namespace brug {
class Catalogue;
class PolicySet;
namespace adapters {
class Database;
}
namespace crypto {
class KeyDir;
}
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
};

// GET /v1/reports/outcomes. `deps` must outlive the pipeline.
void add_report_routes(Pipeline& pipeline, const ReportDeps& deps);

}  // namespace brug::gateway
