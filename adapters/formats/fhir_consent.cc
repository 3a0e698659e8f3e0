#include "adapters/formats/fhir_consent.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace brug::adapters {
namespace {

using nlohmann::json;

constexpr std::string_view kConsentScopeSystem =
    "http://terminology.hl7.org/CodeSystem/consentscope";
constexpr std::string_view kLoincSystem = "http://loinc.org";
constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr std::string_view kParticipationTypeSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
constexpr std::string_view kConsentActionSystem =
    "http://terminology.hl7.org/CodeSystem/consentaction";
constexpr std::string_view kRecipientRole = "IRCP";  // information recipient
constexpr std::string_view kOrganizationPrefix = "Organization/";

json coding(std::string_view system, std::string_view code) {
  return json{{"system", system}, {"code", code}};
}
json codeable(std::string_view system, std::string_view code) {
  return json{{"coding", json::array({coding(system, code)})}};
}
json org_reference(std::string_view id) {
  return json{{"reference", std::string(kOrganizationPrefix) + std::string(id)}};
}

// FHIR ids allow [A-Za-z0-9-.]{1,64}; brug consent ids carry an underscore ("cns_..."), so the
// resource id swaps it for a hyphen and the exact id travels in Consent.identifier.
std::string fhir_id(std::string_view consent_id) {
  std::string id(consent_id.substr(0, 64));
  std::replace(id.begin(), id.end(), '_', '-');
  return id;
}

const consent::ConsentEvent* withdrawal_event(const consent::Consent& c) {
  for (const consent::ConsentEvent& e : c.events) {
    if (e.kind == consent::EventKind::kWithdrawn) return &e;
  }
  return nullptr;
}

}  // namespace

json to_fhir_consent(const consent::Consent& c, std::string_view patient_reference,
                     std::string_view now_rfc3339) {
  const consent::ConsentEvent* withdrawal = withdrawal_event(c);
  // A stored withdrawal is in force whatever its timestamp (as in consent::evaluate); a consent
  // not yet valid is still `active`: its provision period says from when it permits.
  const bool inactive = withdrawal != nullptr ||
                        c.status_at(std::string(now_rfc3339)) == consent::ConsentStatus::kExpired;

  json permit = {
      {"type", "permit"},
      {"period", {{"start", c.valid_from.to_string()}, {"end", c.valid_until.to_string()}}},
      {"actor", json::array({{{"role", codeable(kParticipationTypeSystem, kRecipientRole)},
                              {"reference", org_reference(c.grantee)}}})},
      {"action", json::array({codeable(kConsentActionSystem, "disclose")})},
      {"purpose", json::array({coding(kFhirPurposeSystem, to_string(c.purpose))})},
      {"class", json::array()},
  };
  for (const std::string& category : c.categories) {
    permit["class"].push_back(coding(kFhirCategorySystem, category));
  }

  json evidence_id = {
      {"type", codeable(kFhirEvidenceMethodSystem, consent::to_string(c.evidence.method))},
      {"system", kFhirEvidenceSystem},
      {"value", c.evidence.reference},
  };

  const json patient = patient_reference.empty() ? json{{"display", kFhirUnnamedPatient}}
                                                 : json{{"reference", patient_reference}};
  json r = {
      {"resourceType", "Consent"},
      {"id", fhir_id(c.id)},
      {"identifier", json::array({{{"system", kFhirConsentIdSystem}, {"value", c.id}}})},
      {"status", inactive ? "inactive" : "active"},
      {"scope", codeable(kConsentScopeSystem, "patient-privacy")},
      {"category", json::array({codeable(kLoincSystem, "59284-0")})},
      {"patient", patient},
      {"dateTime", c.recorded_at},
      // The participant is the one who agrees; the recording organisation keeps the record.
      {"performer", json::array({patient})},
      {"organization", json::array({org_reference(c.recorded_by)})},
      {"sourceReference", {{"identifier", evidence_id}}},
      {"policyRule", codeable(kActCodeSystem, "OPTIN")},
      {"provision", {{"type", "deny"}, {"provision", json::array({permit})}}},
  };
  if (withdrawal != nullptr) {
    r["extension"] = json::array({{
        {"url", kFhirWithdrawalExtension},
        {"extension",
         json::array({{{"url", "at"}, {"valueDateTime", withdrawal->at}},
                      {{"url", "by"}, {"valueReference", org_reference(withdrawal->actor)}}})},
    }});
  }
  return r;
}

namespace {

// The importer: every check names the FHIR element path and never echoes a value.
Status refuse(const std::string& path, std::string_view why) {
  return Status::error(Code::kInvalidArgument, path + ": " + std::string(why));
}

std::string at(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// An unexpected key is named in a message only if it looks like a FHIR element name.
std::string element_name(const std::string& key) {
  const bool plausible =
      !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
      });
  return plausible ? key : "<unrecognised element>";
}

// Refuses any key of `obj` outside `allowed`, with a message saying why it matters.
Status only_keys(const json& obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed, std::string_view why) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return refuse(path + "." + element_name(key), why);
    }
  }
  return Status::ok();
}

const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// The string at `key` of an object, or empty when absent or not a string (never throws).
std::string text_of(const json& obj, const char* key) {
  const json* v = obj.is_object() ? member(obj, key) : nullptr;
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

Result<std::string> required_string(const json& obj, const char* key, const std::string& path) {
  const json* v = member(obj, key);
  if (v == nullptr) return refuse(path + "." + key, "required");
  if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
    return refuse(path + "." + key, "must be a non-empty string");
  }
  return v->get<std::string>();
}

const json* array_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v != nullptr && v->is_array() ? v : nullptr;
}

bool is_fhir_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

// The organisation id of a Reference "Organization/<id>" at `path` (the Reference element).
Result<std::string> organization_id(const json& ref, const std::string& path) {
  if (!ref.is_object()) return refuse(path, "must be a Reference");
  auto text = required_string(ref, "reference", path);
  if (!text) return text.status();
  std::string_view v = *text;
  if (!v.starts_with(kOrganizationPrefix) || !is_fhir_id(v.substr(kOrganizationPrefix.size()))) {
    return refuse(path + ".reference", "must be Organization/<id>");
  }
  return std::string(v.substr(kOrganizationPrefix.size()));
}

// True if the CodeableConcept `cc` has a coding with this system and code.
bool has_coding(const json& cc, std::string_view system, std::string_view code) {
  if (!cc.is_object()) return false;
  const json* codings = array_member(cc, "coding");
  if (codings == nullptr) return false;
  return std::any_of(codings->begin(), codings->end(), [&](const json& c) {
    return c.is_object() && text_of(c, "system") == system && text_of(c, "code") == code;
  });
}

// The code of the one coding of `cc` in `system`, or empty.
std::string code_in(const json& cc, std::string_view system) {
  const json* codings = cc.is_object() ? array_member(cc, "coding") : nullptr;
  if (codings == nullptr) return {};
  for (const json& c : *codings) {
    if (c.is_object() && text_of(c, "system") == system) return text_of(c, "code");
  }
  return {};
}

Result<consent::Date> date_at(const json& period, const char* key, const std::string& path) {
  auto text = required_string(period, key, path);
  if (!text) return text.status();
  auto d = consent::Date::parse(*text);
  if (!d) return refuse(path + "." + key, "must be a date YYYY-MM-DD");
  return *d;
}

// A full RFC 3339 time, as brug records them (FHIR also allows a bare date; brug does not).
bool is_timestamp(const json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  return s.size() >= 20 && s[10] == 'T' && consent::Date::of_timestamp(s).is_ok();
}

Status parse_period(const json& p, const std::string& path, consent::NewConsent& out) {
  const json* period = member(p, "period");
  if (period == nullptr) return refuse(path + ".period", "required");
  if (!period->is_object()) return refuse(path + ".period", "must be a Period");
  BRUG_RETURN_IF_ERROR(only_keys(*period, path + ".period", {"start", "end"}, "not supported"));
  auto start = date_at(*period, "start", path + ".period");
  if (!start) return start.status();
  auto end = date_at(*period, "end", path + ".period");
  if (!end) return end.status();
  if (*end < *start) return refuse(path + ".period.end", "is before period.start");
  out.valid_from = *start;
  out.valid_until = *end;
  return Status::ok();
}

Status parse_actor(const json& p, const std::string& path, consent::NewConsent& out) {
  const json* actors = array_member(p, "actor");
  if (actors == nullptr || actors->size() != 1) {
    return refuse(path + ".actor", "exactly one actor (the grantee) is supported");
  }
  const json& actor = (*actors)[0];
  const std::string apath = at(path + ".actor", 0);
  if (!actor.is_object()) return refuse(apath, "must be an object");
  BRUG_RETURN_IF_ERROR(only_keys(actor, apath, {"role", "reference"}, "not supported"));
  const json* role = member(actor, "role");
  if (role == nullptr || !has_coding(*role, kParticipationTypeSystem, kRecipientRole)) {
    return refuse(apath + ".role", "must be IRCP (v3-ParticipationType): the recipient");
  }
  const json* ref = member(actor, "reference");
  if (ref == nullptr) return refuse(apath + ".reference", "required");
  auto grantee = organization_id(*ref, apath + ".reference");
  if (!grantee) return grantee.status();
  out.grantee = std::move(*grantee);
  return Status::ok();
}

// brug consent is consent to receive the data: access or disclose, nothing else.
Status check_actions(const json& p, const std::string& path) {
  const json* actions = member(p, "action");
  if (actions == nullptr) return Status::ok();
  if (!actions->is_array()) return refuse(path + ".action", "must be an array");
  for (std::size_t i = 0; i < actions->size(); ++i) {
    const std::string code = code_in((*actions)[i], kConsentActionSystem);
    if (code != "access" && code != "disclose") {
      return refuse(at(path + ".action", i), "only consentaction access or disclose is supported");
    }
  }
  return Status::ok();
}

Status parse_purpose(const json& p, const std::string& path, consent::NewConsent& out) {
  const json* purposes = array_member(p, "purpose");
  if (purposes == nullptr || purposes->size() != 1) {
    return refuse(path + ".purpose", "exactly one purpose is required");
  }
  const json& c = (*purposes)[0];
  const std::string cpath = at(path + ".purpose", 0);
  if (!c.is_object() || text_of(c, "system") != kFhirPurposeSystem) {
    return refuse(cpath + ".system", "must be urn:brug:purpose");
  }
  auto purpose = ::brug::parse_purpose(text_of(c, "code"));
  if (!purpose) return refuse(cpath + ".code", "unknown purpose");
  out.purpose = *purpose;
  return Status::ok();
}

Status parse_classes(const json& p, const std::string& path, consent::NewConsent& out) {
  const json* classes = array_member(p, "class");
  if (classes == nullptr || classes->empty()) {
    return refuse(path + ".class", "at least one data category is required");
  }
  for (std::size_t i = 0; i < classes->size(); ++i) {
    const json& c = (*classes)[i];
    const std::string cpath = at(path + ".class", i);
    if (!c.is_object() || text_of(c, "system") != kFhirCategorySystem) {
      return refuse(cpath + ".system", "must be urn:brug:category");
    }
    auto category = parse_category(text_of(c, "code"));
    if (!category) return refuse(cpath + ".code", "unknown data category");
    out.categories.emplace_back(to_string(*category));
  }
  std::sort(out.categories.begin(), out.categories.end());
  out.categories.erase(std::unique(out.categories.begin(), out.categories.end()),
                       out.categories.end());
  return Status::ok();
}

// The root `deny` provision and its one nested `permit`: brug's default deny with one grant.
Status parse_provision(const json& r, consent::NewConsent& out) {
  const json* root = member(r, "provision");
  const std::string path = "Consent.provision";
  if (root == nullptr) return refuse(path, "required");
  if (!root->is_object()) return refuse(path, "must be an object");
  if (!root->contains("type") || (*root)["type"] != "deny") {
    return refuse(path + ".type", "the root provision must be deny (default deny)");
  }
  BRUG_RETURN_IF_ERROR(only_keys(
      *root, path, {"id", "type", "provision"},
      "conditions on the root provision are not supported; put them in the nested permit"));
  const json* nested = array_member(*root, "provision");
  if (nested == nullptr || nested->size() != 1) {
    return refuse(path + ".provision", "exactly one nested permit provision is supported");
  }
  const json& p = (*nested)[0];
  const std::string ppath = at(path + ".provision", 0);
  if (!p.is_object()) return refuse(ppath, "must be an object");
  if (!p.contains("type") || p["type"] != "permit") {
    return refuse(ppath + ".type", "only a permit provision is supported under the root deny");
  }
  if (p.contains("provision")) {
    return refuse(ppath + ".provision", "provisions nested in a permit are not supported");
  }
  BRUG_RETURN_IF_ERROR(only_keys(p, ppath,
                                 {"id", "type", "period", "actor", "action", "purpose", "class"},
                                 "not supported: brug cannot represent this restriction"));
  BRUG_RETURN_IF_ERROR(parse_period(p, ppath, out));
  BRUG_RETURN_IF_ERROR(parse_actor(p, ppath, out));
  BRUG_RETURN_IF_ERROR(check_actions(p, ppath));
  BRUG_RETURN_IF_ERROR(parse_purpose(p, ppath, out));
  return parse_classes(p, ppath, out);
}

Status parse_evidence(const json& r, consent::NewConsent& out) {
  const std::string path = "Consent.sourceReference";
  const json* source = member(r, "sourceReference");
  if (source == nullptr) return refuse(path, "required: the evidence of the consent");
  if (!source->is_object()) return refuse(path, "must be a Reference");
  const json* id = member(*source, "identifier");
  if (id == nullptr || !id->is_object()) return refuse(path + ".identifier", "required");
  const std::string ipath = path + ".identifier";
  if (text_of(*id, "system") != kFhirEvidenceSystem) {
    return refuse(ipath + ".system", "must be urn:brug:evidence");
  }
  const json* type = member(*id, "type");
  auto method = type == nullptr
                    ? std::nullopt
                    : consent::parse_evidence_method(code_in(*type, kFhirEvidenceMethodSystem));
  if (!method)
    return refuse(ipath + ".type", "must name the evidence method (urn:brug:evidence-method)");
  auto reference = required_string(*id, "value", ipath);
  if (!reference) return reference.status();
  out.evidence = {*method, std::move(*reference)};
  return Status::ok();
}

Status parse_header(const json& r, FhirConsentImport& out) {
  const json* status = member(r, "status");
  if (status == nullptr) return refuse("Consent.status", "required");
  if (*status == "active") {
    out.active = true;
  } else if (*status == "inactive") {
    out.active = false;
  } else {
    return refuse("Consent.status", "only an active or inactive consent can be imported");
  }
  const json* scope = member(r, "scope");
  if (scope == nullptr || !has_coding(*scope, kConsentScopeSystem, "patient-privacy")) {
    return refuse("Consent.scope", "must be patient-privacy (consentscope)");
  }
  const json* categories = array_member(r, "category");
  if (categories == nullptr || categories->empty()) {
    return refuse("Consent.category", "at least one category is required");
  }
  const json* patient = member(r, "patient");
  if (patient == nullptr || !patient->is_object()) return refuse("Consent.patient", "required");
  // A patient who is only displayed (an answer that may not name the person): the caller
  // identifies the person itself, as `brug consent import --bsn` does.
  const json* display = member(*patient, "display");
  if (member(*patient, "reference") == nullptr && display != nullptr && display->is_string() &&
      !display->get_ref<const std::string&>().empty()) {
    out.patient_reference.clear();
    return Status::ok();
  }
  auto patient_ref = required_string(*patient, "reference", "Consent.patient");
  if (!patient_ref) return patient_ref.status();
  out.patient_reference = std::move(*patient_ref);
  return Status::ok();
}

Status parse_record(const json& r, FhirConsentImport& out) {
  if (const json* orgs = member(r, "organization")) {
    if (!orgs->is_array() || orgs->size() != 1) {
      return refuse("Consent.organization", "exactly one custodian organisation is supported");
    }
    auto org = organization_id((*orgs)[0], "Consent.organization[0]");
    if (!org) return org.status();
    out.recorded_by = std::move(*org);
  }
  if (const json* when = member(r, "dateTime")) {
    if (!is_timestamp(*when)) return refuse("Consent.dateTime", "must be a full RFC 3339 time");
    out.recorded_at = when->get<std::string>();
  }
  if (const json* ids = array_member(r, "identifier")) {
    for (const json& id : *ids) {
      if (id.is_object() && text_of(id, "system") == kFhirConsentIdSystem) {
        const json* value = member(id, "value");
        if (value == nullptr || !value->is_string()) {
          return refuse("Consent.identifier.value", "must be a string");
        }
        out.consent_id = value->get<std::string>();
      }
    }
  }
  return Status::ok();
}

// brug's withdrawal extension; other (non-modifier) extensions may be ignored, as FHIR allows.
Status parse_withdrawal(const json& r, FhirConsentImport& out) {
  const json* extensions = array_member(r, "extension");
  if (extensions == nullptr) return Status::ok();
  for (std::size_t i = 0; i < extensions->size(); ++i) {
    const json& e = (*extensions)[i];
    if (!e.is_object() || text_of(e, "url") != kFhirWithdrawalExtension) continue;
    const std::string path = at("Consent.extension", i);
    const json* parts = array_member(e, "extension");
    if (parts == nullptr) return refuse(path + ".extension", "required: at and by");
    consent::ConsentEvent event{consent::EventKind::kWithdrawn, {}, {}};
    for (std::size_t j = 0; j < parts->size(); ++j) {
      const json& part = (*parts)[j];
      const std::string ppath = at(path + ".extension", j);
      if (!part.is_object()) return refuse(ppath, "must be an Extension");
      if (text_of(part, "url") == "at") {
        const json* v = member(part, "valueDateTime");
        if (v == nullptr || !is_timestamp(*v)) {
          return refuse(ppath + ".valueDateTime", "must be a full RFC 3339 time");
        }
        event.at = v->get<std::string>();
      } else if (text_of(part, "url") == "by") {
        const json* v = member(part, "valueReference");
        if (v == nullptr) return refuse(ppath + ".valueReference", "required");
        auto org = organization_id(*v, ppath + ".valueReference");
        if (!org) return org.status();
        event.actor = std::move(*org);
      } else {
        return refuse(ppath + ".url", "must be at or by");
      }
    }
    if (event.at.empty() || event.actor.empty()) {
      return refuse(path + ".extension", "required: at and by");
    }
    out.withdrawal = std::move(event);
  }
  if (out.withdrawal && out.active) {
    return refuse("Consent.status", "is active but the consent carries a withdrawal");
  }
  return Status::ok();
}

}  // namespace

Result<FhirConsentImport> from_fhir_consent(const json& r) {
  if (!r.is_object()) return refuse("Consent", "must be a JSON object");
  if (!r.contains("resourceType") || r["resourceType"] != "Consent") {
    return refuse("Consent.resourceType", "must be Consent");
  }
  // Elements that change the meaning of the rest (implicitRules, modifierExtension), or that
  // carry what brug cannot keep (sourceAttachment, contained), are refused, not dropped.
  BRUG_RETURN_IF_ERROR(
      only_keys(r, "Consent",
                {"resourceType", "id", "meta", "text", "language", "identifier", "extension",
                 "status", "scope", "category", "patient", "dateTime", "performer", "organization",
                 "sourceReference", "policy", "policyRule", "verification", "provision"},
                "not supported"));
  FhirConsentImport out;
  BRUG_RETURN_IF_ERROR(parse_header(r, out));
  BRUG_RETURN_IF_ERROR(parse_provision(r, out.consent));
  BRUG_RETURN_IF_ERROR(parse_evidence(r, out.consent));
  BRUG_RETURN_IF_ERROR(parse_record(r, out));
  BRUG_RETURN_IF_ERROR(parse_withdrawal(r, out));
  return out;
}

}  // namespace brug::adapters
