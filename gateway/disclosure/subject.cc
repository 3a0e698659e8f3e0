#include "gateway/disclosure/subject.h"

#include <nlohmann/json.hpp>

#include "crypto/bsn.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/http/json_body.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

Problem unknown_subject() {
  return {400, "unknown-subject", "Unknown subject",
          "subject.pseudonym: is not a pseudonym this organisation was given."};
}

}  // namespace

ResolvedSubject resolve_subject(const nlohmann::json& subject, const Organisation& caller,
                                const crypto::KeyDir& keys) {
  ResolvedSubject out;
  const bool project = caller.role == Role::kProject;
  FieldReader r(subject, "subject");
  r.only({project ? "pseudonym" : "bsn"});
  const std::string text = r.text(project ? "pseudonym" : "bsn", true, 200);
  if (r.problem()) {
    out.problem = r.problem();
    if (project && subject.contains("bsn")) {
      out.problem = validation_problem("subject.bsn", "a project names participants by pseudonym");
    }
    return out;
  }
  if (project) {
    auto p = crypto::Pseudonym::parse(text);
    auto index = p ? crypto::resolve(keys.pseudonym_key(), caller.id, *p)
                   : Result<crypto::ParticipantIndex>(p.status());
    if (!index) {
      out.problem = unknown_subject();
      return out;
    }
    out.participant = index->to_hex();
    return out;
  }
  auto bsn = crypto::Bsn::parse(text);
  if (!bsn) {
    out.problem = validation_problem("subject.bsn", "is not a valid BSN (9 digits, elfproef)");
    return out;
  }
  out.participant = crypto::participant_index(keys.participant_index_key(), *bsn).to_hex();
  return out;
}

std::optional<std::string> pseudonym_for(const Organisation& org, const std::string& participant,
                                         const crypto::KeyDir& keys) {
  auto index = crypto::ParticipantIndex::from_hex(participant);
  if (!index) return std::nullopt;
  auto p = crypto::pseudonym(keys.pseudonym_key(), org.id, *index);
  if (!p) return std::nullopt;
  return std::string(p->text());
}

}  // namespace brug::gateway
