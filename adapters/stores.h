// The domain stores: what the gateway keeps, in the gateway's own words. Every backend
// (adapters/sqlite/, adapters/postgres/) implements these interfaces with its own SQL and
// migrations, and must pass the conformance suite in adapters/testing/.
//
// All work happens inside a transaction of a Database: Database::write gives the callback one
// transaction over every store, so what a request stores and the audit events of that request
// commit together or not at all.
//
// A transaction callback MUST NOT keep state across calls: a backend may run it again after a
// serialization failure, a busy database or a dropped connection. Whatever the callback
// computes for its caller (ids, results, counts) it must (re)assign on every run, never append
// to what an earlier run left.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consent/store.h"
#include "crypto/result.h"
#include "policies/vocabulary.h"

namespace brug::adapters {

using Blob = std::vector<std::uint8_t>;

// The bytes of `text` as a Blob (one memcpy; a copy by iterator goes byte by byte).
inline Blob blob_of_text(std::string_view text) {
  Blob b(text.size());
  if (!text.empty()) std::memcpy(b.data(), text.data(), text.size());
  return b;
}

// ---- organisations -------------------------------------------------------------------------

struct OrgRow {
  std::string id, name;
  Role role = Role::kProject;
  std::string oin, cert_cn;  // empty when absent
};

class OrgStore {
 public:
  virtual ~OrgStore() = default;
  // Makes the stored organisations those of `orgs`: inserts and updates them, marks the others
  // inactive (rows are kept: old records refer to them).
  virtual Status sync(const std::vector<OrgRow>& orgs, const std::string& now) = 0;
  // The active organisations, by id.
  virtual Result<std::vector<OrgRow>> active() = 0;
};

// ---- the exchange ---------------------------------------------------------------------------

// A participant: the data key wrapped by the KEK and the BSN sealed under it. Both are empty
// once the participant is erased (crypto-shredding).
struct ParticipantRow {
  std::string participant;  // participant index, 64 hex digits
  std::optional<Blob> wrapped_key;
  std::optional<Blob> sealed_bsn;
};

struct NewReferral {
  std::string id, source_org, source_ref, participant, recipient, purpose;
  Blob sealed;
  std::string content_hash;  // identifies the content for idempotency (hex)
  std::string received_at;
};

// What idempotency compares: the referral a sender already stored under a source_ref.
struct StoredReferral {
  std::string id, recipient, purpose, participant, content_hash;
};

// A referral that waits to enter its recipient's feed.
struct PendingReferral {
  std::int64_t position = 0;  // order of arrival
  std::string id, participant, purpose, source_org;
};

struct NewOutcome {
  std::string id, project, participant;
  Blob sealed;
  std::string received_at;
};

enum class FeedKind { kReferral, kOutcome, kDeletion };
std::string_view to_string(FeedKind kind);

struct NewFeedItem {
  std::string recipient;
  FeedKind kind = FeedKind::kReferral;
  std::string participant, ref_id, purpose;  // ref_id empty for deletions
  std::string created_at;
};

// One feed item as read, with what it takes to open and address it.
struct FeedEntry {
  std::int64_t cursor = 0;
  FeedKind kind = FeedKind::kReferral;
  std::string participant, ref_id, purpose;
  std::string from;            // sender: the referral's source or the outcome's project
  std::optional<Blob> sealed;  // empty once the record was purged (an erased participant's
                               // records stay sealed under a destroyed key)
  ParticipantRow holder;       // the participant's key and BSN
};

// An outcome of a participant that a sender referred, for reports and the sender's feed.
struct OutcomeForSender {
  std::int64_t position = 0;
  std::string id, participant, project;
  Blob sealed;
  std::optional<Blob> wrapped_key;
  std::string referral_id;  // the sender's first referral of the participant to the project
  std::optional<Blob> referral_sealed;
  std::string referral_purpose;
};

// The 4-byte big-endian KEK version prefix of a wrapped data key (crypto/envelope.h), as the
// stores compare and group it; and back (kCorrupt unless 4 bytes).
Blob kek_version_prefix(std::uint32_t version);
Result<std::uint32_t> kek_version_of_prefix(const Blob& prefix);

// A participant's wrapped data key, as KEK rotation reads it.
struct WrappedKeyRow {
  std::string participant;
  Blob wrapped_key;
};

class ExchangeStore {
 public:
  virtual ~ExchangeStore() = default;

  virtual Result<std::optional<ParticipantRow>> participant(const std::string& participant) = 0;
  // Creates the participant, or gives an erased one a new key and sealed BSN.
  virtual Status put_participant(const ParticipantRow& row, const std::string& now) = 0;
  // Destroys the participant's key and BSN, and what else names them that the audit log does
  // not need: the senders' source_refs and content hashes of their referrals and the evidence
  // references of their consents (both become empty). False when the participant is unknown.
  virtual Result<bool> erase_participant(const std::string& participant,
                                         const std::string& now) = 0;

  virtual Result<std::optional<StoredReferral>> referral_by_source(
      const std::string& source_org, const std::string& source_ref) = 0;
  virtual Status add_referral(const NewReferral& referral) = 0;
  // Referrals to `recipient` not yet in its feed and not purged, after `after`, oldest first.
  virtual Result<std::vector<PendingReferral>> pending_referrals(const std::string& recipient,
                                                                 std::int64_t after,
                                                                 std::int64_t limit) = 0;
  // Takes the referral out of the pending ones; false (and nothing changed) when it was already
  // taken or has been purged meanwhile, so it must not enter the feed.
  virtual Result<bool> mark_fed(const std::string& referral_id) = 0;
  // The organisations that referred the participant to `recipient` (none: never referred).
  virtual Result<std::vector<std::string>> referrers(const std::string& participant,
                                                     const std::string& recipient) = 0;
  // Every organisation the participant was ever referred to.
  virtual Result<std::vector<std::string>> recipients_of(const std::string& participant) = 0;
  // Destroys the sealed referrals of the participant to `recipient` (for one purpose, or all)
  // and takes exactly those out of the recipient's feed; returns how many referrals there
  // were, purged or not.
  virtual Result<std::int64_t> purge_referrals(const std::string& participant,
                                               const std::string& recipient,
                                               const std::optional<std::string>& purpose) = 0;

  virtual Status add_outcome(const NewOutcome& outcome) = 0;
  // Destroys the sealed outcomes of the participant.
  virtual Status purge_outcomes(const std::string& participant) = 0;
  // Outcomes (not purged) of participants whom `sender` referred to the outcome's project.
  // With `undelivered`, only those not yet delivered to the sender's feed: a backend may keep
  // them as it goes (outcome_routes), so an outcome whose feed item was removed is not offered
  // again (remove_feed_items of outcomes follows purge_outcomes, as in an erasure).
  virtual Result<std::vector<OutcomeForSender>> outcomes_for_sender(const std::string& sender,
                                                                    bool undelivered) = 0;

  // Adds an item to a feed unless the same record is already in that feed; true if added.
  virtual Result<bool> add_feed_item(const NewFeedItem& item) = 0;
  // How many items of `recipient`'s feed lie after `after`, counting at most `limit`.
  virtual Result<std::int64_t> feed_count_after(const std::string& recipient, std::int64_t after,
                                                std::int64_t limit) = 0;
  virtual Result<std::vector<FeedEntry>> feed_page(const std::string& recipient, std::int64_t after,
                                                   std::int64_t limit) = 0;
  // Removes the participant's items of `kind` from the feed of `recipient` (all feeds when
  // `recipient` is empty). Outcome items only once their outcomes are purged (see above).
  virtual Status remove_feed_items(const std::string& recipient, const std::string& participant,
                                   FeedKind kind) = 0;
  // Whether the newest item about the participant in `recipient`'s feed is a deletion notice.
  virtual Result<bool> deletion_is_newest(const std::string& recipient,
                                          const std::string& participant) = 0;

  // ---- batches: what a push or a feed page does for many items at once. A backend where each
  // statement is a round trip (PostgreSQL) sends a chunk of items per statement; the defaults
  // call the single-item methods above, with the same results.

  // The rows of those of `participants` that exist (erased ones too), in any order.
  virtual Result<std::vector<ParticipantRow>> participants(
      const std::vector<std::string>& participants);
  // put_participant for each row, in order.
  virtual Status put_participants(const std::vector<ParticipantRow>& rows, const std::string& now);
  // The referrals `source_org` stored under any of `source_refs`, each with its source_ref, in
  // any order.
  virtual Result<std::vector<std::pair<std::string, StoredReferral>>> referrals_by_source(
      const std::string& source_org, const std::vector<std::string>& source_refs);
  // add_referral for each, in order (the first that fails fails the batch).
  virtual Status add_referrals(const std::vector<NewReferral>& referrals);
  // For each item, in order: mark_fed(item.ref_id) and, when that took it, add_feed_item(item).
  // Each item's participant is its referral's (a backend may number the item by the referral).
  // Returns how many entered the feed.
  virtual Result<std::int64_t> feed_referrals(const std::vector<NewFeedItem>& items);
  // feed_page in parts of `part` entries (the last may be shorter), in order, each handed to
  // `each` as soon as it is read, so that a caller can work on the first while the rest is
  // still read. `each` runs inside this transaction and may use the other stores; its error
  // ends the read and is returned. The default reads the whole page, then hands it out.
  virtual Status feed_page_parts(const std::string& recipient, std::int64_t after,
                                 std::int64_t limit, std::size_t part,
                                 const std::function<Status(std::vector<FeedEntry>)>& each);

  // KEK rotation (`brug keys rotate`). A wrapped key names its KEK version in its first 4 bytes,
  // big-endian (crypto/envelope.h); the stores read that prefix, never the rest.
  // How many participants have a wrapped key under each KEK version (erased ones have none).
  virtual Result<std::map<std::uint32_t, std::int64_t>> wrapped_key_versions() = 0;
  // Up to `limit` participants after `after` (participant order) whose wrapped key is not under
  // KEK version `version`, in participant order: one batch of a rotation, resumable by cursor.
  virtual Result<std::vector<WrappedKeyRow>> keys_not_under(std::uint32_t version,
                                                            const std::string& after,
                                                            std::int64_t limit) = 0;
  // Replaces the participant's wrapped key by `fresh` if it still is `old`; false, with nothing
  // changed, when it was erased or given another key meanwhile.
  virtual Result<bool> replace_wrapped_key(const std::string& participant, const Blob& old,
                                           const Blob& fresh) = 0;
};

// ---- the audit log ---------------------------------------------------------------------------

// One stored leaf with the columns auditors search by.
struct AuditLeafRow {
  std::uint64_t index = 0;
  std::string leaf;  // the canonical leaf bytes
  std::array<std::uint8_t, 32> hash{};
  std::string time, actor, action, purpose, subject, recipient, decision;
};

struct AuditNodeRow {
  unsigned level = 1;
  std::uint64_t index = 0;
  std::array<std::uint8_t, 32> hash{};
};

struct CheckpointRow {
  std::uint64_t size = 0;
  std::array<std::uint8_t, 32> root{};
  std::string time, key_id;
  Blob signature;
};

struct AuditQuery {
  std::string from_time, to_time;  // inclusive; RFC 3339 prefixes compare as text
  std::string actor, purpose, decision, subject, action;
  std::uint64_t limit = 1000;
  std::uint64_t from_index = 0;  // only leaves at this index or later (paging)
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual Result<std::uint64_t> size() = 0;
  // Leaves that extend the log exactly at its end; several calls in one transaction append in
  // turn. A backend may store them behind (PostgreSQL: the outcome comes with the next
  // statement or the commit, which then fails).
  // They are the store's to take apart (moved, not copied, into its statements).
  virtual Status add_leaves(std::vector<AuditLeafRow> leaves) = 0;
  virtual Status add_nodes(const std::vector<AuditNodeRow>& nodes) = 0;
  // The perfect subtree hash at (level, index): level 0 is a leaf hash. kCorrupt when missing.
  virtual Result<std::array<std::uint8_t, 32>> node(unsigned level, std::uint64_t index) = 0;
  // The hashes at several (level, index) positions, in the order asked; kCorrupt when one is
  // missing. One look-up for all (the tree's right edge when another process appended); by
  // default node() for each.
  using NodeAt = std::pair<unsigned, std::uint64_t>;
  virtual Result<std::vector<std::array<std::uint8_t, 32>>> nodes(const std::vector<NodeAt>& at);
  virtual Result<std::vector<std::string>> leaves(std::uint64_t start, std::uint64_t end) = 0;
  virtual Status add_checkpoint(const CheckpointRow& checkpoint) = 0;
  virtual Result<std::optional<CheckpointRow>> latest_checkpoint() = 0;
  virtual Result<std::vector<CheckpointRow>> checkpoints() = 0;
  // Leaves matching the query, oldest first, with their indexes.
  virtual Result<std::vector<std::pair<std::uint64_t, std::string>>> search(
      const AuditQuery& query) = 0;
  // Witness cosignatures (C2SP tlog-cosignature lines) of the checkpoint of `size`: one per
  // witness and size, a newer one replacing it.
  virtual Status add_cosignature(std::uint64_t size, const std::string& witness,
                                 const std::string& line) = 0;
  virtual Result<std::vector<std::string>> cosignatures(std::uint64_t size) = 0;
};

// ---- the database ----------------------------------------------------------------------------

// The stores of one transaction.
struct Stores {
  OrgStore& orgs;
  ExchangeStore& exchange;
  consent::ConsentStore& consents;
  AuditStore& audit;
};

class Database {
 public:
  virtual ~Database() = default;
  // Runs `fn` in one write transaction: commits when it returns ok, rolls back when it returns
  // an error or throws (then kInternal). May run `fn` again after a transient failure (see the
  // rule at the top of this file). kUnavailable when the database cannot take the write.
  virtual Status write(const std::function<Status(Stores&)>& fn) = 0;
  // Runs `fn` in a read transaction: one consistent snapshot; writes are refused.
  virtual Status read(const std::function<Status(Stores&)>& fn) = 0;
  // The highest migration version applied.
  virtual int schema_version() = 0;
  virtual std::string_view backend() const = 0;
  // Makes what committed transactions overwrote or deleted unrecoverable from the database's
  // files, so that a copy of them taken after it returns holds none of it (an erasure).
  // kUnavailable when it could not finish (e.g. a long reader); it may be called again.
  virtual Status scrub() = 0;
};

struct SqliteOptions {
  std::string path;              // the database file; created if missing
  int busy_timeout_ms = 5000;    // how long a writer waits for the lock
  int max_connections = 8;       // pool size
  bool synchronous_full = true;  // fsync the WAL at every commit (durable audit)
  // Past this many frames in the WAL (4 KiB each) the checkpointer holds this process's writers
  // back until the WAL is copied into the database and emptied (adapters/sqlite). On a database
  // large enough to checkpoint less often than every 1000 frames, the limit is at least four
  // times that cadence (half the database's pages, at most 2 GiB of WAL).
  int wal_restart_frames = 16384;
};

// Opens (or creates) the SQLite database and applies pending migrations. Refuses a database
// newer than this binary.
Result<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options);
// A consistent online copy of the SQLite database at `from` into the new file `to`, with the
// SQLite backup API in one read snapshot: writers go on meanwhile (WAL), the copy holds every
// transaction committed before it started and none after.
Status backup_sqlite(const std::string& from, const std::string& to);

struct PostgresOptions {
  // postgresql://USER@HOST:PORT/DB[?sslmode=verify-full&...]: libpq's URL, without a password
  // (libpq finds it in PGPASSWORD, ~/.pgpass or the URL's passfile).
  std::string url;
  int max_connections = 8;  // pool size
  // How often a transaction is tried after a serialization failure, a deadlock or a lost
  // connection, with growing pauses (about 3 s in all); then kUnavailable.
  int attempts = 10;
};

// Connects to PostgreSQL (adapters/postgres/) and applies pending migrations; several gateways
// may share the database. Refuses a schema newer than this binary.
Result<std::unique_ptr<Database>> open_postgres(const PostgresOptions& options);

// Whether `url` is a PostgreSQL URL brug accepts: postgresql:// (or postgres://), parseable by
// libpq, with no password in it. The message never quotes the URL.
Status check_postgres_url(std::string_view url);

}  // namespace brug::adapters
