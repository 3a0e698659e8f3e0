#include "adapters/storage.h"

namespace brug::adapters {

// Append only: a released migration is never edited, a change is a new version.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "organisations",
       {
           R"(CREATE TABLE organisations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN
                  ('gemeente', 'participatiebedrijf', 'project', 'auditor')),
                oin TEXT UNIQUE,
                cert_cn TEXT UNIQUE,
                active INTEGER NOT NULL DEFAULT 1,
                updated_at TEXT NOT NULL))",
       }},
  };
  return kMigrations;
}

}  // namespace brug::adapters
