// The portal's web files (gateway/portal/web/), compiled into the binary at build time.
#pragma once

#include <string_view>
#include <vector>

namespace brug::portal {

struct WebAsset {
  std::string_view name;  // file name, e.g. "app.js"
  std::string_view bytes;
};

const std::vector<WebAsset>& web_assets();

}  // namespace brug::portal
