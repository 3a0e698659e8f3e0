// Synthetic participants for the demo and the tests: no real people. BSNs come from
// 9999xxxxx and pass the elfproef; everything else is drawn from small lists with a seed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace brug::gateway {

// The first number in 999900000 + 100 n .. + 99 that passes the elfproef (n from 0 to 999).
std::string synthetic_bsn(int n);

// A referral record of the catalogue for participant n: name, birth date, postcode in the
// Achterhoek, doelgroep split roughly as the Oude IJsselstreek plan, ladder rung to match,
// language level, benefit, and for some a health note (a special category).
nlohmann::json synthetic_referral(int n);

}  // namespace brug::gateway
