#include "gateway/portal/labels.h"

#include <map>

namespace brug::portal {
namespace {

const std::map<std::string_view, std::string_view>& fields() {
  static const std::map<std::string_view, std::string_view> kFields = {
      {"voornaam", "Voornaam"},
      {"tussenvoegsel", "Tussenvoegsel"},
      {"achternaam", "Achternaam"},
      {"adres", "Adres"},
      {"telefoon", "Telefoon"},
      {"email", "E-mail"},
      {"geboortedatum", "Geboortedatum"},
      {"leeftijdsgroep", "Leeftijd"},
      {"postcode", "Postcode"},
      {"postcode4", "Postcode (4 cijfers)"},
      {"woonplaats", "Woonplaats"},
      {"doelgroep", "Doelgroep"},
      {"participatieladder", "Trede participatieladder"},
      {"uitkering", "Uitkering"},
      {"uitkering_duur", "Duur uitkering"},
      {"statushouder", "Statushouder"},
      {"taalniveau", "Taalniveau Nederlands"},
      {"opleidingsniveau", "Opleiding"},
      {"werkervaring", "Werkervaring"},
      {"interesses", "Interesses"},
      {"competenties", "Competenties"},
      {"beschikbaarheid", "Beschikbaar (uur per week)"},
      {"rijbewijs", "Rijbewijs B"},
      {"status", "Status"},
      {"date", "Datum"},
      {"reden_gestopt", "Reden gestopt"},
      {"contract", "Contract"},
      {"uren_per_week", "Uren per week"},
      {"toelichting", "Toelichting"},
  };
  return kFields;
}

const std::map<std::string_view, std::string_view>& values() {
  static const std::map<std::string_view, std::string_view> kValues = {
      {"betaald-werk-nu", "Betaald werk nu"},
      {"betaald-werk-termijn", "Betaald werk op termijn"},
      {"participatie", "Meedoen (vrijwilligerswerk)"},
      {"zorg", "Zorg nodig"},
      {"in-begeleiding", "In begeleiding"},
      {"jobgroup", "JobGroup"},
      {"betaald-werk", "Betaald werk"},
      {"zzp-opdracht", "ZZP-opdracht"},
      {"persoonlijke-omstandigheden", "Persoonlijke omstandigheden"},
      {"geen-contact-meer", "Geen contact meer"},
      {"andere-voorziening", "Andere voorziening"},
      {"eigen-keuze", "Eigen keuze"},
      {"ww", "WW"},
      {"havo-vwo", "Havo/vwo"},
      {"mbo-1", "Mbo 1"},
      {"mbo-2", "Mbo 2"},
      {"mbo-3", "Mbo 3"},
      {"mbo-4", "Mbo 4"},
      {"hbo", "Hbo"},
      {"wo", "Wo"},
      {"ict", "ICT"},
      {"zorg-en-welzijn", "Zorg en welzijn"},
      {"digitaal-vaardig", "Digitaal vaardig"},
  };
  return kValues;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string field_label(std::string_view field) {
  const auto it = fields().find(field);
  return std::string(it == fields().end() ? field : it->second);
}

std::string value_label(std::string_view value) {
  const auto it = values().find(value);
  if (it != values().end()) return std::string(it->second);
  std::string out(value);
  for (char& c : out) {
    if (c == '-') c = ' ';
  }
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

std::string dutch_problems(std::string_view problems) {
  // English problem (prefix) -> Dutch; anything unknown stays as it was.
  static constexpr std::pair<std::string_view, std::string_view> kProblems[] = {
      {"is required when", "vul dit in bij deze status"},
      {"is required", "vul dit in"},
      {"is allowed only", "hoort niet bij deze status"},
      {"is not one of the choices", "kies een van de mogelijkheden"},
      {"must be one of", "kies een van de mogelijkheden"},
      {"must be a date", "geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"},
      {"must be a whole number", "moet een heel getal zijn"},
      {"must be an integer from", "getal buiten het toegestane bereik"},
      {"is not a field of", "onbekend veld"},
  };
  std::string out;
  while (!problems.empty()) {
    const std::size_t end = problems.find("; ");
    std::string_view one = problems.substr(0, end);
    problems = end == std::string_view::npos ? std::string_view() : problems.substr(end + 2);
    const std::size_t colon = one.find(": ");
    std::string text(one);
    if (colon != std::string_view::npos) {
      const std::string_view problem = one.substr(colon + 2);
      text = field_label(one.substr(0, colon)) + ": ";
      std::string dutch(problem);
      for (const auto& [en, nl] : kProblems) {
        if (problem.starts_with(en)) {
          dutch = std::string(nl);
          break;
        }
      }
      text += dutch;
    }
    out += (out.empty() ? "" : "; ") + text;
  }
  return out;
}

bool is_choice_field(std::string_view field) {
  static constexpr std::string_view kChoices[] = {
      "doelgroep",  "uitkering",    "uitkering_duur", "taalniveau",    "opleidingsniveau",
      "interesses", "competenties", "status",         "reden_gestopt", "contract"};
  for (std::string_view c : kChoices) {
    if (c == field) return true;
  }
  return false;
}

bool same_text(std::string_view a, std::string_view b) {
  a = trim(a);
  b = trim(b);
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace brug::portal
