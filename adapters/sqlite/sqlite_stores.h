// The SQLite domain stores, each bound to one transaction (private to adapters/sqlite/).
#pragma once

#include "adapters/sqlite/storage.h"
#include "adapters/stores.h"
#include "consent/store.h"

namespace brug::adapters {

class SqliteOrgStore final : public OrgStore {
 public:
  explicit SqliteOrgStore(Tx& tx) : tx_(tx) {}
  Status sync(const std::vector<OrgRow>& orgs, const std::string& now) override;
  Result<std::vector<OrgRow>> active() override;

 private:
  Tx& tx_;
};

class SqliteConsentStore final : public consent::ConsentStore {
 public:
  explicit SqliteConsentStore(Tx& tx) : tx_(tx) {}
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

class SqliteExchangeStore final : public ExchangeStore {
 public:
  explicit SqliteExchangeStore(Tx& tx) : tx_(tx) {}
  Result<std::optional<ParticipantRow>> participant(const std::string& participant) override;
  Status put_participant(const ParticipantRow& row, const std::string& now) override;
  Result<bool> erase_participant(const std::string& participant, const std::string& now) override;
  Result<std::optional<StoredReferral>> referral_by_source(const std::string& source_org,
                                                           const std::string& source_ref) override;
  Status add_referral(const NewReferral& referral) override;
  Status add_referrals(const std::vector<NewReferral>& referrals) override;
  Status put_participants(const std::vector<ParticipantRow>& rows, const std::string& now) override;
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
  // A chunk's referrals taken in one statement and their items added in another, each numbered
  // by its referral's holder: per item, add_feed_item looks the holder up by the participant's
  // keyed hash, a random page of that index (at 10^6 participants one read per item).
  Result<std::int64_t> feed_referrals(const std::vector<NewFeedItem>& items) override;
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
  Result<std::map<std::uint32_t, std::int64_t>> wrapped_key_versions() override;
  Result<std::vector<WrappedKeyRow>> keys_not_under(std::uint32_t version, const std::string& after,
                                                    std::int64_t limit) override;
  Result<bool> replace_wrapped_key(const std::string& participant, const Blob& old,
                                   const Blob& fresh) override;

 private:
  Tx& tx_;
};

class SqliteAuditStore final : public AuditStore {
 public:
  explicit SqliteAuditStore(Tx& tx) : tx_(tx) {}
  Result<std::uint64_t> size() override;
  Status add_leaves(std::vector<AuditLeafRow> leaves) override;
  Status add_nodes(const std::vector<AuditNodeRow>& nodes) override;
  Result<std::array<std::uint8_t, 32>> node(unsigned level, std::uint64_t index) override;
  Result<std::vector<std::string>> leaves(std::uint64_t start, std::uint64_t end) override;
  Status add_checkpoint(const CheckpointRow& checkpoint) override;
  Result<std::optional<CheckpointRow>> latest_checkpoint() override;
  Result<std::vector<CheckpointRow>> checkpoints() override;
  Result<std::vector<std::pair<std::uint64_t, std::string>>> search(
      const AuditQuery& query) override;

  Status add_cosignature(std::uint64_t size, const std::string& witness,
                         const std::string& line) override;
  Result<std::vector<std::string>> cosignatures(std::uint64_t size) override;

 private:
  Tx& tx_;
};

}  // namespace brug::adapters
