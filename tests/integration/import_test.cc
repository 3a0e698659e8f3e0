// `brug import referrals` end to end: the real binary against the real gateway over mutual TLS.
// Needs POST /v1/referrals; add this file to SOURCES in CMakeLists.txt once the exchange is in.
#include <gtest/gtest.h>

#include "tests/support/gateway_fixture.h"

namespace brug::testing {
namespace {

const std::string kCsv = BRUG_SOURCE_DIR "/tests/adapters/data/participatiebedrijf-export.csv";

class ImportTest : public GatewayFixture {
 protected:
  static RunResult import(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "import",    "referrals",
        "--csv",     kCsv,
        "--to",      "reconnact-leusden",
        "--purpose", "begeleiding-naar-werk",
        "--config",  dir_->file("dev/brug.json"),
        "--as",      "laborijn",
        "--url",     "https://127.0.0.1:" + std::to_string(gateway_->port())};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_brug(args);
  }
};

TEST_F(ImportTest, TheMessyFileImportsItsGoodRowsOnceAndReportsTheBadOnesByLine) {
  const RunResult first = import();
  EXPECT_EQ(first.exit_code, 1) << first.output;
  EXPECT_NE(first.output.find(kCsv + ":3: bsn: is not a valid BSN"), std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find(kCsv + ":5: doelgroep: must be one of"), std::string::npos);
  EXPECT_NE(first.output.find(kCsv + ":7: doelgroep: is required"), std::string::npos);
  EXPECT_NE(first.output.find("imported 3, duplicates 0, rejected 3 (of 6 rows)"),
            std::string::npos)
      << first.output;
  // Values are personal data: neither the bad BSN nor the unknown enum value is echoed.
  EXPECT_EQ(first.output.find("123456789"), std::string::npos);
  EXPECT_EQ(first.output.find("Vrijwilligerswerk"), std::string::npos);

  const RunResult again = import({"--batch", "2"});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("imported 0, duplicates 3, rejected 3 (of 6 rows)"),
            std::string::npos)
      << again.output;
}

TEST_F(ImportTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run_brug({"import", "referrals", "--csv", kCsv}).exit_code, 2);
  EXPECT_EQ(import({"--purpose", "onbekend"}).exit_code, 2);
  EXPECT_EQ(import({"--url", "http://127.0.0.1:1"}).exit_code, 2);
}

TEST_F(ImportTest, DryRunChecksWithoutSending) {
  const RunResult r = import({"--dry-run"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("dry run: valid 3, rejected 3 (of 6 rows); nothing was sent"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace brug::testing
