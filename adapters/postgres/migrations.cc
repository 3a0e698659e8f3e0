// The PostgreSQL schema. Its own numbering: it starts where SQLite's migration 6 ended (the
// same tables and columns), written for PostgreSQL: bytea for sealed blobs and hashes, bigint
// positions, text compared byte-wise (COLLATE "C", as SQLite compares), triggers that keep
// consents and their events append-only, and the audit tree's state row that every write
// transaction locks (pg_storage.h).
#include "adapters/postgres/pg_storage.h"

namespace brug::adapters::pg {

// Append only: a released migration is never edited, a change is a new version.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "schema",
       {
           R"(CREATE TABLE organisations (
                id text COLLATE "C" PRIMARY KEY,
                name text NOT NULL,
                role text NOT NULL CHECK (role IN
                  ('gemeente', 'participatiebedrijf', 'project', 'auditor')),
                oin text UNIQUE,
                cert_cn text UNIQUE,
                active integer NOT NULL DEFAULT 1,
                updated_at text NOT NULL))",
           R"(CREATE TABLE consents (
                id text COLLATE "C" PRIMARY KEY,
                participant text NOT NULL,
                grantee text NOT NULL REFERENCES organisations(id),
                purpose text NOT NULL,
                categories text NOT NULL,
                valid_from text NOT NULL,
                valid_until text NOT NULL,
                evidence_method text NOT NULL,
                evidence_reference text NOT NULL,
                recorded_by text NOT NULL REFERENCES organisations(id),
                recorded_at text COLLATE "C" NOT NULL))",
           "CREATE INDEX consents_by_grant ON consents (participant, grantee, purpose)",
           "CREATE INDEX consents_by_participant ON consents (participant, recorded_at, id)",
           R"(CREATE TABLE consent_events (
                seq bigserial PRIMARY KEY,
                consent_id text NOT NULL REFERENCES consents(id),
                kind text NOT NULL CHECK (kind IN ('given', 'withdrawn', 'reaffirmed')),
                at text NOT NULL,
                actor text NOT NULL REFERENCES organisations(id)))",
           "CREATE INDEX consent_events_by_consent ON consent_events (consent_id, seq)",
           "CREATE UNIQUE INDEX consent_one_withdrawal ON consent_events (consent_id) "
           "WHERE kind = 'withdrawn'",
           R"(CREATE FUNCTION brug_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$)",
           "CREATE TRIGGER consents_immutable BEFORE UPDATE ON consents "
           "FOR EACH ROW EXECUTE FUNCTION brug_refuse('consents are immutable')",
           "CREATE TRIGGER consents_kept BEFORE DELETE ON consents "
           "FOR EACH ROW EXECUTE FUNCTION brug_refuse('consents are kept')",
           "CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events "
           "FOR EACH ROW EXECUTE FUNCTION brug_refuse('consent events are append-only')",
           "CREATE TRIGGER consent_events_kept BEFORE DELETE ON consent_events "
           "FOR EACH ROW EXECUTE FUNCTION brug_refuse('consent events are kept')",
           R"(CREATE TABLE participants (
                participant text PRIMARY KEY,
                wrapped_key bytea,
                sealed_bsn bytea,
                created_at text NOT NULL,
                erased_at text))",
           // seq orders a recipient's pending referrals; it is never a cursor kept by a client.
           R"(CREATE TABLE referrals (
                seq bigserial PRIMARY KEY,
                id text NOT NULL UNIQUE,
                source_org text COLLATE "C" NOT NULL REFERENCES organisations(id),
                source_ref text NOT NULL,
                participant text NOT NULL REFERENCES participants(participant),
                recipient text COLLATE "C" NOT NULL REFERENCES organisations(id),
                purpose text NOT NULL,
                sealed bytea,
                fed integer NOT NULL DEFAULT 0,
                content_hash text,
                received_at text NOT NULL,
                UNIQUE (source_org, source_ref)))",
           "CREATE INDEX referrals_pending ON referrals (recipient, seq) WHERE fed = 0",
           "CREATE INDEX referrals_by_participant ON referrals (participant, recipient)",
           R"(CREATE TABLE outcomes (
                seq bigserial PRIMARY KEY,
                id text NOT NULL UNIQUE,
                project text NOT NULL REFERENCES organisations(id),
                participant text NOT NULL REFERENCES participants(participant),
                sealed bytea,
                received_at text NOT NULL))",
           "CREATE INDEX outcomes_by_participant ON outcomes (participant)",
           // The feeds. seq is the cursor: taken from the sequence only inside a write
           // transaction, which holds the write lock until it commits, so positions become
           // visible in order (pg_storage.h).
           R"(CREATE TABLE feed_items (
                seq bigserial PRIMARY KEY,
                recipient text NOT NULL REFERENCES organisations(id),
                kind text NOT NULL CHECK (kind IN ('referral', 'deletion', 'outcome')),
                participant text NOT NULL,
                ref_id text,
                purpose text NOT NULL,
                created_at text NOT NULL))",
           "CREATE INDEX feed_by_recipient ON feed_items (recipient, seq)",
           "CREATE INDEX feed_by_participant ON feed_items (participant, recipient)",
           "CREATE UNIQUE INDEX feed_once ON feed_items (recipient, ref_id) "
           "WHERE ref_id IS NOT NULL",
           R"(CREATE TABLE audit_events (
                idx bigint PRIMARY KEY,
                leaf bytea NOT NULL,
                leaf_hash bytea NOT NULL,
                time text COLLATE "C" NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                purpose text NOT NULL,
                subject text NOT NULL,
                recipient text NOT NULL,
                decision text NOT NULL))",
           "CREATE INDEX audit_by_subject ON audit_events (subject, idx)",
           "CREATE INDEX audit_by_time ON audit_events (time)",
           R"(CREATE TABLE audit_nodes (
                level integer NOT NULL,
                idx bigint NOT NULL,
                hash bytea NOT NULL,
                PRIMARY KEY (level, idx)))",
           R"(CREATE TABLE audit_checkpoints (
                size bigint PRIMARY KEY,
                root bytea NOT NULL,
                time text NOT NULL,
                key_id text NOT NULL,
                signature bytea NOT NULL))",
           // The audit tree's state (Tessera's TreeState): its size. Every write transaction
           // takes this row FOR UPDATE first; appends move it on by the leaves they add.
           R"(CREATE TABLE audit_head (
                id integer PRIMARY KEY CHECK (id = 1),
                size bigint NOT NULL CHECK (size >= 0)))",
           "INSERT INTO audit_head (id, size) VALUES (1, 0)",
       }},
      {2,
       "erasure empties consent evidence references",
       {
           // A consent stays immutable except for one change: an erasure empties its evidence
           // reference (free text that may name the person).
           R"(CREATE FUNCTION brug_consent_update() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN
                IF (NEW.id, NEW.participant, NEW.grantee, NEW.purpose, NEW.categories,
                    NEW.valid_from, NEW.valid_until, NEW.evidence_method, NEW.recorded_by,
                    NEW.recorded_at)
                   IS DISTINCT FROM
                   (OLD.id, OLD.participant, OLD.grantee, OLD.purpose, OLD.categories,
                    OLD.valid_from, OLD.valid_until, OLD.evidence_method, OLD.recorded_by,
                    OLD.recorded_at)
                   OR (NEW.evidence_reference <> OLD.evidence_reference
                       AND NEW.evidence_reference <> '') THEN
                  RAISE EXCEPTION 'consents are immutable';
                END IF;
                RETURN NEW;
              END $$)",
           "DROP TRIGGER consents_immutable ON consents",
           "CREATE TRIGGER consents_immutable BEFORE UPDATE ON consents "
           "FOR EACH ROW EXECUTE FUNCTION brug_consent_update()",
       }},
      {3,
       "witness cosignatures of checkpoints",
       {
           R"(CREATE TABLE audit_cosignatures (
                size bigint NOT NULL,
                witness text COLLATE "C" NOT NULL,
                line text NOT NULL,
                PRIMARY KEY (size, witness)))",
       }},
      {4,
       "unfed referrals in a narrow table of their own",
       {
           // Marking a referral fed rewrote its whole row (the sealed record with it) and
           // every index entry: about 25 us a referral. A referral waits for its feed in this
           // narrow table instead, in arrival order, and leaves it by a DELETE when it enters
           // the feed or is purged.
           R"(CREATE TABLE referrals_unfed (
                seq bigserial PRIMARY KEY,
                id text NOT NULL UNIQUE,
                recipient text COLLATE "C" NOT NULL,
                participant text NOT NULL,
                purpose text NOT NULL,
                source_org text COLLATE "C" NOT NULL))",
           "CREATE INDEX referrals_unfed_by_recipient ON referrals_unfed (recipient, seq)",
           "INSERT INTO referrals_unfed (id, recipient, participant, purpose, source_org) "
           "SELECT id, recipient, participant, purpose, source_org FROM referrals "
           "WHERE fed = 0 AND sealed IS NOT NULL ORDER BY seq",
           "DROP INDEX referrals_pending",
           "ALTER TABLE referrals DROP COLUMN fed",
       }},
      {5,
       "outcomes waiting for their senders",
       {
           // Which outcome still has to reach which sender (an organisation that referred the
           // participant to the outcome's project), kept as outcomes and referrals are stored
           // and left when the outcome enters that sender's feed or is purged. Each feed pull of
           // a gemeente or participatiebedrijf looked for them over every outcome stored.
           R"(CREATE TABLE outcome_routes (
                sender text COLLATE "C" NOT NULL,
                outcome_seq bigint NOT NULL,
                PRIMARY KEY (sender, outcome_seq)))",
           "CREATE INDEX outcome_routes_by_outcome ON outcome_routes (outcome_seq)",
           "INSERT INTO outcome_routes (sender, outcome_seq) "
           "SELECT DISTINCT r.source_org, o.seq FROM outcomes o JOIN referrals r "
           "ON r.participant = o.participant AND r.recipient = o.project "
           "WHERE o.sealed IS NOT NULL AND NOT EXISTS "
           "(SELECT 1 FROM feed_items f WHERE f.recipient = r.source_org COLLATE \"default\" "
           "AND f.ref_id = o.id)",
       }},
      {6,
       "audit nodes at every fourth level",
       {
           // Perfect subtree hashes are kept at levels 0, 4, 8, ... only; the levels between
           // are computed from them (gateway/audit/audit_log.cc). The others are redundant.
           "DELETE FROM audit_nodes WHERE level % 4 <> 0",
       }},
      {7,
       "audit indexes that appends extend at their end",
       {
           // Every event went into the subject index at a random place: a page read, changed
           // and (first time after a checkpoint) written whole to the WAL per event. Keyed
           // first by block of 4096 events, as SQLite's, appends touch only the newest block's
           // pages; a search by subject seeks once per block. (IF EXISTS: a database set back
           // to an older schema by hand runs this again.)
           "DROP INDEX IF EXISTS audit_by_subject",
           "CREATE INDEX IF NOT EXISTS audit_by_block_subject ON audit_events "
           "((idx >> 12), subject, idx)",
           // Event times rise with the index: a block range index (a few pages for the whole
           // log) finds a time range as well as a B-tree over every event did.
           "DROP INDEX IF EXISTS audit_by_time",
           "CREATE INDEX audit_by_time ON audit_events USING brin (time)",
       }},
  };
  return kMigrations;
}

}  // namespace brug::adapters::pg
