#include "policies/vocabulary.h"

#include "crypto/name_table.h"

namespace brug {
namespace {

using brug::name_of;
using brug::value_of;
template <class E, std::size_t N>
using Table = brug::NameTable<E, N>;

constexpr Table<Role, kRoleCount> kRoles{{
    {Role::kGemeente, "gemeente"},
    {Role::kParticipatiebedrijf, "participatiebedrijf"},
    {Role::kProject, "project"},
    {Role::kAuditor, "auditor"},
}};

constexpr Table<Purpose, kPurposeCount> kPurposes{{
    {Purpose::kBegeleidingNaarWerk, "begeleiding-naar-werk"},
    {Purpose::kResultaatverantwoording, "resultaatverantwoording"},
    {Purpose::kMonitoring, "monitoring"},
    {Purpose::kUitvoeringParticipatiewet, "uitvoering-participatiewet"},
    {Purpose::kToezicht, "toezicht"},
}};

constexpr Table<RecordType, kRecordTypeCount> kRecordTypes{{
    {RecordType::kReferral, "referral"},
    {RecordType::kOutcome, "outcome"},
}};

constexpr Table<Category, kCategoryCount> kCategories{{
    {Category::kIdentificatie, "identificatie"},
    {Category::kContact, "contact"},
    {Category::kProfiel, "profiel"},
    {Category::kSegmentatie, "segmentatie"},
    {Category::kUitkomsten, "uitkomsten"},
    {Category::kGezondheid, "gezondheid"},
    {Category::kSchulden, "schulden"},
    {Category::kNotities, "notities"},
}};

}  // namespace

std::string_view to_string(Role role) { return name_of(kRoles, role); }
std::string_view to_string(Purpose purpose) { return name_of(kPurposes, purpose); }
std::string_view to_string(RecordType record) { return name_of(kRecordTypes, record); }
std::string_view to_string(Category category) { return name_of(kCategories, category); }
std::optional<Role> parse_role(std::string_view text) { return value_of(kRoles, text); }
std::optional<Purpose> parse_purpose(std::string_view text) { return value_of(kPurposes, text); }
std::optional<RecordType> parse_record_type(std::string_view text) {
  return value_of(kRecordTypes, text);
}
std::optional<Category> parse_category(std::string_view text) {
  return value_of(kCategories, text);
}

std::string CategorySet::to_string() const {
  std::string out;
  for (const auto& [c, name] : kCategories) {
    if (!contains(c)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace brug
