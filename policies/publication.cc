#include "policies/publication.h"

namespace brug {

std::chrono::sys_days publication_day(std::chrono::sys_days last_day, int delay_days) {
  return last_day + std::chrono::days(delay_days + 1);
}

bool counts_for_period(std::chrono::system_clock::time_point received,
                       std::chrono::sys_days last_day, int delay_days) {
  return received < publication_day(last_day, delay_days);
}

}  // namespace brug
