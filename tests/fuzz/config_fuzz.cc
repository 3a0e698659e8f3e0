// Fuzz target for brug.json (gateway/app/config): any bytes as the configuration file. It loads,
// or it is refused as "FILE:LINE: key: what is wrong".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/app/config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using brug::fuzz::require;
  const std::string path = brug::fuzz::scratch_file(
      "brug.json", std::string_view(reinterpret_cast<const char*>(data), size));
  auto config = brug::gateway::load_config(path);
  if (!config) {
    require(config.code() == brug::Code::kInvalidArgument, "config: error of another kind");
    require(config.message().rfind(path + ":", 0) == 0, "config: error without FILE:LINE");
    return 0;
  }
  require(config->file == path, "config: loaded from elsewhere");
  require(config->threads > 0 && config->max_body_bytes > 0 && config->timeout_s > 0,
          "config: a limit that cannot work");
  return 0;
}
