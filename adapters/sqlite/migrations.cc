#include "adapters/sqlite/storage.h"

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
      {3,
       "exchange",
       {
           // One row per participant: the data key wrapped by the KEK and the BSN sealed under
           // it. Erasure sets wrapped_key to NULL: every record of the participant becomes
           // unreadable (crypto-shredding).
           R"(CREATE TABLE participants (
                participant TEXT PRIMARY KEY,
                wrapped_key BLOB,
                sealed_bsn BLOB,
                created_at TEXT NOT NULL,
                erased_at TEXT))",
           R"(CREATE TABLE referrals (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                source_org TEXT NOT NULL REFERENCES organisations(id),
                source_ref TEXT NOT NULL,
                participant TEXT NOT NULL REFERENCES participants(participant),
                recipient TEXT NOT NULL REFERENCES organisations(id),
                purpose TEXT NOT NULL,
                sealed BLOB,
                fed INTEGER NOT NULL DEFAULT 0,
                received_at TEXT NOT NULL,
                UNIQUE (source_org, source_ref)))",
           "CREATE INDEX referrals_pending ON referrals (recipient, fed)",
           "CREATE INDEX referrals_by_participant ON referrals (participant, recipient)",
           R"(CREATE TABLE outcomes (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                project TEXT NOT NULL REFERENCES organisations(id),
                participant TEXT NOT NULL REFERENCES participants(participant),
                sealed BLOB,
                received_at TEXT NOT NULL))",
           "CREATE INDEX outcomes_by_participant ON outcomes (participant)",
           // The feeds: what is addressed to whom, in order. seq is the cursor.
           R"(CREATE TABLE feed_items (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                recipient TEXT NOT NULL REFERENCES organisations(id),
                kind TEXT NOT NULL CHECK (kind IN ('referral', 'deletion', 'outcome')),
                participant TEXT NOT NULL,
                ref_id TEXT,
                purpose TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           "CREATE INDEX feed_by_recipient ON feed_items (recipient, seq)",
           "CREATE UNIQUE INDEX feed_once ON feed_items (recipient, ref_id) WHERE ref_id IS NOT "
           "NULL",
       }},
      {4,
       "audit",
       {
           // The audit log: leaf idx is the event's position in the RFC 6962 tree. The leaf
           // bytes are what auditors verify; the other columns are copies for searching.
           R"(CREATE TABLE audit_events (
                idx INTEGER PRIMARY KEY,
                leaf BLOB NOT NULL,
                leaf_hash BLOB NOT NULL,
                time TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                purpose TEXT NOT NULL,
                subject TEXT NOT NULL,
                recipient TEXT NOT NULL,
                decision TEXT NOT NULL))",
           "CREATE INDEX audit_by_subject ON audit_events (subject, idx)",
           "CREATE INDEX audit_by_time ON audit_events (time)",
           // Perfect subtree hashes above the leaves: (level, index) covers leaves
           // [index << level, (index + 1) << level).
           R"(CREATE TABLE audit_nodes (
                level INTEGER NOT NULL,
                idx INTEGER NOT NULL,
                hash BLOB NOT NULL,
                PRIMARY KEY (level, idx)) WITHOUT ROWID)",
           R"(CREATE TABLE audit_checkpoints (
                size INTEGER PRIMARY KEY,
                root BLOB NOT NULL,
                time TEXT NOT NULL,
                key_id TEXT NOT NULL,
                signature BLOB NOT NULL))",
       }},
      {5,
       "audit subject index by block",
       {
           // One index over all subjects takes each new event at a random place: at 10^7
           // events every append then reads and rewrites a page of an index far larger than
           // the cache. Keyed first by block (4096 events), appends touch only the newest
           // block's few pages of the index; a search by subject seeks once per block.
           "DROP INDEX audit_by_subject",
           "CREATE INDEX audit_by_block_subject ON audit_events (idx >> 12, subject, idx)",
       }},
      {6,
       "referral content hash for idempotency",
       {
           // The same source_ref with other content is a conflict, not a duplicate. Rows from
           // before this migration have none and compare as a conflict only on another
           // recipient, purpose or participant.
           "ALTER TABLE referrals ADD COLUMN content_hash TEXT",
       }},
      {7,
       "erasure empties consent evidence references",
       {
           // A consent stays immutable except for one change: an erasure empties its evidence
           // reference (free text that may name the person).
           "DROP TRIGGER consents_immutable",
           "CREATE TRIGGER consents_immutable BEFORE UPDATE OF id, participant, grantee, purpose, "
           "categories, valid_from, valid_until, evidence_method, recorded_by, recorded_at "
           "ON consents BEGIN SELECT RAISE(ABORT, 'consents are immutable'); END",
           "CREATE TRIGGER consents_evidence_only_emptied BEFORE UPDATE OF evidence_reference "
           "ON consents WHEN NEW.evidence_reference <> '' "
           "BEGIN SELECT RAISE(ABORT, 'consents are immutable'); END",
       }},
      {8,
       "witness cosignatures of checkpoints",
       {
           R"(CREATE TABLE audit_cosignatures (
                size INTEGER NOT NULL,
                witness TEXT NOT NULL,
                line TEXT NOT NULL,
                PRIMARY KEY (size, witness)))",
       }},
      {9,
       "referrals found by participant number",
       {
           // An index keyed by the pseudonym takes each new referral at a random place: past
           // the cache every push rewrites about one page of it per referral (at 10^5
           // participants a third of the WAL a push writes). A participant gets a number in
           // the order of first sight; keyed by it, a new participant's referrals are appended.
           // participants.rowid is no such number: VACUUM may renumber it.
           "ALTER TABLE participants ADD COLUMN no INTEGER",
           "UPDATE participants SET no = rowid",
           "CREATE UNIQUE INDEX participants_by_no ON participants (no)",
           "ALTER TABLE referrals ADD COLUMN holder INTEGER",
           "UPDATE referrals SET holder = "
           "(SELECT no FROM participants p WHERE p.participant = referrals.participant)",
           "DROP INDEX referrals_by_participant",
           "CREATE INDEX referrals_by_holder ON referrals (holder, recipient)",
       }},
      {10,
       "feed items found by participant number",
       {
           // A withdrawal asks whether a participant's newest item in a recipient's feed is a
           // deletion notice, and an erasure removes the participant's outcome items from every
           // feed: no index led to a participant's items, so both read a recipient's whole feed
           // or every feed under the write lock (about 50 ms at 10^5 items, growing with it).
           "ALTER TABLE feed_items ADD COLUMN holder INTEGER",
           "UPDATE feed_items SET holder = "
           "(SELECT no FROM participants p WHERE p.participant = feed_items.participant)",
           "CREATE INDEX feed_by_holder ON feed_items (holder, recipient, seq)",
       }},
      {11,
       "outcomes waiting for their senders",
       {
           // Which outcome still has to reach which sender (an organisation that referred the
           // participant to the outcome's project), kept as outcomes and referrals are stored
           // and left when the outcome enters that sender's feed or is purged. Each feed pull of
           // a gemeente or participatiebedrijf looked for them over every outcome stored (about
           // 0.9 s at 10^5 outcomes, whoever asked).
           R"(CREATE TABLE outcome_routes (
                sender TEXT NOT NULL,
                outcome_seq INTEGER NOT NULL,
                PRIMARY KEY (sender, outcome_seq)) WITHOUT ROWID)",
           "CREATE INDEX outcome_routes_by_outcome ON outcome_routes (outcome_seq)",
           "INSERT OR IGNORE INTO outcome_routes (sender, outcome_seq) "
           "SELECT r.source_org, o.seq FROM outcomes o "
           "JOIN participants p ON p.participant = o.participant "
           "JOIN referrals r ON r.holder = p.no AND r.recipient = o.project "
           "WHERE o.sealed IS NOT NULL AND NOT EXISTS "
           "(SELECT 1 FROM feed_items f WHERE f.recipient = r.source_org AND f.ref_id = o.id)",
       }},
      {12,
       "audit nodes at every fourth level",
       {
           // Perfect subtree hashes are kept at levels 0, 4, 8, ... only; the levels between
           // are computed from them (gateway/audit/audit_log.cc). The others are redundant.
           "DELETE FROM audit_nodes WHERE level % 4 <> 0",
       }},
  };
  return kMigrations;
}

}  // namespace brug::adapters
