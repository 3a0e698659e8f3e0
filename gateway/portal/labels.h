// Plain Dutch names for catalogue fields and values, for people who never see a catalogue key.
#pragma once

#include <string>
#include <string_view>

namespace brug::portal {

// "postcode4" -> "Postcode (4 cijfers)"; an unknown field keeps its own name.
std::string field_label(std::string_view field);
// "betaald-werk-termijn" -> "Betaald werk op termijn"; unknown values get a capital and spaces.
std::string value_label(std::string_view value);
// A wire value back from its label or the wire value itself (ignoring case and spaces), for
// CSV files filled in by hand; empty when neither matches one of `allowed`.
template <class Range>
std::string value_from_text(std::string_view text, const Range& allowed);

// A problem list from the catalogue or the outcome form ("field: problem; ...") in Dutch with
// the fields' labels, for the web app ("Reden gestopt: vul dit in bij deze status").
std::string dutch_problems(std::string_view problems);

// True for catalogue fields whose values come from a fixed list (shown by their label).
bool is_choice_field(std::string_view field);

bool same_text(std::string_view a, std::string_view b);

template <class Range>
std::string value_from_text(std::string_view text, const Range& allowed) {
  for (const auto& v : allowed) {
    if (same_text(text, v) || same_text(text, value_label(v))) return std::string(v);
  }
  return {};
}

}  // namespace brug::portal
