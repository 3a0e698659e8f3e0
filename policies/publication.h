// Frozen publications: a period's report is answered only once the period has closed and a delay
// for late outcomes has passed, and it counts only what arrived before that, so its answer never
// changes afterwards: asking again, or after one more outcome, teaches nothing (docs/REPORTS.md).
#pragma once

#include <chrono>

namespace brug {

inline constexpr int kDefaultPublicationDelayDays = 30;

// The first day (UTC) on which the report of a period that ends on `last_day` is answered.
std::chrono::sys_days publication_day(std::chrono::sys_days last_day, int delay_days);

// Whether something received at `received` counts for a period that ends on `last_day`: it
// arrived before the period's publication day began.
bool counts_for_period(std::chrono::system_clock::time_point received,
                       std::chrono::sys_days last_day, int delay_days);

}  // namespace brug
