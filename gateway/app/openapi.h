// The OpenAPI document (docs/openapi.yaml) compiled in, served at GET /v1/openapi.yaml.
#pragma once

#include <string_view>

namespace brug::gateway {

std::string_view openapi_yaml();

}  // namespace brug::gateway
