#include "gateway/audit_api/audit_routes.h"

#include <nlohmann/json.hpp>

#include "crypto/bsn.h"
#include "crypto/encoding.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit_api/subject_report.h"
#include "gateway/disclosure/pipeline.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

using nlohmann::ordered_json;

constexpr std::uint64_t kMaxEntries = 1000;
constexpr std::int64_t kDefaultSearchLimit = kMaxEntries;

// Reads the named unsigned query parameters; any other parameter or a bad number is a problem.
std::optional<Problem> numbers(const Request& r, std::map<std::string, std::uint64_t>& out) {
  for (const auto& [k, v] : r.query) {
    if (!out.contains(k)) return validation_problem(query_name(k), "unknown query parameter");
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return validation_problem(k, "must be a whole number");
    }
    out[k] = std::stoull(v);
  }
  return std::nullopt;
}

ordered_json hex_list(const std::vector<crypto::Sha256Digest>& proof) {
  ordered_json out = ordered_json::array();
  for (const auto& d : proof) out.push_back(crypto::to_hex(d));
  return out;
}

ordered_json checkpoint_json(const Checkpoint& c) {
  return {{"size", c.size},
          {"root", c.root},
          {"time", c.time},
          {"key_id", c.key_id},
          {"signature", c.signature}};
}

// The BSN of {"bsn": ...}, or the problem.
std::optional<crypto::Bsn> subject_bsn(const nlohmann::json& subject,
                                       std::optional<Problem>& problem) {
  FieldReader r(subject, "subject");
  r.only({"bsn"});
  const std::string text = r.text("bsn");
  if (r.problem()) {
    problem = r.problem();
    return std::nullopt;
  }
  auto bsn = crypto::Bsn::parse(text);
  if (!bsn) {
    problem = validation_problem("subject.bsn", "is not a valid BSN (9 digits, elfproef)");
    return std::nullopt;
  }
  return std::move(bsn).value();
}

std::string audit_subject(const crypto::Bsn& bsn, const crypto::KeyDir& keys) {
  const auto index = crypto::participant_index(keys.participant_index_key(), bsn);
  return crypto::audit_pseudonym(keys.audit_pseudonym_key(), index).text();
}

// A look-up by BSN is itself audited: one event naming whose data was looked up, durable
// before the answer leaves.
std::vector<AuditEvent> lookup_event(const Call& c, const std::string& subject) {
  AuditEvent e = c.event();
  e.subject = subject;
  e.decision = "permit";
  return {std::move(e)};
}

Answer checkpoint(Call& c, const AuditRouteDeps& d) {
  [[maybe_unused]] const Request& r = c.request;
  std::map<std::string, std::uint64_t> q;
  if (auto p = numbers(r, q)) return Answer::refuse(*p);
  auto cp = d.log.checkpoint(true);
  if (!cp) return Answer::fail();
  if (!cp->has_value()) {
    return Answer::refuse({404, "not-found", "Not found", "The log is empty."});
  }
  ordered_json j = checkpoint_json(**cp);
  j["public_key"] = d.keys.signing_key().verify_key().to_hex();
  return Answer::respond(json_response(200, j.dump()));
}

Answer entries(Call& c, const AuditRouteDeps& d) {
  [[maybe_unused]] const Request& r = c.request;
  std::map<std::string, std::uint64_t> q = {{"start", 0}, {"end", 0}};
  if (auto p = numbers(r, q)) return Answer::refuse(*p);
  if (!r.query.contains("start") || !r.query.contains("end") || q["end"] <= q["start"] ||
      q["end"] - q["start"] > kMaxEntries) {
    return Answer::refuse(
        validation_problem("end", "need start < end <= start + " + std::to_string(kMaxEntries)));
  }
  auto leaves = d.log.entries(q["start"], q["end"]);
  if (!leaves) return Answer::fail();
  ordered_json list = ordered_json::array();
  for (const auto& leaf : *leaves) {
    list.push_back(crypto::to_base64url(
        std::span(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size())));
  }
  return Answer::respond(
      json_response(200, ordered_json{{"start", q["start"]}, {"entries", list}}.dump()));
}

Answer inclusion(Call& c, const AuditRouteDeps& d) {
  [[maybe_unused]] const Request& r = c.request;
  std::map<std::string, std::uint64_t> q = {{"index", 0}, {"size", 0}};
  if (auto p = numbers(r, q)) return Answer::refuse(*p);
  auto proof = d.log.inclusion_proof(q["index"], q["size"]);
  if (!proof) {
    if (proof.code() == Code::kInvalidArgument) {
      return Answer::refuse(validation_problem("index", "need index < size <= the log's size"));
    }
    return Answer::fail();
  }
  return Answer::respond(json_response(
      200,
      ordered_json{{"index", q["index"]}, {"size", q["size"]}, {"path", hex_list(*proof)}}.dump()));
}

Answer consistency(Call& c, const AuditRouteDeps& d) {
  [[maybe_unused]] const Request& r = c.request;
  std::map<std::string, std::uint64_t> q = {{"from", 0}, {"to", 0}};
  if (auto p = numbers(r, q)) return Answer::refuse(*p);
  auto proof = d.log.consistency_proof(q["from"], q["to"]);
  if (!proof) {
    if (proof.code() == Code::kInvalidArgument) {
      return Answer::refuse(validation_problem("to", "need from <= to <= the log's size"));
    }
    return Answer::fail();
  }
  return Answer::respond(json_response(
      200, ordered_json{{"from", q["from"]}, {"to", q["to"]}, {"proof", hex_list(*proof)}}.dump()));
}

// Oldest first, a page of at most `limit` events; `next_cursor` (the index after the page's last
// event) is there while more may follow, so the newest events are reached by paging.
Answer search(Call& c, const AuditRouteDeps& d) {
  FieldReader f(c.body);
  f.only({"from", "to", "actor", "purpose", "decision", "action", "subject", "limit", "cursor"});
  AuditFilter filter;
  filter.from_time = f.text("from", false, 40);
  filter.to_time = f.text("to", false, 40);
  filter.actor = f.text("actor", false, 64);
  filter.purpose = f.text("purpose", false, 64);
  filter.decision = f.text("decision", false, 16);
  filter.action = f.text("action", false, 64);
  filter.limit = static_cast<std::uint64_t>(
      f.integer("limit", 1, static_cast<std::int64_t>(kMaxEntries), kDefaultSearchLimit));
  const std::string cursor = f.text("cursor", false, 20);
  const nlohmann::json* subject = f.object("subject", false);
  if (f.problem()) return Answer::refuse(*f.problem());
  if (!cursor.empty()) {
    auto size = d.log.size();
    if (!size) return Answer::fail();
    if (cursor.size() > 18 || cursor.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(cursor) > *size) {
      return Answer::refuse(
          {400, "bad-cursor", "Bad cursor", "cursor: must be a next_cursor this search returned."});
    }
    filter.from_index = std::stoull(cursor);
  }
  if (subject != nullptr) {
    std::optional<Problem> problem;
    auto bsn = subject_bsn(*subject, problem);
    if (problem) return Answer::refuse(*problem);
    filter.subject = audit_subject(*bsn, d.keys);
    c.context.subject = filter.subject;
  }
  auto found = d.log.search(filter);
  if (!found) return Answer::fail();
  ordered_json events = ordered_json::array();
  for (const auto& [index, leaf] : *found) events.push_back(ordered_json::parse(leaf));
  ordered_json answer = {{"events", events}};
  if (found->size() == filter.limit)
    answer["next_cursor"] = std::to_string(found->back().first + 1);
  return Answer::respond(
      json_response(200, answer.dump()),
      filter.subject.empty() ? std::vector<AuditEvent>{} : lookup_event(c, filter.subject));
}

// The access report of one person (subject_report.h), to the gemeente or the FG.
Answer subject_report(Call& c, const AuditRouteDeps& d) {
  FieldReader f(c.body);
  f.only({"subject"});
  const nlohmann::json* subject = f.object("subject");
  if (f.problem()) return Answer::refuse(*f.problem());
  std::optional<Problem> problem;
  auto bsn = subject_bsn(*subject, problem);
  if (problem) return Answer::refuse(*problem);
  c.context.subject = audit_subject(*bsn, d.keys);
  auto report = gateway::subject_report({d.db, d.orgs, d.keys}, *bsn, d.env.now_rfc3339());
  if (!report) return Answer::fail();
  return Answer::respond(json_response(200, report->dump()), lookup_event(c, c.context.subject));
}

}  // namespace

void add_audit_routes(Pipeline& pipeline, AuditRouteDeps deps) {
  const std::set<Role> auditor = {Role::kAuditor};
  auto route = [&](std::string method, std::string pattern, std::set<Role> roles,
                   std::string action, Body body, Answer (*fn)(Call&, const AuditRouteDeps&)) {
    pipeline.add({std::move(method), std::move(pattern), std::move(roles), std::move(action), "",
                  body, [deps, fn](Call& c) { return fn(c, deps); }});
  };
  route("GET", "/v1/audit/checkpoint", auditor, "audit.checkpoint", Body::kNone, checkpoint);
  route("GET", "/v1/audit/entries", auditor, "audit.entries", Body::kNone, entries);
  route("GET", "/v1/audit/proof/inclusion", auditor, "audit.proof", Body::kNone, inclusion);
  route("GET", "/v1/audit/proof/consistency", auditor, "audit.proof", Body::kNone, consistency);
  route("POST", "/v1/audit/events/search", auditor, "audit.search", Body::kJsonObject, search);
  route("POST", "/v1/audit/subject-report", {Role::kGemeente, Role::kAuditor},
        "audit.subject-report", Body::kJsonObject, subject_report);
}

}  // namespace brug::gateway
