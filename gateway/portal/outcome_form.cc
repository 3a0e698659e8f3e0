#include "gateway/portal/outcome_form.h"

#include "gateway/portal/labels.h"

namespace brug::portal {

using nlohmann::json;

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// YYYY-MM-DD as is; D-M-YYYY (with - / or .) becomes YYYY-MM-DD; else empty.
std::string iso_date(const std::string& s) {
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') return s;
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == '-' || c == '/' || c == '.') {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  if (parts.size() != 3 || parts[2].size() != 4) return {};
  for (const auto& p : parts) {
    if (!all_digits(p)) return {};
  }
  if (parts[0].size() > 2 || parts[1].size() > 2) return {};
  const auto two = [](const std::string& p) { return p.size() == 1 ? "0" + p : p; };
  return parts[2] + "-" + two(parts[1]) + "-" + two(parts[0]);
}

}  // namespace

Result<json> outcome_record(const Catalogue& catalogue,
                            const std::map<std::string, std::string>& inputs) {
  json record = json::object();
  std::string problems;
  const auto problem = [&](const std::string& field, const std::string& why) {
    problems += (problems.empty() ? "" : "; ") + field + ": " + why;
  };
  for (const auto& [field, raw] : inputs) {
    const std::string text = trimmed(raw);
    if (text.empty()) continue;
    const FieldSpec* spec = catalogue.find(RecordType::kOutcome, field);
    if (spec == nullptr || field == "toelichting") {
      problem(field, "is not a field of an outcome");
      continue;
    }
    switch (spec->type) {
      case FieldType::kEnum: {
        const std::string v = value_from_text(text, spec->values);
        if (v.empty()) {
          problem(field, "is not one of the choices");
        } else {
          record[field] = v;
        }
        break;
      }
      case FieldType::kInteger:
        if (!all_digits(text) || text.size() > 6) {
          problem(field, "must be a whole number");
        } else {
          record[field] = std::stoll(text);
        }
        break;
      case FieldType::kDate: {
        const std::string d = iso_date(text);
        if (d.empty()) {
          problem(field, "must be a date (YYYY-MM-DD or DD-MM-YYYY)");
        } else {
          record[field] = d;
        }
        break;
      }
      default:
        record[field] = text;
    }
  }
  if (problems.empty()) {
    for (const FieldError& e : catalogue.validate(RecordType::kOutcome, record)) {
      problems += (problems.empty() ? "" : "; ") + e.to_string();
    }
  }
  if (!problems.empty()) return Status::error(Code::kInvalidArgument, problems);
  return record;
}

std::vector<Result<std::string>> push_outcomes(gateway::GatewayClient& client, LocalStore& store,
                                               const std::vector<OutcomeToPush>& outcomes) {
  std::vector<Result<std::string>> results(
      outcomes.size(), Result<std::string>(Status::error(Code::kInternal, "not sent")));
  json items = json::array();
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto pseudonym = store.pseudonym_of(outcomes[i].ref);
    if (!pseudonym) {
      results[i] = Status::error(Code::kNotFound, "no person with this reference (or deleted)");
      continue;
    }
    json item = outcomes[i].record;
    item["subject"] = {{"pseudonym", *pseudonym}};
    items.push_back(std::move(item));
    sent.push_back(i);
  }
  if (sent.empty()) return results;
  const json body = {{"items", items}};
  auto answer = client.json_call("POST", "/v1/outcomes", &body);
  for (std::size_t k = 0; k < sent.size(); ++k) {
    const std::size_t i = sent[k];
    if (!answer) {
      results[i] = answer.status();
      continue;
    }
    const json& r = (*answer)["results"];
    if (!r.is_array() || k >= r.size() || !r[k].is_object()) {
      results[i] = Status::error(Code::kInternal, "the gateway's answer has no result for it");
      continue;
    }
    if (r[k].value("status", "") == "accepted") {
      const json& rec = outcomes[i].record;
      (void)store.note_outcome(outcomes[i].ref, rec.value("status", ""), rec.value("date", ""));
      results[i] = r[k].value("id", std::string("accepted"));
    } else {
      std::string why = "refused by the gateway";
      if (r[k].contains("problem") && r[k]["problem"].is_object()) {
        why += ": " + r[k]["problem"].value("detail", r[k]["problem"].value("title", ""));
      }
      results[i] = Status::error(Code::kFailedPrecondition, why);
    }
  }
  return results;
}

}  // namespace brug::portal
