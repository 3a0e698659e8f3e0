// The PostgreSQL domain stores, each bound to one transaction (private to adapters/postgres/).
#pragma once

#include "adapters/postgres/pg_storage.h"
#include "adapters/stores.h"
#include "consent/store.h"

namespace brug::adapters::pg {

// Rows (or keys) go in chunks, one statement and round trip each: the largest power of two up
// to kMaxChunk that fits what is left, so a connection prepares at most ten shapes of each
// statement (1, 2, 4, ... 512 rows) and 1000 rows take six round trips.
constexpr std::size_t kMaxChunk = 512;
std::size_t chunk_size(std::size_t left);

// Inserts `rows` of `columns` values each after `head` ("INSERT INTO t (a, b)"), a chunk of rows
// per statement, followed by `tail` (e.g. "ON CONFLICT DO NOTHING"); returns the rows inserted.
Result<std::int64_t> insert_rows(Tx& tx, const std::string& head, std::size_t columns,
                                 const std::vector<std::vector<Value>>& rows,
                                 const std::string& tail = "");
// Keys as one text parameter, split again by the statement:
// "= ANY(string_to_array(?, chr(31)))". One statement and one plan shape whatever the number of
// keys, and the index is probed once per key (a generic plan of a long IN list of separate
// parameters was a scan of the whole table: 0.7 s per chunk at 10^5 referrals; a join with a
// VALUES list of 512 parameters cost about 5 ms per chunk). Keys never hold the separator, a
// control character: participants and ids are hex and base32, source_refs printable ASCII.
constexpr const char* kAnyKey = "ANY(string_to_array(?, chr(31)))";
// The keys joined by that separator; a key with a control character is refused
// (kInvalidArgument).
Result<std::string> key_list(const std::vector<std::string>& keys);
// "?, ?, ?" with n placeholders.
std::string placeholders(std::size_t n);

class PgOrgStore final : public OrgStore {
 public:
  explicit PgOrgStore(Tx& tx) : tx_(tx) {}
  Status sync(const std::vector<OrgRow>& orgs, const std::string& now) override;
  Result<std::vector<OrgRow>> active() override;

 private:
  Tx& tx_;
};

class PgConsentStore final : public consent::ConsentStore {
 public:
  explicit PgConsentStore(Tx& tx) : tx_(tx) {}
  Status insert(const consent::Consent& consent) override;
  Result<std::optional<consent::Consent>> find(const std::string& id) override;
  Result<consent::Consent> withdraw(const std::string& id, const std::string& actor,
                                    const std::string& at) override;
  Result<std::vector<consent::Consent>> for_participant(const std::string& participant) override;
  Result<std::vector<consent::Consent>> for_grant(const std::string& participant,
                                                  const std::string& grantee,
                                                  Purpose purpose) override;
  Result<std::map<std::string, std::vector<consent::Consent>>> for_grants(
      const std::vector<std::string>& participants, const std::string& grantee,
      Purpose purpose) override;

 private:
  Tx& tx_;
};

class PgExchangeStore final : public ExchangeStore {
 public:
  explicit PgExchangeStore(Tx& tx) : tx_(tx) {}
  Result<std::optional<ParticipantRow>> participant(const std::string& participant) override;
  Status put_participant(const ParticipantRow& row, const std::string& now) override;
  Result<bool> erase_participant(const std::string& participant, const std::string& now) override;
  Result<std::optional<StoredReferral>> referral_by_source(const std::string& source_org,
                                                           const std::string& source_ref) override;
  Status add_referral(const NewReferral& referral) override;
  Result<std::vector<PendingReferral>> pending_referrals(const std::string& recipient,
                                                         std::int64_t after,
                                                         std::int64_t limit) override;
  Result<bool> mark_fed(const std::string& referral_id) override;
  Result<std::vector<std::string>> referrers(const std::string& participant,
                                             const std::string& recipient) override;
  Result<std::vector<std::string>> recipients_of(const std::string& participant) override;
  Result<std::int64_t> purge_referrals(const std::string& participant, const std::string& recipient,
                                       const std::optional<std::string>& purpose) override;
  Status add_outcome(const NewOutcome& outcome) override;
  Status purge_outcomes(const std::string& participant) override;
  Result<std::vector<OutcomeForSender>> outcomes_for_sender(const std::string& sender,
                                                            bool undelivered) override;
  Result<bool> add_feed_item(const NewFeedItem& item) override;
  Result<std::int64_t> feed_count_after(const std::string& recipient, std::int64_t after,
                                        std::int64_t limit) override;
  Result<std::vector<FeedEntry>> feed_page(const std::string& recipient, std::int64_t after,
                                           std::int64_t limit) override;
  Status feed_page_parts(const std::string& recipient, std::int64_t after, std::int64_t limit,
                         std::size_t part,
                         const std::function<Status(std::vector<FeedEntry>)>& each) override;
  Status remove_feed_items(const std::string& recipient, const std::string& participant,
                           FeedKind kind) override;
  Result<bool> deletion_is_newest(const std::string& recipient,
                                  const std::string& participant) override;
  Result<std::vector<ParticipantRow>> participants(
      const std::vector<std::string>& participants) override;
  Status put_participants(const std::vector<ParticipantRow>& rows, const std::string& now) override;
  Result<std::vector<std::pair<std::string, StoredReferral>>> referrals_by_source(
      const std::string& source_org, const std::vector<std::string>& source_refs) override;
  Status add_referrals(const std::vector<NewReferral>& referrals) override;
  Result<std::int64_t> feed_referrals(const std::vector<NewFeedItem>& items) override;
  Result<std::map<std::uint32_t, std::int64_t>> wrapped_key_versions() override;
  Result<std::vector<WrappedKeyRow>> keys_not_under(std::uint32_t version, const std::string& after,
                                                    std::int64_t limit) override;
  Result<bool> replace_wrapped_key(const std::string& participant, const Blob& old,
                                   const Blob& fresh) override;

 private:
  Status route_outcomes_to(const std::vector<std::string>& referral_ids);
  Tx& tx_;
};

class PgAuditStore final : public AuditStore {
 public:
  explicit PgAuditStore(Tx& tx) : tx_(tx) {}
  Result<std::uint64_t> size() override;
  Status add_leaves(std::vector<AuditLeafRow> leaves) override;
  Status add_cosignature(std::uint64_t size, const std::string& witness,
                         const std::string& line) override;
  Result<std::vector<std::string>> cosignatures(std::uint64_t size) override;
  Status add_nodes(const std::vector<AuditNodeRow>& nodes) override;
  Result<std::array<std::uint8_t, 32>> node(unsigned level, std::uint64_t index) override;
  Result<std::vector<std::array<std::uint8_t, 32>>> nodes(const std::vector<NodeAt>& at) override;
  Result<std::vector<std::string>> leaves(std::uint64_t start, std::uint64_t end) override;
  Status add_checkpoint(const CheckpointRow& checkpoint) override;
  Result<std::optional<CheckpointRow>> latest_checkpoint() override;
  Result<std::vector<CheckpointRow>> checkpoints() override;
  Result<std::vector<std::pair<std::uint64_t, std::string>>> search(
      const AuditQuery& query) override;

 private:
  Tx& tx_;
};

}  // namespace brug::adapters::pg
