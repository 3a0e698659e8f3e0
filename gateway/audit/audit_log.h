// The audit log: every AuditEvent becomes a leaf of an RFC 6962 Merkle tree kept in storage,
// with signed checkpoints (size, root, time, key id) and inclusion and consistency proofs for
// auditors. docs/AUDIT.md documents the leaf and checkpoint bytes.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/stores.h"
#include "crypto/hash.h"
#include "gateway/audit/audit.h"

namespace brug::crypto {
class Env;
class SigningKey;
}  // namespace brug::crypto

namespace brug::gateway {

struct AuditOptions {
  std::uint64_t checkpoint_every_events = 1000;  // sign at least this often...
  int checkpoint_every_s = 60;                   // ...or when the last is this old
};

struct Checkpoint {
  std::uint64_t size = 0;
  std::string root;       // hex SHA-256
  std::string time;       // RFC 3339 UTC
  std::string key_id;     // 16 hex digits
  std::string signature;  // hex Ed25519 over checkpoint_bytes()
};

// The exact bytes a checkpoint signature covers:
// "brug-checkpoint/v1\n" SIZE "\n" ROOT_HEX "\n" TIME "\n" KEY_ID "\n".
std::string checkpoint_bytes(const Checkpoint& c);

// What auditors search by (every member optional).
using AuditFilter = adapters::AuditQuery;

// What a write may change, for a writer that prepared its work from an earlier read snapshot
// and wants to know under the write lock whether that snapshot still holds (push_referrals seals
// records with the data keys its snapshot found). Rows are named by strings the writers agree
// on; only a 64-bit hash of each name is kept, so two names with one hash at worst make a writer
// read again.
struct Changes {
  bool unknown = true;                // the write does not say: it may have changed anything
  std::vector<std::uint64_t> hashes;  // else the hashes of the names of what it may change, sorted
  static Changes none() { return {false, {}}; }
  static Changes of(const std::vector<std::string>& names);
};

class AuditLog : public AuditSink {
 public:
  AuditLog(adapters::Database& db, const crypto::SigningKey& key, AuditOptions options,
           crypto::Env& env);

  // Group commit: concurrent callers are written together in one transaction; each returns
  // only when its events are stored, with the transaction's status. For disclosures and
  // refusals, which store nothing else.
  Status append(std::vector<AuditEvent> events) override;

  // Runs `fn` in one write transaction and appends the events it leaves in `events` in that
  // same transaction: what a request stores commits with its audit events or not at all. `fn`
  // follows the Database rule: it may run more than once and must keep no state between runs
  // (`events` is empty at the start of every run).
  // `changes`: what `fn` may change (see unchanged_since).
  using Work = std::function<Status(adapters::Stores&, std::vector<AuditEvent>& events)>;
  Status record(const Work& fn, Changes changes = {});

  // Inside record()'s `fn`: true when no write that committed since the log held `seen` events
  // (read in the caller's earlier snapshot) can have changed what `names` name, so that what the
  // snapshot read of them still holds. That is known only when every commit since then went
  // through this AuditLog and said what it changed (append() and stream() change nothing but
  // the log); otherwise (another process, an outcome this process could not see, an old commit
  // no longer remembered) false, and the caller reads again.
  // The rule this rests on, kept by every writer: a write that changes what a push looks up
  // (a participant's row; a referral's id, sender, source_ref, recipient, purpose, participant
  // or content hash) commits at least one audit event with it, so the log's size moves. Putting
  // referrals in a feed (marking them fed) changes none of that and has no event of its own.
  Result<bool> unchanged_since(adapters::AuditStore& store, std::uint64_t seen,
                               const Changes& names);

  // Appends the events `fn` hands to `emit`, in the order handed, in one write transaction that
  // commits when `fn` returns ok (nothing of it when `fn` or `emit` fails). For one large
  // disclosure: its first leaves go to the store while `fn` still makes the next events (a
  // backend that stores behind, PostgreSQL, works on them meanwhile). `emit` fills in the time
  // of an event that has none (a run after a retry keeps it), reads the rest and keeps no
  // reference to them. Same rule as record(): `fn` may run more than once, each run handing
  // over all its events again.
  using Emit = std::function<Status(std::vector<AuditEvent>& events)>;
  using Stream = std::function<Status(const Emit& emit)>;
  Status stream(const Stream& fn);

  Result<std::uint64_t> size();
  // The newest checkpoint; with `fresh`, first signs one for the current size if it grew.
  Result<std::optional<Checkpoint>> checkpoint(bool fresh);
  Result<std::vector<Checkpoint>> checkpoints();
  // Leaves [start, end) as stored.
  Result<std::vector<std::string>> entries(std::uint64_t start, std::uint64_t end);
  Result<std::vector<crypto::Sha256Digest>> inclusion_proof(std::uint64_t index,
                                                            std::uint64_t size);
  Result<std::vector<crypto::Sha256Digest>> consistency_proof(std::uint64_t from, std::uint64_t to);
  Result<crypto::Sha256Digest> root(std::uint64_t size);
  // The perfect subtree hashes [first, first + count) at `level` (2^level leaves each), read in
  // one snapshot; kNotFound unless the log holds all of them (for tlog-tiles).
  Result<std::vector<crypto::Sha256Digest>> subtree_hashes(unsigned level, std::uint64_t first,
                                                           std::uint64_t count);
  // Witness cosignature lines of the checkpoint of `size` (docs/AUDIT.md).
  Status add_cosignature(std::uint64_t size, const std::string& witness, const std::string& line);
  Result<std::vector<std::string>> cosignatures(std::uint64_t size);
  // Leaves matching the filter, oldest first, with their indexes.
  Result<std::vector<std::pair<std::uint64_t, std::string>>> search(const AuditFilter& filter);

 private:
  struct Batch {
    std::vector<AuditEvent> events;
    Status status;
    bool done = false;
  };
  // The right edge of the tree after `size` leaves: the last leaf hash and, for each set bit
  // of size, the hash of the perfect subtree at that level which ends the log.
  struct Frontier {
    std::uint64_t size = 0;
    crypto::Sha256Digest last{};
    std::array<crypto::Sha256Digest, 64> edge{};
  };
  static Result<Frontier> load_frontier(adapters::AuditStore& store, std::uint64_t size);
  // One append inside the caller's transaction: begin, add events (any number of times), end.
  struct Appending {
    Frontier tree;    // the right edge after what was added so far
    std::string now;  // the time of events that came without one
  };
  Result<Appending> begin_append(adapters::AuditStore& store);
  static Status add_events(adapters::AuditStore& store, Appending& a,
                           const std::vector<AuditEvent*>& events);
  // Stores the nodes and signs a checkpoint when one is due; returns the tree's new right edge.
  Result<Frontier> end_append(adapters::AuditStore& store, Appending& a);
  // What one write appended: the events [from, tree.size), and the edge after them.
  struct Appended {
    std::uint64_t from = 0;
    Frontier tree;
  };
  // begin_append, add_events and end_append for one list of events.
  Result<Appended> append_in(adapters::AuditStore& store, std::vector<AuditEvent*>& events);
  Status write(std::deque<Batch*>& batches);
  // With `edge` (the right edge at `size`, as an append keeps it), the root comes from it
  // instead of from the stored subtree hashes.
  Status maybe_checkpoint(adapters::AuditStore& store, std::uint64_t size, bool force,
                          const Frontier* edge = nullptr);
  // One write transaction of this log: `body` appends and says what; the commit is remembered
  // with what the write changed (`changes`).
  Status commit(const std::function<Result<Appended>(adapters::Stores&)>& body,
                const Changes& changes);
  // Under frontier_mu_, after a write: the edge it left and what it appended (none when it
  // failed).
  void remember(const std::optional<Appended>& done, const Changes& changes);

  adapters::Database& db_;
  const crypto::SigningKey& key_;
  AuditOptions options_;
  crypto::Env& env_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch*> queue_;
  bool writing_ = false;
  // The right edge after the newest committed append this process knows of. Any writer may
  // use it when the stored size matches, else it reads the edge back from the store.
  std::mutex frontier_mu_;
  std::optional<Frontier> frontier_;
  // The newest commits of this process by the log size they started at: the size after them
  // and what they changed (under frontier_mu_; at most kRemembered).
  struct Committed {
    std::uint64_t to = 0;
    Changes changes;
  };
  std::map<std::uint64_t, Committed> committed_;
  // The log sizes at which writes of this process began whose transaction may be committing
  // and that are not remembered yet.
  std::multiset<std::uint64_t> settling_;
  std::condition_variable settled_;
};

// The canonical leaf bytes of an event at `index` after the leaf with hash `prev` (all zero
// for the first): compact JSON, keys sorted, every member present.
std::string audit_leaf(const AuditEvent& e, std::uint64_t index, const crypto::Sha256Digest& prev);
// Makes the event's leaf but for its place in the log (e.draft), filling in an empty time with
// `now`, so that a thread other than the one appending does that work. The event must not
// change afterwards: the append takes the draft as it is.
void prepare_leaf(AuditEvent& e, const std::string& now);

// Offline verification of an export (DIR/entries.jsonl, DIR/checkpoints.json) against the
// gateway's public key (hex): every leaf in place and chained, every checkpoint's root
// recomputed and signed, consecutive checkpoints consistent, no leaf beyond the newest
// checkpoint. Ok, or the first problem with the first bad index.
Status verify_audit_export(const std::string& dir, const std::string& public_key_hex);

// The C2SP form fetched from the API into `dir` as the URL paths lay it out (DIR/checkpoint,
// DIR/tile/<L>/<N>[.p/<W>], DIR/tile/entries/<N>[.p/<W>]; `brug audit fetch`): the checkpoint
// note signed by the key (its origin the key name), every entry bundle parsed and every leaf in
// place and chained, the root of the entries the signed root, every hash tile (level 0: each
// entry's leaf hash) matching the entries, and the root recomputed from the tiles alone. Ok, or
// the first problem, naming the file.
// The key: 64 hex digits, or the note verifier key NAME+HASH+BASE64 (its name the origin).
Status verify_audit_tiles(const std::string& dir, const std::string& public_key);

// The same for the live log in `db`, and what the export cannot see: every stored node (the
// perfect subtree hashes proofs are built from, leaf hashes included) against the leaves it
// covers. Leaves beyond the newest checkpoint are allowed (not yet signed). Ok, or the first
// problem.
Status verify_audit_store(adapters::Database& db, const std::string& public_key_hex);

}  // namespace brug::gateway
