// A real `brug serve` killed with SIGKILL under concurrent pushes, consents, outcomes and
// withdrawals, restarted and checked (tests/support/crash_workload.h): what was acknowledged is
// stored, no batch is half-stored, every stored item has its audit event, every withdrawal has
// its deletion notice, and `brug audit verify` passes. Three short rounds here; bench/crash_main.cc
// (scripts/crash-test.sh) runs twenty or more.
#include <gtest/gtest.h>

#include "tests/support/crash_workload.h"
#include "tests/support/temp_dir.h"

namespace brug::testing {
namespace {

TEST(CrashTest, EveryAcknowledgedItemSurvivesAKillNineWithItsAuditEventsAndNoHalfBatch) {
  TempDir dir;
  crash::CrashRun run(
      {.brug_binary = BRUG_BINARY,
       .dir = dir.file("dev"),
       .people_per_round = 30,
       .batch_size = 30,
       .min_delay_ms = 300,
       .max_delay_ms = 600,
       .seed = static_cast<unsigned>(::testing::UnitTest::GetInstance()->random_seed())});
  ASSERT_EQ(run.init(), "");
  int acknowledged = 0;
  for (int round = 0; round < 3; ++round) {
    crash::RoundCounts counts;
    crash::CheckReport report;
    const std::string violation = run.round(round, counts, report);
    ASSERT_EQ(violation, "") << "round " << round << "\n" << run.log_tail();
    acknowledged += counts.referrals_acked + counts.consents_acked + counts.outcomes_acked +
                    counts.withdrawals_acked;
    EXPECT_GT(report.counts.audit_events, 0U);
  }
  // The kill came while the gateway was working: the checks had something to check.
  EXPECT_GT(acknowledged, 0);
  // And they can fail: a batch made of one stored item and one never sent is half-stored.
  const crash::Batch* stored = nullptr;
  for (const auto& b : run.ledger().batches) {
    if (b.acked) stored = &b;
  }
  ASSERT_NE(stored, nullptr) << "no batch was acknowledged in three rounds";
  crash::Batch half;
  half.refs = {stored->refs.front(), "never-sent"};
  half.people = {stored->people.front(), stored->people.front()};
  const auto report = run.check_with({half});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.violations.front().find("check 2"), std::string::npos)
      << report.violations.front();
}

TEST(CrashTest, TheChecksCatchAnAcknowledgedReferralThatIsNotStored) {
  // The checks themselves can fail: a batch claimed acknowledged but never sent is reported.
  TempDir dir;
  crash::CrashRun run({.brug_binary = BRUG_BINARY, .dir = dir.file("dev")});
  ASSERT_EQ(run.init(), "");
  crash::Batch ghost;
  ghost.refs = {"never-sent"};
  ghost.people = {0};
  ghost.acked = true;
  ghost.ids = {"ref_x"};
  const auto report = run.check_with({ghost});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.violations.front().find("check 1"), std::string::npos)
      << report.violations.front();
}

}  // namespace
}  // namespace brug::testing
