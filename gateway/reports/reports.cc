// GET /v1/reports/outcomes: the gemeente's and participatiebedrijf's aggregate counts of the
// outcomes of the participants they referred, with small cells withheld (docs/REPORTS.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "adapters/stores.h"
#include "consent/date.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/disclosure/flow.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"
#include "gateway/reports/reports.h"
#include "policies/catalogue.h"
#include "policies/cell_key.h"
#include "policies/publication.h"

namespace brug::gateway {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// ---- GET /v1/reports/outcomes -----------------------------------------------------------

// A fixed period: one calendar month, quarter or year. Anything else is refused, so that two
// overlapping windows cannot be subtracted to single out one person (docs/REPORTS.md).
std::optional<std::string> fixed_period_problem(const consent::Date& from,
                                                const consent::Date& to) {
  const auto last_day = [](int y, int m) {
    const auto ymd = std::chrono::year_month_day_last(
        std::chrono::year(y), std::chrono::month_day_last(std::chrono::month(unsigned(m))));
    return static_cast<int>(unsigned(ymd.day()));
  };
  if (from.day() != 1 || to.day() != last_day(to.year(), to.month())) {
    return "from must be the first and to the last day of a month";
  }
  const int months = (to.year() - from.year()) * 12 + (to.month() - from.month()) + 1;
  const bool month = months == 1;
  const bool quarter = months == 3 && (from.month() - 1) % 3 == 0;
  const bool year = months == 12 && from.month() == 1;
  if (!month && !quarter && !year) {
    return "the period must be one calendar month, quarter or year";
  }
  return std::nullopt;
}

std::vector<std::string> dimension_values(const ReportDeps& d, const std::string& dim,
                                          const consent::Date& from, const consent::Date& to) {
  std::vector<std::string> v;
  if (dim == "project") {
    for (const auto& o : d.orgs.all()) {
      if (o.role == Role::kProject) v.push_back(o.id);
    }
  } else if (dim == "status") {
    if (const FieldSpec* f = d.catalogue.find(RecordType::kOutcome, "status")) v = f->values;
  } else if (dim == "doelgroep") {
    if (const FieldSpec* f = d.catalogue.find(RecordType::kReferral, "doelgroep")) v = f->values;
    v.push_back("onbekend");
  } else if (dim == "ladder") {
    v = {"gestegen", "gelijk", "gedaald", "onbekend"};
  } else if (dim == "month") {
    for (int y = from.year(), m = from.month();
         y < to.year() || (y == to.year() && m <= to.month());) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
      v.push_back(buf);
      if (++m > 12) {
        m = 1;
        ++y;
      }
    }
  }
  return v;
}

}  // namespace

Answer report(const ReportDeps& d, Call& call) {
  const Request& req = call.request;
  const Organisation& caller = call.caller;
  auto bad = [&](const std::string& field, const std::string& why) {
    return Answer::refuse(validation_problem(field, why));
  };
  std::string from_text, to_text, by_text = "project,status";
  std::int64_t min_cell = kDefaultMinCell;
  for (const auto& [k, v] : req.query) {
    if (k == "from") {
      from_text = v;
    } else if (k == "to") {
      to_text = v;
    } else if (k == "by") {
      by_text = v;
    } else if (k == "min_cell") {
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoll(v) < kLowestMinCell) {
        return bad("min_cell",
                   "must be a whole number of at least " + std::to_string(kLowestMinCell));
      }
      min_cell = std::stoll(v);
    } else {
      return bad(query_name(k), "unknown query parameter");
    }
  }
  auto from = consent::Date::parse(from_text);
  if (!from) return bad("from", from.message());
  auto to = consent::Date::parse(to_text);
  if (!to) return bad("to", to.message());
  if (auto why = fixed_period_problem(*from, *to)) {
    return Answer::refuse({400, "unfixed-period", "Period not allowed", *why + "."});
  }
  std::vector<std::string> dims;
  for (std::size_t start = 0; start <= by_text.size();) {
    const std::size_t comma = by_text.find(',', start);
    dims.push_back(
        by_text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const std::set<std::string> known = {"project", "status", "doelgroep", "ladder", "month"};
  if (dims.empty() || dims.size() > 2 || (dims.size() == 2 && dims[0] == dims[1])) {
    return bad("by", "one or two of project, status, doelgroep, ladder, month");
  }
  for (const auto& dim : dims) {
    if (!known.contains(dim))
      return bad("by",
                 "one or two of project, status, doelgroep, "
                 "ladder, month");
  }
  // Frozen publications: answered once the period and the delay for late outcomes are over,
  // counting only what arrived before, so the answer never changes (docs/REPORTS.md).
  const std::chrono::sys_days last_day{std::chrono::year_month_day{
      std::chrono::year(to->year()), std::chrono::month(unsigned(to->month())),
      std::chrono::day(unsigned(to->day()))}};
  const std::chrono::sys_days published = publication_day(last_day, d.report_delay_days);
  const std::chrono::year_month_day ymd{published};
  char published_text[16];
  std::snprintf(published_text, sizeof published_text, "%04d-%02u-%02u", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()));
  if (std::chrono::floor<std::chrono::days>(d.env.now()) < published) {
    return Answer::refuse(
        {409, "period-not-published", "Period not published yet",
         "The report of this period is published from " + std::string(published_text) + "."});
  }
  // The monitoring policy must let outcomes flow to the caller as aggregates.
  const Flow flow{Party{Role::kProject, ""}, party_of(caller), RecordType::kOutcome,
                  Purpose::kMonitoring};
  call.context.purpose = "monitoring";
  auto plan = plan_flow(d.policies, flow);
  if (!plan)
    return Answer::refuse(forbidden_problem("No monitoring policy covers this organisation."));
  call.context.basis = plan->basis();
  call.context.policy_ids = plan->policy_ids;

  // Each participant counts once per project: by the latest outcome inside the period.
  struct Latest {
    std::string date;
    std::int64_t seq = 0;
    json outcome, referral;
    std::string project;
  };
  std::map<std::pair<std::string, std::string>, Latest> latest;
  const std::string lo = from->to_string(), hi = to->to_string();
  Status read = d.db.read([&](adapters::Stores& st) {
    latest.clear();
    KeyCache keys(d.keys);
    auto rows = st.exchange.outcomes_for_sender(caller.id, false);
    if (!rows) return rows.status();
    for (const adapters::OutcomeForSender& o : *rows) {
      // Only what was received before the publication day counts (the id holds that time).
      if (!counts_for_period(record_time(o.id, 4), last_day, d.report_delay_days)) continue;
      auto key = keys.from_row({o.participant, o.wrapped_key, std::nullopt});
      if (!key) return key.status();
      if (*key == nullptr) continue;  // erased
      auto outcome =
          open_json(**key, o.id, o.participant, "outcome", {o.project, {}, {}}, o.sealed);
      if (!outcome) return outcome.status();
      const std::string date = outcome->value("date", "");
      if (date < lo || date > hi) continue;
      Latest& l = latest[{o.participant, o.project}];
      if (!l.date.empty() && (date < l.date || (date == l.date && o.position < l.seq))) continue;
      l = {date, o.position, std::move(outcome).value(), json(), o.project};
      if (o.referral_sealed) {
        auto referral = open_json(**key, o.referral_id, o.participant, "referral",
                                  {caller.id, o.project, o.referral_purpose}, *o.referral_sealed);
        if (referral) l.referral = std::move(referral).value();
      }
    }
    return Status::ok();
  });
  if (!read.is_ok()) return Answer::fail(read);

  auto value_of = [](const std::string& dim, const Latest& l) -> std::string {
    if (dim == "project") return l.project;
    if (dim == "status") return l.outcome.value("status", "");
    if (dim == "month") return l.date.substr(0, 7);
    if (dim == "doelgroep") {
      return l.referral.is_object() ? l.referral.value("doelgroep", "onbekend") : "onbekend";
    }
    // ladder: the rung in the outcome against the rung at referral
    if (!l.referral.is_object() || !l.referral.contains("participatieladder") ||
        !l.outcome.contains("participatieladder")) {
      return "onbekend";
    }
    const auto before = l.referral["participatieladder"].get<std::int64_t>();
    const auto after = l.outcome["participatieladder"].get<std::int64_t>();
    return after > before ? "gestegen" : after == before ? "gelijk" : "gedaald";
  };
  // Each participant's contribution, in every dimension, with their fixed record key.
  PeriodContributions period;
  for (const std::string& dim : known) {
    period.dimensions.push_back({dim, dimension_values(d, dim, *from, *to)});
  }
  for (const auto& [key, l] : latest) {
    auto index = crypto::ParticipantIndex::from_hex(key.first);
    if (!index) return Answer::fail();
    Contribution c{crypto::report_record_key(d.keys.report_noise_key(), *index, l.project), {}};
    for (const Dimension& dim : period.dimensions) c.values.push_back(value_of(dim.name, l));
    period.contributions.push_back(std::move(c));
  }
  auto dimension_index = [&](const std::string& name) {
    return static_cast<std::size_t>(std::distance(known.begin(), known.find(name)));
  };
  const KeyedTable table =
      tabulate(period, dimension_index(dims[0]),
               dims.size() == 2 ? std::optional(dimension_index(dims[1])) : std::nullopt);
  const ProtectedTable p = perturb(table, period_version(period), min_cell);
  auto opt = [](const std::optional<std::int64_t>& v) {
    return v ? ordered_json(*v) : ordered_json(nullptr);
  };
  ordered_json cells = ordered_json::array();
  for (const auto& row : p.cells) {
    ordered_json out = ordered_json::array();
    for (const auto& v : row) out.push_back(opt(v));
    cells.push_back(std::move(out));
  }
  ordered_json row_totals = ordered_json::array(), column_totals = ordered_json::array();
  for (const auto& v : p.row_totals) row_totals.push_back(opt(v));
  for (const auto& v : p.column_totals) column_totals.push_back(opt(v));
  ordered_json answer = {{"period", {{"from", lo}, {"to", hi}}},
                         {"by", dims},
                         {"unit",
                          "participants, each counted once per project by their latest "
                          "outcome in the period"},
                         {"min_cell", std::max(min_cell, kLowestMinCell)},
                         {"rows", p.rows},
                         {"columns", p.columns},
                         {"cells", cells},
                         {"row_totals", row_totals},
                         {"column_totals", column_totals},
                         {"total", opt(p.total)},
                         {"suppressed", {{"primary", p.primary}, {"secondary", p.secondary}}},
                         {"perturbation",
                          {{"method", "cell-key"},
                           {"max_noise", kMaxNoise},
                           {"variance", std::round(noise_variance() * 100) / 100},
                           {"published", std::string(published_text)}}}};
  AuditEvent e = call.event();
  e.fields = dims;
  e.decision = "permit";
  return Answer::respond(json_response(200, answer.dump()), {e});
}

void add_report_routes(Pipeline& pipeline, const ReportDeps& deps) {
  const ReportDeps* d = &deps;
  pipeline.add({"GET",
                "/v1/reports/outcomes",
                {Role::kGemeente, Role::kParticipatiebedrijf},
                "report.outcomes",
                "outcome",
                Body::kNone,
                [d](Call& c) { return report(*d, c); }});
}

}  // namespace brug::gateway
