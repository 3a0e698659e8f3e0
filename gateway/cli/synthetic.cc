#include "gateway/cli/synthetic.h"

#include <array>

namespace brug::gateway {
namespace {

bool passes_elfproef(const std::string& s) {
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += (9 - i) * (s[static_cast<std::size_t>(i)] - '0');
  return (sum - (s[8] - '0')) % 11 == 0;
}

// A small deterministic mix so the demo is the same every run.
std::uint32_t mix(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

template <std::size_t N>
const char* pick(const std::array<const char*, N>& list, std::uint32_t r) {
  return list[r % N];
}

}  // namespace

std::string synthetic_bsn(int n) {
  for (int k = 0; k < 100; ++k) {
    const std::string s = std::to_string(999900000 + n * 100 + k);
    if (passes_elfproef(s)) return s;
  }
  return {};
}

nlohmann::json synthetic_referral(int n) {
  static constexpr std::array kNames = {"Anna",   "Bram",  "Cees",    "Daan",  "Eva",  "Fatima",
                                        "Gert",   "Hanna", "Ibrahim", "Joke",  "Kees", "Lotte",
                                        "Mehmet", "Noor",  "Omar",    "Petra", "Ruud", "Sanne"};
  static constexpr std::array kPostcodes = {"7071AB", "7071KL", "7081CD", "7064EF",
                                            "7077GH", "7078JK", "7084LM", "7075NP"};
  static constexpr std::array kTaal = {"A0", "A1", "A2", "A2", "B1", "B1", "B2", "C1"};
  static constexpr std::array kUitkering = {"bijstand", "bijstand", "ww", "wajong", "geen"};
  const std::uint32_t r = mix(static_cast<std::uint32_t>(n) * 2654435761U + 17U);
  // Roughly as the plan splits its ~320 people: paid work now or in time, taking part, care.
  const std::uint32_t d = r % 100;
  const char* doelgroep = d < 15   ? "betaald-werk-nu"
                          : d < 55 ? "betaald-werk-termijn"
                          : d < 88 ? "participatie"
                                   : "zorg";
  const int ladder = d < 15 ? 4 : d < 55 ? 3 : d < 88 ? 2 : 1;
  const int year = 1960 + static_cast<int>((r >> 8) % 45);
  const int month = 1 + static_cast<int>((r >> 4) % 12);
  const int day = 1 + static_cast<int>((r >> 12) % 28);
  char birth[11];
  std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", year, month, day);
  nlohmann::json rec = {{"voornaam", pick(kNames, r >> 3)},     {"geboortedatum", birth},
                        {"postcode", pick(kPostcodes, r >> 5)}, {"doelgroep", doelgroep},
                        {"participatieladder", ladder},         {"taalniveau", pick(kTaal, r >> 7)},
                        {"uitkering", pick(kUitkering, r >> 9)}};
  if ((r >> 11) % 5 == 0) rec["gezondheid"] = "beperkt belastbaar";
  return rec;
}

}  // namespace brug::gateway
