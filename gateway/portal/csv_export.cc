#include "gateway/portal/csv_export.h"

#include <algorithm>
#include <set>

#include "gateway/portal/labels.h"

namespace brug::portal {

using nlohmann::json;

namespace {

// The order a coordinator reads a person in; fields not named here follow alphabetically.
constexpr const char* kOrder[] = {
    "voornaam",     "tussenvoegsel",    "achternaam",      "leeftijdsgroep", "woonplaats",
    "postcode4",    "telefoon",         "email",           "doelgroep",      "participatieladder",
    "taalniveau",   "opleidingsniveau", "beschikbaarheid", "rijbewijs",      "interesses",
    "competenties", "werkervaring"};

std::string csv_cell(std::string v) {
  // A cell that a spreadsheet would run as a formula is prefixed with a quote character.
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v = "'" + v;
  if (v.find_first_of(";\"\r\n") == std::string::npos && v.find('\t') == std::string::npos &&
      (v.empty() || (v.front() != ' ' && v.back() != ' '))) {
    return v;
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string display_value(const std::string& field, const json& v) {
  if (v.is_string()) {
    return is_choice_field(field) ? value_label(v.get<std::string>()) : v.get<std::string>();
  }
  if (v.is_boolean()) return v.get<bool>() ? "ja" : "nee";
  if (v.is_array()) {
    std::string out;
    for (const json& item : v) out += (out.empty() ? "" : ", ") + display_value(field, item);
    return out;
  }
  if (v.is_null()) return "";
  return v.dump();
}

PeopleTable people_table(const std::vector<Person>& people) {
  std::set<std::string> present;
  for (const Person& p : people) {
    if (!p.record.is_object()) continue;
    for (const auto& [k, v] : p.record.items()) present.insert(k);
  }
  PeopleTable t;
  for (const char* f : kOrder) {
    if (present.erase(f) > 0) t.fields.emplace_back(f);
  }
  t.fields.insert(t.fields.end(), present.begin(), present.end());
  t.columns.emplace_back("Referentie");
  for (const auto& f : t.fields) t.columns.push_back(field_label(f));
  t.columns.emplace_back("Laatste uitkomst");
  t.columns.emplace_back("Datum uitkomst");
  for (const Person& p : people) {
    if (!p.deleted_at.empty() || !p.record.is_object()) continue;
    std::vector<std::string> row{p.ref};
    for (const auto& f : t.fields) {
      row.push_back(p.record.contains(f) ? display_value(f, p.record[f]) : "");
    }
    row.push_back(p.outcome_status.empty() ? "" : value_label(p.outcome_status));
    row.push_back(p.outcome_date);
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string to_csv(const PeopleTable& table) {
  std::string out = "\xEF\xBB\xBF";
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? ";" : "") + csv_cell(cells[i]);
    out += "\r\n";
  };
  line(table.columns);
  for (const auto& row : table.rows) line(row);
  return out;
}

}  // namespace brug::portal
