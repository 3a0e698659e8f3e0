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
      {2,
       "consents",
       {
           // A consent row is written once; its life is the append-only consent_events table.
           R"(CREATE TABLE consents (
                id TEXT PRIMARY KEY,
                participant TEXT NOT NULL,
                grantee TEXT NOT NULL REFERENCES organisations(id),
                purpose TEXT NOT NULL,
                categories TEXT NOT NULL,
                valid_from TEXT NOT NULL,
                valid_until TEXT NOT NULL,
                evidence_method TEXT NOT NULL,
                evidence_reference TEXT NOT NULL,
                recorded_by TEXT NOT NULL REFERENCES organisations(id),
                recorded_at TEXT NOT NULL))",
           "CREATE INDEX consents_by_grant ON consents (participant, grantee, purpose)",
           R"(CREATE TABLE consent_events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                consent_id TEXT NOT NULL REFERENCES consents(id),
                kind TEXT NOT NULL CHECK (kind IN ('given', 'withdrawn', 'reaffirmed')),
                at TEXT NOT NULL,
                actor TEXT NOT NULL REFERENCES organisations(id)))",
           "CREATE INDEX consent_events_by_consent ON consent_events (consent_id, seq)",
           // At most one withdrawal per consent, whatever races.
           "CREATE UNIQUE INDEX consent_one_withdrawal ON consent_events (consent_id) "
           "WHERE kind = 'withdrawn'",
           "CREATE TRIGGER consents_immutable BEFORE UPDATE ON consents "
           "BEGIN SELECT RAISE(ABORT, 'consents are immutable'); END",
           "CREATE TRIGGER consents_kept BEFORE DELETE ON consents "
           "BEGIN SELECT RAISE(ABORT, 'consents are kept'); END",
           "CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events "
           "BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END",
           "CREATE TRIGGER consent_events_kept BEFORE DELETE ON consent_events "
           "BEGIN SELECT RAISE(ABORT, 'consent events are kept'); END",
       }},
  };
  return kMigrations;
}

}  // namespace brug::adapters
