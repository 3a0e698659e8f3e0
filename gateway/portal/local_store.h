// The portal's local copy: one SQLite file (mode 0600, secure_delete on) with what the feed
// brought, the feed cursor and what the portal itself pushed. A deletion notice removes the
// person's content and pseudonym at once; only the local reference and the date remain.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crypto/result.h"

struct sqlite3;

namespace brug::portal {

// A person referred to this organisation, under the portal's own local reference.
struct Person {
  std::string ref;             // "D0001": what the coordinator sees and a CSV row is keyed by
  nlohmann::json record;       // the fields the feed delivered; null once deleted
  std::string from;            // the referring organisation; empty once deleted
  std::string received_at;     // RFC 3339 UTC
  std::string deleted_at;      // date of the deletion notice; empty while present
  std::string outcome_status;  // the last outcome the portal pushed, if any
  std::string outcome_date;
};

// One feed item as the gateway gave it.
struct FeedItem {
  std::string cursor;
  std::string kind;     // referral, deletion, outcome
  std::string subject;  // pseudonym (project) or BSN (gemeente)
  std::string from;
  nlohmann::json record;
};

struct ApplyCounts {
  int referrals = 0, deletions = 0, outcomes = 0;
  std::vector<std::string> deleted_refs;  // local references whose data was deleted now
};

class LocalStore {
 public:
  // Creates the file 0600 if needed (and its folder 0700); refuses a file others may read.
  static Result<std::unique_ptr<LocalStore>> open(const std::string& path);
  ~LocalStore();
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  std::string cursor();
  // Stores a page of feed items and the new cursor in one transaction.
  Result<ApplyCounts> apply(const std::vector<FeedItem>& items, const std::string& next_cursor);

  std::vector<Person> people();
  std::optional<Person> person(const std::string& ref);
  // The pseudonym under which to push for `ref`; nullopt when unknown or deleted.
  std::optional<std::string> pseudonym_of(const std::string& ref);
  Status note_outcome(const std::string& ref, const std::string& status, const std::string& date);

  // Outcomes that reached a gemeente: {"bsn", "from", "record", "received_at"}.
  std::vector<nlohmann::json> outcomes_received();

  std::optional<std::string> meta(const std::string& key);
  Status set_meta(const std::string& key, const std::string& value);

 private:
  explicit LocalStore(sqlite3* db) : db_(db) {}
  Status exec(const std::string& sql);
  std::mutex mu_;
  sqlite3* db_;
};

// Now as RFC 3339 UTC with seconds.
std::string utc_now();

}  // namespace brug::portal
