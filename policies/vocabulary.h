// The closed vocabularies of the domain: organisation roles and processing purposes.
// See docs/GLOSSARY.md for the Dutch terms.
#pragma once

#include <optional>
#include <string_view>

namespace brug {

// What kind of party an organisation is; decides which endpoints it may call.
enum class Role { kGemeente, kParticipatiebedrijf, kProject, kAuditor };

// Why data is processed (doelbinding). Every disclosure names exactly one.
enum class Purpose {
  kBegeleidingNaarWerk,        // a project guides a participant to work (consent)
  kResultaatverantwoording,    // individual outcomes back to the gemeente (consent)
  kMonitoring,                 // aggregate counts, small cells suppressed
  kUitvoeringParticipatiewet,  // gemeente <-> participatiebedrijf (public task)
  kToezicht,                   // auditors read the log
};

std::string_view to_string(Role role);
std::string_view to_string(Purpose purpose);
// The wire names: "gemeente", "participatiebedrijf", "project", "auditor".
std::optional<Role> parse_role(std::string_view text);
// The wire names: "begeleiding-naar-werk", "resultaatverantwoording", "monitoring",
// "uitvoering-participatiewet", "toezicht".
std::optional<Purpose> parse_purpose(std::string_view text);

}  // namespace brug
