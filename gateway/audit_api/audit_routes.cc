#include "gateway/audit_api/audit_routes.h"

#include <nlohmann/json.hpp>

#include "crypto/bsn.h"
#include "crypto/encoding.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "crypto/sign.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/logboek.h"
#include "gateway/audit/tlog.h"
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

// The BSN in `text` (the member `field`), or the problem.
std::optional<crypto::Bsn> parse_bsn(const std::string& text, const std::string& field,
                                     std::optional<Problem>& problem) {
  auto bsn = crypto::Bsn::parse(text);
  if (!bsn) {
    problem = validation_problem(field, "is not a valid BSN (9 digits, elfproef)");
    return std::nullopt;
  }
  return std::move(bsn).value();
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
  return parse_bsn(text, "subject.bsn", problem);
}

// Resumes `filter` at a search `cursor` (a next_cursor this API returned; empty: from the
// start). The answer to give instead when it is not one, or when the log cannot be read.
std::optional<Answer> resume_at(const std::string& cursor, AuditLog& log, AuditFilter& filter) {
  if (cursor.empty()) return std::nullopt;
  auto size = log.size();
  if (!size) return Answer::fail();
  if (cursor.size() > 18 || cursor.find_first_not_of("0123456789") != std::string::npos ||
      std::stoull(cursor) > *size) {
    return Answer::refuse(
        {400, "bad-cursor", "Bad cursor", "cursor: must be a next_cursor this search returned."});
  }
  filter.from_index = std::stoull(cursor);
  return std::nullopt;
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
  const auto& key = d.keys.signing_key().verify_key();
  j["public_key"] = key.to_hex();
  j["origin"] = d.origin;
  j["note_verifier_key"] = note_verifier_key(d.origin, kNoteEd25519, key);
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
  if (auto stop = resume_at(cursor, d.log, filter)) return std::move(*stop);
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
  return Answer::respond(json_response(200, answer.dump()), filter.subject.empty()
                                                                ? std::vector<AuditEvent>{}
                                                                : lookup_event(c, filter.subject));
}

// The newest checkpoint (signed first if the log grew) as a C2SP tlog-checkpoint signed note.
Answer checkpoint_note(Call& c, const AuditRouteDeps& d) {
  std::map<std::string, std::uint64_t> q;
  if (auto p = numbers(c.request, q)) return Answer::refuse(*p);
  auto cp = d.log.checkpoint(true);
  if (!cp) return Answer::fail();
  if (!cp->has_value()) {
    return Answer::refuse({404, "not-found", "Not found", "The log is empty."});
  }
  auto root = crypto::fixed_from_hex<32>((*cp)->root, "root");
  if (!root) return Answer::fail();
  const std::string body = checkpoint_body(d.origin, (*cp)->size, *root);
  auto cosigned = d.log.cosignatures((*cp)->size);
  if (!cosigned) return Answer::fail();
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = body + "\n" + note_signature_line(body, d.origin, d.keys.signing_key());
  for (const auto& line : *cosigned) r.body += line;
  r.headers.emplace_back("Cache-Control", "no-store");
  return Answer::respond(std::move(r));
}

// A witness's C2SP cosignature of the checkpoint of `size`: accepted only from a configured
// witness, only over this log's own checkpoint of that size, then served with the note.
Answer cosign(Call& c, const AuditRouteDeps& d) {
  FieldReader f(c.body);
  f.only({"size", "cosignature"});
  const std::string line = f.text("cosignature", true, 512);
  if (f.problem()) return Answer::refuse(*f.problem());
  if (!c.body.contains("size") || !c.body["size"].is_number_unsigned() ||
      c.body["size"].get<std::uint64_t>() == 0) {
    return Answer::refuse(validation_problem("size", "must be a tree size of the log"));
  }
  const std::uint64_t size = c.body["size"];
  auto have = d.log.size();
  if (!have) return Answer::fail();
  if (size > *have) {
    return Answer::refuse(validation_problem("size", "must be a tree size of the log"));
  }
  auto root = d.log.root(size);
  if (!root) return Answer::fail();
  const std::string body = checkpoint_body(d.origin, size, *root);
  auto note = parse_note(body + "\n" + line);
  if (!note || note->signatures.size() != 1) {
    return Answer::refuse(validation_problem("cosignature", "must be one signature line"));
  }
  const std::string& name = note->signatures[0].name;
  for (const auto& [witness, hex] : d.witnesses) {
    if (witness != name) continue;
    auto key = crypto::VerifyKey::from_hex(hex);
    if (!key) return Answer::fail();
    if (!verify_cosignature(*note, name, *key)) break;
    if (!d.log.add_cosignature(size, name, line).is_ok()) return Answer::fail();
    return Answer::respond(
        json_response(201, ordered_json{{"size", size}, {"witness", name}}.dump()));
  }
  return Answer::refuse({403, "forbidden", "Forbidden",
                         "The cosignature is not a configured witness's over this checkpoint."});
}

// A tlog-tiles hash tile or entry bundle; full tiles never change, so they are cached long.
Answer tile(Call& c, const AuditRouteDeps& d) {
  std::map<std::string, std::uint64_t> q;
  if (auto p = numbers(c.request, q)) return Answer::refuse(*p);
  const auto ref = parse_tile_path(c.request.path_params["tile"]);
  const Problem missing{404, "not-found", "Not found", "No such tile in the log."};
  if (!ref) return Answer::refuse(missing);
  const std::uint64_t first = ref->index * kTileWidth;
  if (ref->index > UINT64_MAX / kTileWidth) return Answer::refuse(missing);
  Response r;
  r.content_type = "application/octet-stream";
  if (ref->entries) {
    // Level 0 hashes say whether the leaves are there; a leaf is read only once they are.
    auto have = d.log.subtree_hashes(0, first, ref->width);
    if (!have) return have.code() == Code::kNotFound ? Answer::refuse(missing) : Answer::fail();
    auto leaves = d.log.entries(first, first + ref->width);
    if (!leaves || leaves->size() != ref->width) return Answer::fail();
    auto bundle = entry_bundle(*leaves);
    if (!bundle) return Answer::fail();
    r.body = std::move(bundle).value();
  } else {
    auto hashes = d.log.subtree_hashes(ref->level * kTileHeight, first, ref->width);
    if (!hashes) {
      return hashes.code() == Code::kNotFound ? Answer::refuse(missing) : Answer::fail();
    }
    for (const auto& h : *hashes) r.body.append(reinterpret_cast<const char*>(h.data()), h.size());
  }
  r.headers.emplace_back("Cache-Control", ref->width == kTileWidth
                                              ? "public, max-age=31536000, immutable"
                                              : "no-store");
  return Answer::respond(std::move(r));
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

// The read API of the Logboek Dataverwerkingen extension "lezen": the log's events as
// processing-activity records (gateway/audit/logboek.h), by trace, processing activity and/or
// data subject (a BSN; the look-up is audited). At least one criterion; several combine. One
// request examines at most one page of kScanPage events of the log's index (those of the
// subject and the purpose where given), so a page may hold fewer than `limit` records and
// still carry next_cursor.
constexpr std::uint64_t kScanPage = kMaxEntries;
constexpr std::int64_t kDefaultActivityLimit = 100;
constexpr const char* kTraceMember = "traceId";
constexpr const char* kActivityMember = "dpl.core.processing_activity_id";
constexpr const char* kSubjectMember = "dpl.core.data_subject_id";
constexpr const char* kSubjectTypeMember = "dpl.core.data_subject_id_type";

bool is_trace_id(const std::string& t) {
  return t.size() == 32 && t.find_first_not_of("0123456789abcdef") == std::string::npos &&
         t != std::string(32, '0');
}

// RFC 3339 in UTC as the log writes it: YYYY-MM-DDTHH:MM:SS[.fraction]Z.
bool is_utc_time(const std::string& t) {
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  if (t.size() < shape.size() + 1 || t.size() > 30 || t.back() != 'Z') return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(t[i])) : t[i] != shape[i]) {
      return false;
    }
  }
  const std::string rest = t.substr(shape.size(), t.size() - shape.size() - 1);
  return rest.empty() || (rest.size() >= 2 && rest[0] == '.' &&
                          rest.find_first_not_of("0123456789", 1) == std::string::npos);
}

// The record of the read API for one export record: the standard's camelCase names.
ordered_json processing_activity(const ordered_json& r) {
  ordered_json attributes = r["attributes"];
  if (r.contains("foreign_operation"))
    attributes["brug.recipient"] = r["foreign_operation"]["entity"];
  return {{"traceId", r["trace_id"]},
          {"spanId", r["span_id"]},
          {"status", r["status_code"] == 1 ? "Ok" : "Error"},
          {"name", r["name"]},
          {"startTime", r["start_time"]},
          {"endTime", r["end_time"]},
          {"resource", {{"attributes", r["resource"]}}},
          {"attributes", std::move(attributes)}};
}

Answer processing_activities(Call& c, const AuditRouteDeps& d) {
  std::map<std::string, std::uint64_t> no_query;
  if (auto p = numbers(c.request, no_query)) return Answer::refuse(*p);
  FieldReader f(c.body);
  f.only({kTraceMember, kActivityMember, kSubjectMember, kSubjectTypeMember, "startTime", "endTime",
          "limit", "cursor"});
  const std::string trace = f.text(kTraceMember, false, 32);
  const std::string activity = f.text(kActivityMember, false, 200);
  const std::string subject = f.text(kSubjectMember, false, 9);
  const std::string subject_type = f.text(kSubjectTypeMember, false, 16);
  const std::string start = f.text("startTime", false, 30);
  const std::string end = f.text("endTime", false, 30);
  const auto limit = static_cast<std::uint64_t>(
      f.integer("limit", 1, static_cast<std::int64_t>(kMaxEntries), kDefaultActivityLimit));
  const std::string cursor = f.text("cursor", false, 20);
  if (f.problem()) return Answer::refuse(*f.problem());
  if (trace.empty() && activity.empty() && subject.empty()) {
    return Answer::refuse(validation_problem("(body)", std::string("needs at least one of ") +
                                                           kTraceMember + ", " + kActivityMember +
                                                           " or " + kSubjectMember));
  }
  if (!trace.empty() && !is_trace_id(trace)) {
    return Answer::refuse(
        validation_problem(kTraceMember, "must be a W3C trace id (32 lowercase hex digits)"));
  }
  if (!subject_type.empty() && subject_type != "BSN") {
    return Answer::refuse(validation_problem(kSubjectTypeMember, "must be BSN"));
  }
  if (subject.empty() && !subject_type.empty()) {
    return Answer::refuse(
        validation_problem(kSubjectTypeMember, "needs " + std::string(kSubjectMember)));
  }
  for (const auto& [name, value] : {std::pair{"startTime", &start}, std::pair{"endTime", &end}}) {
    if (!value->empty() && !is_utc_time(*value)) {
      return Answer::refuse(validation_problem(name, "must be an RFC 3339 time in UTC (...Z)"));
    }
  }
  AuditFilter filter;
  filter.limit = kScanPage;
  filter.from_time = start;
  filter.to_time = end;
  if (auto stop = resume_at(cursor, d.log, filter)) return std::move(*stop);
  if (!subject.empty()) {
    std::optional<Problem> problem;
    auto bsn = parse_bsn(subject, kSubjectMember, problem);
    if (problem) return Answer::refuse(*problem);
    filter.subject = audit_subject(*bsn, d.keys);
    c.context.subject = filter.subject;
  }
  // The purposes whose events carry this processing activity id; one of them narrows the index.
  std::set<std::string> purposes;
  if (!activity.empty()) {
    for (const auto& [purpose, id] : d.activities) {
      if (id == activity) purposes.insert(purpose);
    }
    if (!d.activities.contains(activity)) purposes.insert(activity);
    if (purposes.size() == 1) filter.purpose = *purposes.begin();
  }
  auto found = d.log.search(filter);
  if (!found) return Answer::fail();
  ordered_json records = ordered_json::array();
  std::optional<std::uint64_t> next;
  for (const auto& [index, leaf] : *found) {
    const auto e = nlohmann::json::parse(leaf, nullptr, false);
    if (!e.is_object()) return Answer::fail();
    if (!activity.empty() && !purposes.contains(e.value("purpose", ""))) continue;
    const ordered_json r = logboek_record(e, leaf, d.activities);
    if (!trace.empty() && r["trace_id"] != trace) continue;
    records.push_back(processing_activity(r));
    if (records.size() == limit) {
      next = index + 1;
      break;
    }
  }
  if (!next && found->size() == filter.limit) next = found->back().first + 1;
  ordered_json answer = {{"processingActivities", std::move(records)}};
  if (next) answer["next_cursor"] = std::to_string(*next);
  return Answer::respond(json_response(200, answer.dump()), filter.subject.empty()
                                                                ? std::vector<AuditEvent>{}
                                                                : lookup_event(c, filter.subject));
}
}  // namespace

std::string default_audit_origin(const crypto::KeyDir& keys) {
  return "brug.invalid/audit/" + keys.signing_key().key_id().text();
}

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
  route("GET", "/v1/audit/log/checkpoint", auditor, "audit.checkpoint", Body::kNone,
        checkpoint_note);
  route("GET", "/v1/audit/log/tile/{tile...}", auditor, "audit.tile", Body::kNone, tile);
  route("POST", "/v1/audit/log/cosignature", auditor, "audit.cosign", Body::kJsonObject, cosign);
  route("POST", "/v1/audit/events/search", auditor, "audit.search", Body::kJsonObject, search);
  route("POST", "/v1/processing-activities", auditor, "audit.processing-activities",
        Body::kJsonObject, processing_activities);
  route("POST", "/v1/audit/subject-report", {Role::kGemeente, Role::kAuditor},
        "audit.subject-report", Body::kJsonObject, subject_report);
}

}  // namespace brug::gateway
