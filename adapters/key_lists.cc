#include "adapters/key_lists.h"

#include <algorithm>

namespace brug::adapters {

Status refuse_control_characters(const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (std::any_of(k.begin(), k.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      return Status::error(Code::kInvalidArgument, "a key holds a control character");
    }
  }
  return Status::ok();
}

}  // namespace brug::adapters
