// The closed vocabularies of the domain: organisation roles, processing purposes, record types
// and data categories. See docs/GLOSSARY.md for the Dutch terms.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace brug {

// What kind of party an organisation is; decides which endpoints it may call.
enum class Role { kGemeente, kParticipatiebedrijf, kProject, kAuditor };
inline constexpr int kRoleCount = 4;

// Why data is processed (doelbinding). Every disclosure names exactly one.
enum class Purpose {
  kBegeleidingNaarWerk,        // a project guides a participant to work (consent)
  kResultaatverantwoording,    // individual outcomes back to the gemeente (consent)
  kMonitoring,                 // aggregate counts, small cells suppressed
  kUitvoeringParticipatiewet,  // gemeente <-> participatiebedrijf (public task)
  kToezicht,                   // auditors read the log
};
inline constexpr int kPurposeCount = 5;

// The kinds of record brug carries: an aanmelding (referral/profile) and a resultaat (outcome).
enum class RecordType { kReferral, kOutcome };
inline constexpr int kRecordTypeCount = 2;

// What a field says about a person. Consent is given per category; the last three are special
// categories (health, debts, case notes) that no policy permits without an explicit flag.
enum class Category {
  kIdentificatie,  // BSN: never leaves to a project
  kContact,        // name, phone, e-mail, address
  kProfiel,        // age, place, language, education, interests
  kSegmentatie,    // doelgroep, participatieladder, benefit
  kUitkomsten,     // outcome status, dates, hours
  kGezondheid,     // special: health
  kSchulden,       // special: debts
  kNotities,       // special: free case notes
};
inline constexpr int kCategoryCount = 8;

constexpr bool is_special(Category c) {
  return c == Category::kGezondheid || c == Category::kSchulden || c == Category::kNotities;
}

std::string_view to_string(Role role);
std::string_view to_string(Purpose purpose);
std::string_view to_string(RecordType record);
std::string_view to_string(Category category);
// The wire names: "gemeente", "participatiebedrijf", "project", "auditor".
std::optional<Role> parse_role(std::string_view text);
// The wire names: "begeleiding-naar-werk", "resultaatverantwoording", "monitoring",
// "uitvoering-participatiewet", "toezicht".
std::optional<Purpose> parse_purpose(std::string_view text);
// The wire names: "referral", "outcome".
std::optional<RecordType> parse_record_type(std::string_view text);
// The wire names: "identificatie", "contact", "profiel", "segmentatie", "uitkomsten",
// "gezondheid", "schulden", "notities".
std::optional<Category> parse_category(std::string_view text);

// A set of categories, e.g. those a consent covers. A value type of one machine word.
class CategorySet {
 public:
  constexpr CategorySet() = default;
  constexpr CategorySet(std::initializer_list<Category> categories) {
    for (Category c : categories) insert(c);
  }
  constexpr void insert(Category c) { bits_ |= bit(c); }
  constexpr bool contains(Category c) const { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const CategorySet&) const = default;
  // Comma-separated wire names in enum order, e.g. "contact,profiel".
  std::string to_string() const;

 private:
  static constexpr std::uint16_t bit(Category c) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(c));
  }
  std::uint16_t bits_ = 0;
};

}  // namespace brug
