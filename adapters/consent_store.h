// The consent store over Storage (tables consents and consent_events, migration 2).
#pragma once

#include <memory>

#include "adapters/storage.h"
#include "consent/store.h"

namespace brug::adapters {

std::unique_ptr<consent::ConsentStore> make_sql_consent_store(Storage& storage);

}  // namespace brug::adapters
