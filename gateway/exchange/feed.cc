// GET /v1/feed: what a recipient may see now. Items enter the feed when they become
// deliverable and are checked again (policy, consent, erasure) every time they are read; every
// item read leaves one audit event, durably logged before the page leaves.
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "adapters/stores.h"
#include "consent/registry.h"
#include "crypto/env.h"
#include "crypto/keydir.h"
#include "crypto/pseudonym.h"
#include "gateway/audit/audit_log.h"
#include "gateway/disclosure/flow.h"
#include "gateway/exchange/feed_cursor.h"
#include "gateway/exchange/use_cases.h"
#include "gateway/http/json_body.h"
#include "gateway/http/json_writer.h"
#include "gateway/http/log.h"
#include "gateway/http/metrics.h"
#include "gateway/identity/registry.h"

namespace brug::gateway {
namespace {

constexpr std::int64_t kDefaultFeedLimit = 100;
constexpr std::int64_t kMaxFeedLimit = 1000;
constexpr std::int64_t kMaterializeChunk = 2000;
// From this many items a page is opened on two threads; from kStreamedPage on, in chunks of
// about kChunkItems whose audit events are stored while the next chunks are opened.
constexpr std::size_t kParallelPage = 64;
constexpr std::size_t kStreamedPage = 256;
constexpr std::size_t kChunkItems = 125;
// How long a large page's append, begun beside the read, waits for the read to end.
constexpr std::chrono::milliseconds kAppendWaitsForRead{500};

CategorySet category_set(const std::vector<std::string>& names) {
  CategorySet set;
  for (const auto& n : names) {
    if (auto c = parse_category(n)) set.insert(*c);
  }
  return set;
}

// Consent decisions for (purpose, participant) pairs of one grantee, looked up once per purpose
// for all participants (a feed page or a chunk of pending referrals asks for hundreds).
using ConsentAsks = std::vector<std::pair<Purpose, std::string>>;
Result<std::map<std::pair<Purpose, std::string>, consent::Decision>> decide_all(
    consent::ConsentRegistry& consents, const std::string& grantee, const ConsentAsks& asks) {
  std::map<Purpose, std::vector<std::string>> by_purpose;
  for (const auto& [purpose, participant] : asks) by_purpose[purpose].push_back(participant);
  std::map<std::pair<Purpose, std::string>, consent::Decision> out;
  for (auto& [purpose, participants] : by_purpose) {
    std::sort(participants.begin(), participants.end());
    participants.erase(std::unique(participants.begin(), participants.end()), participants.end());
    auto decisions = consents.permits_each(participants, grantee, purpose);
    if (!decisions) return decisions.status();
    for (auto& [participant, decision] : *decisions) {
      out.emplace(std::pair{purpose, participant}, std::move(decision));
    }
  }
  return out;
}

// A consent that does not read back keeps `record_id` out of the caller's feed; the operator
// hears of it by ids only, at every pull until the row is repaired.
void note_unreadable_consent(const ExchangeDeps& d, const Organisation& caller,
                             const std::string& record_id) {
  d.metrics.record_integrity_failure("consent");
  d.log.error(
      "integrity",
      {{"recipient", caller.id}, {"record_id", record_id}, {"record", std::string("consent")}});
}

// Puts in the caller's feed what has become deliverable: referrals whose consent now exists (or
// whose flow rests on a public task), outcomes of participants the caller referred. Referrals
// are taken in chunks, oldest first, until the page after `after` can hold `want` items or none
// are left, so one pull never holds or writes the whole backlog at once.
Status materialize(const ExchangeDeps& d, const Organisation& caller, std::int64_t after,
                   std::int64_t want) {
  const std::string now = d.env.now_rfc3339();
  std::int64_t already = 0;
  BRUG_RETURN_IF_ERROR(d.db.read([&](adapters::Stores& s) {
    auto n = s.exchange.feed_count_after(caller.id, after, want);
    if (!n) return n.status();
    already = *n;
    return Status::ok();
  }));
  want -= already;
  std::int64_t after_position = 0, added = 0;
  while (want > 0) {
    std::vector<adapters::PendingReferral> pending;
    struct Deliverable {
      const adapters::PendingReferral* referral;
      Purpose purpose;
      bool needs_consent;
    };
    std::vector<Deliverable> deliverable;
    std::vector<std::string> unreadable;  // noted once the read is done: a retry reads again
    BRUG_RETURN_IF_ERROR(d.db.read([&](adapters::Stores& s) {
      deliverable.clear();
      unreadable.clear();
      auto rows = s.exchange.pending_referrals(caller.id, after_position, kMaterializeChunk);
      if (!rows) return rows.status();
      pending = std::move(rows).value();
      std::vector<Deliverable> candidates;
      ConsentAsks asks;
      for (const auto& p : pending) {
        const auto purpose = parse_purpose(p.purpose);
        const Organisation* from = d.orgs.find(p.source_org);
        if (!purpose || from == nullptr) continue;
        auto plan = plan_flow(d.policies,
                              {party_of(*from), party_of(caller), RecordType::kReferral, *purpose});
        if (!plan) continue;
        candidates.push_back({&p, *purpose, plan->needs_consent});
        if (plan->needs_consent) asks.emplace_back(*purpose, p.participant);
      }
      consent::ConsentRegistry consents(s.consents, [&] { return now; });
      auto decisions = decide_all(consents, caller.id, asks);
      if (!decisions) return decisions.status();
      for (const Deliverable& c : candidates) {
        const consent::Decision* decision =
            c.needs_consent ? &decisions->at({c.purpose, c.referral->participant}) : nullptr;
        if (decision == nullptr || decision->permitted) {
          deliverable.push_back(c);
        } else if (decision->reason == consent::DenyReason::kUnreadable) {
          unreadable.push_back(c.referral->id);
        }
      }
      return Status::ok();
    }));
    for (const std::string& id : unreadable) note_unreadable_consent(d, caller, id);
    if (pending.empty()) break;
    after_position = pending.back().position;
    std::int64_t added_now = 0;
    if (!deliverable.empty()) {
      // A withdrawal may have committed since the read: the write takes only referrals that
      // are still pending and unpurged and whose consent still holds, so nothing enters the
      // feed after the withdrawal's deletion notice.
      BRUG_RETURN_IF_ERROR(d.db.write([&](adapters::Stores& s) {
        consent::ConsentRegistry consents(s.consents, [&] { return now; });
        ConsentAsks asks;
        for (const Deliverable& item : deliverable) {
          if (item.needs_consent) asks.emplace_back(item.purpose, item.referral->participant);
        }
        auto decisions = decide_all(consents, caller.id, asks);
        if (!decisions) return decisions.status();
        std::vector<adapters::NewFeedItem> items;
        items.reserve(deliverable.size());
        for (const Deliverable& item : deliverable) {
          const adapters::PendingReferral* p = item.referral;
          if (item.needs_consent && !decisions->at({item.purpose, p->participant}).permitted) {
            continue;
          }
          items.push_back(
              {caller.id, adapters::FeedKind::kReferral, p->participant, p->id, p->purpose, now});
        }
        auto fed = s.exchange.feed_referrals(items);
        if (!fed) return fed.status();
        added_now = *fed;
        return Status::ok();
      }));
    }
    added += added_now;
    if (added >= want || static_cast<std::int64_t>(pending.size()) < kMaterializeChunk) break;
  }
  if (caller.role != Role::kGemeente && caller.role != Role::kParticipatiebedrijf) {
    return Status::ok();
  }
  std::vector<adapters::OutcomeForSender> outcomes;
  std::vector<std::string> unreadable;
  BRUG_RETURN_IF_ERROR(d.db.read([&](adapters::Stores& s) {
    unreadable.clear();
    auto rows = s.exchange.outcomes_for_sender(caller.id, true);
    if (!rows) return rows.status();
    outcomes = std::move(rows).value();
    consent::ConsentRegistry consents(s.consents, [&] { return now; });
    std::vector<adapters::OutcomeForSender> permitted;
    for (auto& o : outcomes) {
      auto decision = consents.permits(o.participant, caller.id, Purpose::kResultaatverantwoording,
                                       "uitkomsten");
      if (decision && decision->permitted) {
        permitted.push_back(std::move(o));
      } else if (decision && decision->reason == consent::DenyReason::kUnreadable) {
        unreadable.push_back(o.id);
      }
    }
    outcomes = std::move(permitted);
    return Status::ok();
  }));
  for (const std::string& id : unreadable) note_unreadable_consent(d, caller, id);
  if (outcomes.empty()) return Status::ok();
  // An erasure or a withdrawal may have committed since the read: only outcomes of a
  // participant who still has a key and whose consent still holds enter the feed.
  return d.db.write([&](adapters::Stores& s) {
    consent::ConsentRegistry consents(s.consents, [&] { return now; });
    for (const auto& o : outcomes) {
      auto holder = s.exchange.participant(o.participant);
      if (!holder) return holder.status();
      if (!*holder || !(*holder)->wrapped_key) continue;
      auto decision = consents.permits(o.participant, caller.id, Purpose::kResultaatverantwoording,
                                       "uitkomsten");
      if (!decision) return decision.status();
      if (!decision->permitted) continue;
      auto added_item =
          s.exchange.add_feed_item({caller.id, adapters::FeedKind::kOutcome, o.participant, o.id,
                                    "resultaatverantwoording", now});
      if (!added_item) return added_item.status();
    }
    return Status::ok();
  });
}

// plan_flow once per distinct flow of a page (a page has few).
class FlowPlans {
 public:
  explicit FlowPlans(const PolicySet& policies) : policies_(policies) {}
  const std::optional<PlannedFlow>& get(const Flow& flow) {
    for (const auto& [f, plan] : cache_) {
      if (f.from.role == flow.from.role && f.from.org == flow.from.org &&
          f.to.role == flow.to.role && f.to.org == flow.to.org && f.record == flow.record &&
          f.purpose == flow.purpose) {
        return plan;
      }
    }
    return cache_.emplace_back(flow, plan_flow(policies_, flow)).second;
  }

 private:
  const PolicySet& policies_;
  std::deque<std::pair<Flow, std::optional<PlannedFlow>>> cache_;  // stable references
};

// The flow of a feed entry that holds a record; none for deletions, purged records and senders
// or purposes no longer known.
std::optional<Flow> flow_of(const ExchangeDeps& d, const Organisation& caller,
                            const adapters::FeedEntry& f) {
  if (f.kind == adapters::FeedKind::kDeletion) return std::nullopt;
  const Organisation* from = d.orgs.find(f.from);
  const auto purpose = parse_purpose(f.purpose);
  if (from == nullptr || !purpose) return std::nullopt;
  return Flow{
      party_of(*from), party_of(caller),
      f.kind == adapters::FeedKind::kReferral ? RecordType::kReferral : RecordType::kOutcome,
      *purpose};
}

// What one worker of a page needs of its own (nothing here is shared between threads).
struct PagePart {
  PagePart(const ExchangeDeps& d, std::size_t items, std::chrono::year_month_day day)
      : keys(d.keys), plans(d.policies), out(items * 512), today(day) {
    out.begin_array();
  }
  KeyCache keys;
  FlowPlans plans;
  JsonWriter out;
  std::vector<AuditEvent> events;
  // Records that did not open (record id, what): logged and counted by the thread that takes
  // the part, once, not by the opener (a part opened for a read that ran again is dropped).
  std::vector<std::pair<std::string, std::string>> damaged;
  std::chrono::year_month_day today;  // the clock is read once, before the threads start
  Status status;
};

void note_damaged(const ExchangeDeps& d, const Call& call, const PagePart& part) {
  for (const auto& [record_id, what] : part.damaged) {
    d.metrics.record_integrity_failure(what);
    d.log.error("integrity", {{"request_id", call.request.request_id},
                              {"recipient", call.caller.id},
                              {"record_id", record_id},
                              {"record", what}});
  }
}

// Adds one feed entry to the page if it is still permitted, and its audit event either way.
// `consent` is the consent decision for the entry's flow when that flow needs one (read
// before, in the page's transaction).
Status feed_item(const ExchangeDeps& d, const Call& call,
                 const std::optional<consent::Decision>& consent, PagePart& part,
                 const crypto::PseudonymDomain& domain, const FeedCursors& cursors,
                 const adapters::FeedEntry& f) {
  KeyCache& keys = part.keys;
  JsonWriter& out = part.out;
  std::vector<AuditEvent>& events = part.events;
  const Organisation& caller = call.caller;
  AuditEvent e = call.event("feed.read");
  e.subject = audit_subject(d.keys, f.participant);
  e.recipient = caller.id;
  e.purpose = f.purpose;
  e.record_type.clear();
  auto deny = [&](std::string reason) {
    e.decision = "deny";
    e.reason = std::move(reason);
    events.push_back(std::move(e));
    return Status::ok();
  };
  // A stored record or key that does not open (damaged, or moved to another row or recipient)
  // is left out: one integrity event, a metric and a log line naming only ids, and the feed goes
  // on. Any other failure (storage) fails the page.
  auto damaged = [&](const Status& failure, std::string_view what) {
    if (failure.code() != Code::kCorrupt) return failure;
    part.damaged.emplace_back(f.ref_id, std::string(what));
    e.action = "integrity";
    return deny(std::string(what) + "-does-not-open");
  };
  auto index = crypto::ParticipantIndex::from_hex(f.participant);
  if (!index) return index.status();
  const std::string cursor = cursors.encode(f.cursor);
  if (f.kind == adapters::FeedKind::kDeletion) {
    auto p = domain.pseudonym(*index);
    if (!p) return p.status();
    out.begin_object().key("cursor").value(cursor).key("kind").value("deletion");
    out.key("subject").value(p->text()).end_object();
    e.action = "feed.deletion";
    e.decision = "permit";
    events.push_back(std::move(e));
    return Status::ok();
  }
  const bool referral = f.kind == adapters::FeedKind::kReferral;
  e.record_type = referral ? "referral" : "outcome";
  if (!f.sealed) return deny("purged");
  auto key = keys.from_row(f.holder);
  if (!key) return damaged(key.status(), "key");
  if (*key == nullptr) return deny("erased");
  // The recipient bound in the seal is the caller: a row re-addressed in the database to
  // another recipient does not open for it.
  const Addressing addressing =
      referral ? Addressing{f.from, caller.id, f.purpose} : Addressing{f.from, {}, {}};
  auto record = open_json(**key, f.ref_id, f.participant, e.record_type, addressing, *f.sealed);
  if (!record) return damaged(record.status(), e.record_type);
  const auto flow_or = flow_of(d, caller, f);
  if (!flow_or) return deny("no-policy");
  const Flow& flow = *flow_or;
  const Organisation* from = d.orgs.find(f.from);
  const auto& plan = part.plans.get(flow);
  if (!plan) return deny("no-policy");
  CategorySet consented;
  if (plan->needs_consent) {
    if (!consent) return Status::error(Code::kInternal, "feed item without its consent decision");
    const consent::Decision& c = *consent;
    if (c.reason == consent::DenyReason::kUnreadable) {
      return damaged(Status::error(Code::kCorrupt, "consent unreadable"), "consent");
    }
    if (!c.permitted) return deny(std::string(consent::to_string(c.reason)));
    consented = category_set(c.categories);
    e.consent_ids = c.consent_ids;
  }
  e.basis = plan->basis();
  const Decision decision = d.policies.view_for(flow, *record, consented, part.today);
  if (!decision.permitted()) return deny("policy");
  const View& view = decision.view();
  if (view.fields.empty()) return deny("nothing-permitted");
  // Projects know a participant only by their own pseudonym; government parties by BSN, opened
  // before anything of the item is written so that a refusal leaves no half item.
  std::vector<std::uint8_t> bsn;
  if (caller.role != Role::kProject) {
    if (!f.holder.sealed_bsn) return deny("erased");
    auto opened = crypto::open_record(**key, {f.participant, *index, "bsn"}, *f.holder.sealed_bsn);
    if (!opened) return damaged(opened.status(), "bsn");
    bsn = std::move(opened).value();
  }
  out.begin_object().key("cursor").value(cursor).key("kind").value(to_string(f.kind));
  if (caller.role == Role::kProject) {
    auto p = domain.pseudonym(*index);
    if (!p) return p.status();
    out.key("subject").value(p->text());
  } else {
    out.key("subject").begin_object().key("bsn");
    out.value(std::string_view(reinterpret_cast<const char*>(bsn.data()), bsn.size()));
    out.end_object();
    sodium_memzero(bsn.data(), bsn.size());
  }
  out.key("from").value(from->id).key("record").begin_object();
  for (const ViewField& field : view.fields) {
    out.key(field.name);
    std::visit([&](const auto& v) { out.value(v); }, field.value);
  }
  out.end_object().end_object();
  e.decision = "permit";
  e.fields = view.disclosed();
  e.policy_ids = view.policies;
  events.push_back(std::move(e));
  return Status::ok();
}

bool parse_number(const std::string& s, std::int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  out = std::stoll(s);
  return true;
}

// The consent decisions of `entries`, in this transaction: for each entry whose flow needs one
// (one look-up per purpose for all of them), none for the others.
Status decide_consents(const ExchangeDeps& d, const Organisation& caller,
                       consent::ConsentRegistry& consents, FlowPlans& plans,
                       const std::vector<adapters::FeedEntry>& entries,
                       std::vector<std::optional<consent::Decision>>& out) {
  out.assign(entries.size(), std::nullopt);
  std::vector<std::size_t> needing;
  ConsentAsks asks;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const adapters::FeedEntry& f = entries[i];
    const auto flow = flow_of(d, caller, f);
    if (!f.sealed || !flow) continue;
    const auto& plan = plans.get(*flow);
    if (plan && plan->needs_consent) {
      needing.push_back(i);
      asks.emplace_back(flow->purpose, f.participant);
    }
  }
  auto decisions = decide_all(consents, caller.id, asks);
  if (!decisions) return decisions.status();
  for (std::size_t k = 0; k < needing.size(); ++k) out[needing[k]] = decisions->at(asks[k]);
  return Status::ok();
}

// Part of a page: its entries and their consent decisions as read, and what opening them made.
struct PageChunk {
  std::vector<adapters::FeedEntry> entries;
  std::vector<std::optional<consent::Decision>> consent;
  std::unique_ptr<PagePart> part;
};

// What opening a page's chunks needs, the same for every chunk.
struct PageContext {
  const ExchangeDeps& d;
  const Call& call;
  const crypto::PseudonymDomain& domain;
  const FeedCursors& cursors;
  std::chrono::year_month_day today;
  std::string now;  // the time of the page's events
};

// Opens every entry of `chunk` into its part. Nothing may escape: an exception leaving a helper
// thread would end the process.
void open_chunk(const PageContext& p, PageChunk& chunk) noexcept {
  PagePart& part = *chunk.part;  // made by the thread that handed the chunk over
  try {
    for (std::size_t i = 0; i < chunk.entries.size() && part.status.is_ok(); ++i) {
      part.status =
          feed_item(p.d, p.call, chunk.consent[i], part, p.domain, p.cursors, chunk.entries[i]);
    }
    part.out.end_array();
    // Their leaves too, here rather than in the thread that appends them in order.
    for (AuditEvent& e : part.events) prepare_leaf(e, p.now);
  } catch (...) {
    // No exception text: it could quote what was being opened.
    part.status = Status::error(Code::kInternal, "feed page aborted by an exception");
  }
}

// A chunk of `entries`, ready to be opened.
PageChunk chunk_of(const PageContext& p, std::vector<adapters::FeedEntry> entries) {
  PageChunk chunk;
  chunk.entries = std::move(entries);
  chunk.part = std::make_unique<PagePart>(p.d, chunk.entries.size() + 1, p.today);
  return chunk;
}

Response page_response(const std::vector<PageChunk>& chunks, std::size_t count,
                       const FeedCursors& cursors, std::int64_t next) {
  std::size_t items = 0;
  for (std::size_t c = 0; c < count; ++c) items += chunks[c].entries.size();
  JsonWriter out(items * 512 + 256);
  out.begin_object().key("items").begin_array();
  for (std::size_t c = 0; c < count; ++c) out.elements(chunks[c].part->out.array_elements());
  out.end_array().key("next_cursor").value(cursors.encode(next));
  out.end_object();
  return json_response(200, out.take());
}

// A page of fewer than kStreamedPage items: read whole, opened on one or two threads, its events
// left to the chain's audit step (one group commit with other requests' events).
Answer small_page(const PageContext& p, const Organisation& caller, std::int64_t after,
                  std::int64_t limit, const std::string& now) {
  const ExchangeDeps& d = p.d;
  std::vector<PageChunk> chunks(1);
  std::int64_t next = after;
  Status read = d.db.read([&](adapters::Stores& s) {
    next = after;
    auto rows = s.exchange.feed_page(caller.id, after, limit);
    if (!rows) return rows.status();
    chunks.resize(1);
    chunks[0].entries = std::move(rows).value();
    if (!chunks[0].entries.empty()) next = chunks[0].entries.back().cursor;
    consent::ConsentRegistry consents(s.consents, [&] { return now; });
    FlowPlans plans(d.policies);
    return decide_consents(d, caller, consents, plans, chunks[0].entries, chunks[0].consent);
  });
  if (!read.is_ok()) return Answer::fail(read);
  if (chunks[0].entries.size() >= kParallelPage) {
    // Two halves, on this thread and one more.
    PageChunk second;
    const std::size_t half = chunks[0].entries.size() / 2;
    auto& first = chunks[0];
    second.entries.assign(std::make_move_iterator(first.entries.begin() + half),
                          std::make_move_iterator(first.entries.end()));
    second.consent.assign(first.consent.begin() + half, first.consent.end());
    first.entries.resize(half);
    first.consent.resize(half);
    chunks.push_back(std::move(second));
  }
  for (PageChunk& c : chunks) {
    c.part = std::make_unique<PagePart>(d, c.entries.size() + 1, p.today);
  }
  {
    std::optional<std::jthread> helper;
    if (chunks.size() == 2) helper.emplace([&] { open_chunk(p, chunks[1]); });
    open_chunk(p, chunks[0]);
  }
  for (const PageChunk& c : chunks) note_damaged(d, p.call, *c.part);
  std::vector<AuditEvent> events;
  for (PageChunk& c : chunks) {
    if (!c.part->status.is_ok()) return Answer::fail(c.part->status);
    for (AuditEvent& e : c.part->events) events.push_back(std::move(e));
  }
  return Answer::respond(page_response(chunks, chunks.size(), p.cursors, next), std::move(events));
}

// A large page (limit of kStreamedPage or more): two threads open its chunks of kChunkItems as
// the read hands them over, and a third stores the events of the chunks already opened, in
// order, in one write transaction, from the moment the page is known to be long. The read, the
// opening and the audit append overlap (on PostgreSQL, the read and the append are two server
// processes at work at once).
Answer streamed_page(const PageContext& p, const Organisation& caller, std::int64_t after,
                     std::int64_t limit, const std::string& now) {
  const ExchangeDeps& d = p.d;
  const auto max_chunks = static_cast<std::size_t>(limit + kChunkItems - 1) / kChunkItems;
  std::vector<PageChunk> chunks(max_chunks);
  std::mutex mu;
  std::condition_variable cv;
  std::size_t published = 0;        // chunks[0, published) are read and may be opened
  std::size_t published_items = 0;  // the items in them
  bool read_over = false;
  std::vector<bool> ready(max_chunks, false);
  std::atomic<std::size_t> taken{0};
  bool abandoned = false;  // under mu: the threads stop, the append rolls back
  auto opener = [&] {
    for (;;) {
      const std::size_t c = taken.fetch_add(1);
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return abandoned || c < published || read_over; });
        if (abandoned || c >= published) return;
      }
      open_chunk(p, chunks[c]);
      {
        std::lock_guard lock(mu);
        ready[c] = true;
      }
      cv.notify_all();
    }
  };
  // The append: each chunk's events once it is opened, until the read is over and every chunk
  // read is stored. A write the store runs again starts from the first chunk again.
  // Run beside the read (`beside`), it holds the write lock while the read goes on, so it waits
  // for the read at most kAppendWaitsForRead: past that (a stalled or retried read) it rolls
  // back and gives up, so other writers are not held up and a read retried on a full connection
  // pool cannot wait for a connection that a writer queued behind this append holds; the page is
  // then appended after the read.
  bool gave_up = false;  // written by the appender, read after it is joined
  auto append = [&](bool beside) {
    const auto deadline = std::chrono::steady_clock::now() + kAppendWaitsForRead;
    // Waits for `done`; beside the read, false when the deadline passed with the read not over.
    auto wait = [&](std::unique_lock<std::mutex>& lock, const auto& done) {
      if (beside && !cv.wait_until(lock, deadline, [&] { return done() || read_over; })) {
        return false;
      }
      cv.wait(lock, done);  // the read is over: what is left is the openers' work
      return true;
    };
    auto stopped = [] { return Status::error(Code::kInternal, "feed page abandoned"); };
    auto give_up = [&] {
      gave_up = true;
      return Status::error(Code::kUnavailable, "feed page's append gave up waiting for its read");
    };
    return d.audit.stream([&](const AuditLog::Emit& emit) {
      for (std::size_t c = 0; c < max_chunks; ++c) {
        {
          std::unique_lock lock(mu);
          if (!wait(lock, [&] { return abandoned || ready[c] || (read_over && c >= published); })) {
            return give_up();
          }
          if (abandoned) return stopped();
          if (!ready[c]) break;  // the read is over and c was not in it
        }
        BRUG_RETURN_IF_ERROR(chunks[c].part->status);
        BRUG_RETURN_IF_ERROR(emit(chunks[c].part->events));
      }
      // Committed only once the read is over: a page that filled every chunk may still be read
      // again, and then this append is abandoned.
      std::unique_lock lock(mu);
      if (!wait(lock, [&] { return abandoned || read_over; })) return give_up();
      if (abandoned) return stopped();
      return Status::ok();
    });
  };
  std::optional<Status> logged;  // the appender's outcome, when it ran
  auto appender = [&]() noexcept {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return abandoned || read_over || published_items >= kStreamedPage; });
      // A page as short as a small one (a client that asks for 1000 and finds a few) is not
      // appended here: its events join the chain's group commit, and an empty page writes
      // nothing.
      if (abandoned || published_items < kStreamedPage) return;
    }
    try {
      logged = append(true);
    } catch (...) {
      logged = Status::error(Code::kInternal, "feed page's append failed");
    }
  };
  // The threads, declared after everything they use: stopped and joined before it goes away,
  // whatever happens below (an exception too).
  struct Workers {
    bool& abandoned;
    std::mutex& mu;
    std::condition_variable& cv;
    std::jthread first, second, appender;
    void stop() {
      {
        std::lock_guard lock(mu);
        abandoned = true;
      }
      cv.notify_all();
      for (std::jthread* t : {&first, &second, &appender}) {
        if (t->joinable()) t->join();
      }
    }
    ~Workers() { stop(); }
  } workers{abandoned, mu, cv, {}, {}, {}};
  workers.first = std::jthread(opener);
  workers.second = std::jthread(opener);
  workers.appender = std::jthread(appender);

  // A read that runs again (a store may retry one) cannot take back the chunks the first run
  // handed over: a later run reads into `again`, and those chunks are opened and appended afresh
  // once the first run's append is rolled back.
  int runs = 0;
  std::vector<PageChunk> again;
  Status read = d.db.read([&](adapters::Stores& s) {
    const bool first_run = ++runs == 1;
    again.clear();
    consent::ConsentRegistry consents(s.consents, [&] { return now; });
    FlowPlans plans(d.policies);
    return s.exchange.feed_page_parts(
        caller.id, after, limit, kChunkItems, [&](std::vector<adapters::FeedEntry> entries) {
          if (entries.empty()) return Status::ok();
          PageChunk chunk = chunk_of(p, std::move(entries));
          BRUG_RETURN_IF_ERROR(
              decide_consents(d, caller, consents, plans, chunk.entries, chunk.consent));
          if (!first_run) {
            again.push_back(std::move(chunk));
            return Status::ok();
          }
          {
            std::lock_guard lock(mu);
            if (published == max_chunks) {
              return Status::error(Code::kInternal, "feed page longer than its limit");
            }
            published_items += chunk.entries.size();
            chunks[published] = std::move(chunk);
            ++published;
          }
          cv.notify_all();
          return Status::ok();
        });
  });
  if (!read.is_ok()) {
    workers.stop();  // the append, if it began, rolls back
    return Answer::fail(read);
  }
  if (runs > 1) {
    workers.stop();
    logged.reset();
    if (again.size() > max_chunks) {
      return Answer::fail(Status::error(Code::kInternal, "feed page longer than its limit"));
    }
    for (std::size_t c = 0; c < max_chunks; ++c) {
      chunks[c] = c < again.size() ? std::move(again[c]) : PageChunk{};
    }
    published = again.size();
    published_items = 0;
    for (std::size_t c = 0; c < published; ++c) published_items += chunks[c].entries.size();
    ready.assign(max_chunks, false);
    taken = 0;
    abandoned = false;
    workers.first = std::jthread(opener);
    workers.second = std::jthread(opener);
  }
  {
    std::lock_guard lock(mu);
    read_over = true;
  }
  cv.notify_all();

  const std::size_t count = published;
  const std::int64_t next = count == 0 ? after : chunks[count - 1].entries.back().cursor;
  auto wait_for = [&](std::size_t c) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready[c]; });
  };
  if (published_items < kStreamedPage) {
    for (std::size_t c = 0; c < count; ++c) wait_for(c);
    for (std::size_t c = 0; c < count; ++c) note_damaged(d, p.call, *chunks[c].part);
    std::vector<AuditEvent> events;
    for (std::size_t c = 0; c < count; ++c) {
      if (!chunks[c].part->status.is_ok()) return Answer::fail(chunks[c].part->status);
      for (AuditEvent& e : chunks[c].part->events) events.push_back(std::move(e));
    }
    return Answer::respond(page_response(chunks, count, p.cursors, next), std::move(events));
  }
  if (workers.appender.joinable()) workers.appender.join();
  // After a read that ran again, or one the append gave up waiting for.
  if (!logged || gave_up) logged = append(false);
  // Once, whatever the append came to (a write may run its callback again).
  workers.stop();
  for (std::size_t c = 0; c < count; ++c) {
    if (ready[c]) note_damaged(d, p.call, *chunks[c].part);
  }
  if (!logged->is_ok()) return Answer::fail(*logged);
  return Answer::committed(page_response(chunks, count, p.cursors, next));
}

}  // namespace

Answer pull_feed(const ExchangeDeps& d, Call& call) {
  const Organisation& caller = call.caller;
  std::int64_t after = 0, limit = kDefaultFeedLimit;
  for (const auto& [k, v] : call.request.query) {
    if (k == "after") {
      const auto position = decode_feed_cursor(d.keys, caller.id, v);
      if (position) after = *position;
      if (!position) {
        return Answer::refuse(
            {400, "bad-cursor", "Bad cursor", "after: must be a cursor this feed returned."});
      }
    } else if (k == "limit") {
      if (!parse_number(v, limit) || limit < 1 || limit > kMaxFeedLimit) {
        return Answer::refuse(validation_problem(
            "limit", "must be a number from 1 to " + std::to_string(kMaxFeedLimit)));
      }
    } else {
      return Answer::refuse(validation_problem(query_name(k), "unknown query parameter"));
    }
  }
  if (Status m = materialize(d, caller, after, limit); !m.is_ok()) return Answer::fail(m);

  auto domain = crypto::PseudonymDomain::open(d.keys.pseudonym_key(), caller.id);
  if (!domain) return Answer::fail();
  const FeedCursors cursors(d.keys, caller.id);
  const std::string now = d.env.now_rfc3339();
  const PageContext context{d, call, *domain, cursors, today(d.env), now};
  return static_cast<std::size_t>(limit) < kStreamedPage
             ? small_page(context, caller, after, limit, now)
             : streamed_page(context, caller, after, limit, now);
}

}  // namespace brug::gateway
