#include "adapters/consent_rows.h"

namespace brug::adapters::consent_rows {

std::string join(const std::vector<std::string>& categories) {
  std::string out;
  for (const auto& c : categories) out += (out.empty() ? "" : ",") + c;
  return out;
}

std::vector<std::string> split(const std::string& stored) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= stored.size() && !stored.empty()) {
    const std::size_t end = stored.find(',', start);
    out.push_back(stored.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Status corrupt(const std::string& id, const std::string& what) {
  return Status::error(Code::kCorrupt, "consent " + id + ": stored " + what + " is unreadable");
}

}  // namespace brug::adapters::consent_rows
