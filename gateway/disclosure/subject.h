// Who a request is about. Government parties name a participant by BSN, a project only by its
// own pseudonym; either way the gateway works with the participant index from here on.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "gateway/http/http.h"

namespace brug::crypto {
class KeyDir;
}

namespace brug::gateway {

struct Organisation;

struct ResolvedSubject {
  std::string participant;  // participant index, 64 hex digits
  std::optional<Problem> problem;
};

// Resolves a `subject` member ({"bsn": "..."} or {"pseudonym": "..."}). A BSN that fails the
// elfproef, a pseudonym of another organisation, or the wrong form for the caller's role is a
// 400 problem that never quotes the value.
ResolvedSubject resolve_subject(const nlohmann::json& subject, const Organisation& caller,
                                const crypto::KeyDir& keys);

// The caller's pseudonym for a participant (for answers to projects).
std::optional<std::string> pseudonym_for(const Organisation& org, const std::string& participant,
                                         const crypto::KeyDir& keys);

}  // namespace brug::gateway
