#include "policies/vocabulary.h"

#include <array>
#include <utility>

namespace brug {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 4> kRoles{{
    {Role::kGemeente, "gemeente"},
    {Role::kParticipatiebedrijf, "participatiebedrijf"},
    {Role::kProject, "project"},
    {Role::kAuditor, "auditor"},
}};

constexpr std::array<std::pair<Purpose, std::string_view>, 5> kPurposes{{
    {Purpose::kBegeleidingNaarWerk, "begeleiding-naar-werk"},
    {Purpose::kResultaatverantwoording, "resultaatverantwoording"},
    {Purpose::kMonitoring, "monitoring"},
    {Purpose::kUitvoeringParticipatiewet, "uitvoering-participatiewet"},
    {Purpose::kToezicht, "toezicht"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view text) {
  for (const auto& [v, name] : table) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Role role) { return name_of(kRoles, role); }
std::string_view to_string(Purpose purpose) { return name_of(kPurposes, purpose); }
std::optional<Role> parse_role(std::string_view text) { return value_of(kRoles, text); }
std::optional<Purpose> parse_purpose(std::string_view text) { return value_of(kPurposes, text); }

}  // namespace brug
