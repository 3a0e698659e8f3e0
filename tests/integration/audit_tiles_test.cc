// `brug audit fetch` (the real binary, over mutual TLS with the auditor's certificate) saves the
// C2SP checkpoint and tiles of a running gateway; `brug audit verify --tiles` checks them: the
// note signature, every entry parsed and chained, every hash tile, the root from the tiles. A
// flipped byte in an entry bundle, a hash tile or the checkpoint signature fails it, naming
// the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/gateway_fixture.h"

namespace brug::testing {
namespace {

namespace fs = std::filesystem;

class AuditTilesTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() {
    start();
    // `brug audit fetch` reaches the gateway through the config's listen address.
    auto with_port = nlohmann::json::parse(TempDir::read(dir_->file("dev/brug.json")));
    with_port["listen"]["port"] = gateway_->port();
    std::ofstream(dir_->file("dev/auditor.json")) << with_port.dump(2);
    auto c = client(kLaborijn);  // refused reads of the log: 300 audit events
    for (int i = 0; i < 300; ++i) {
      ASSERT_EQ(c.get("/v1/audit/entries?start=0&end=1").status, 403);
    }
  }
  static std::string pubkey() {
    return run_brug({"audit", "pubkey", "--config", dir_->file("dev/brug.json")})
        .output.substr(0, 64);
  }
  static RunResult fetch(const std::string& out, const std::string& as = kAuditor) {
    return run_brug(
        {"audit", "fetch", "--config", dir_->file("dev/auditor.json"), "--as", as, "--out", out});
  }
  static RunResult verify(const std::string& dir, const std::string& key = pubkey()) {
    return run_brug({"audit", "verify", "--tiles", dir, "--pubkey", key});
  }
  // A copy of a fetched folder with the byte at `at` of `file` changed.
  static std::string tampered(const std::string& fetched, const std::string& file, std::size_t at) {
    const std::string copy =
        fetched + "-" + fs::path(file).filename().string() + "-" + std::to_string(at);
    fs::copy(fetched, copy, fs::copy_options::recursive);
    std::string bytes = TempDir::read(copy + "/" + file);
    EXPECT_LT(at, bytes.size());
    // Another character of the base64 alphabet (flipping a bit could leave it, e.g. 'z' ^ 1 is
    // '{', and the note would then fail to parse instead of to verify); any byte changes.
    bytes[at] = bytes[at] == 'A' ? 'B' : 'A';
    std::ofstream(copy + "/" + file, std::ios::binary | std::ios::trunc) << bytes;
    return copy;
  }
};

TEST_F(AuditTilesTest, TheFetchedCheckpointAndTilesVerify) {
  const std::string dir = dir_->file("fetched");
  auto f = fetch(dir);
  ASSERT_EQ(f.exit_code, 0) << f.output;
  // More than one level-0 tile: a full tile, a partial one, and a partial level-1 tile.
  EXPECT_TRUE(fs::exists(dir + "/checkpoint"));
  EXPECT_TRUE(fs::exists(dir + "/tile/0/000"));
  EXPECT_TRUE(fs::exists(dir + "/tile/entries/000"));
  EXPECT_TRUE(fs::exists(dir + "/tile/1/000.p/1"));
  auto v = verify(dir);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("ok:"), std::string::npos) << v.output;

  // The note verifier key of the JSON checkpoint (what Go's sumdb/note reads) works as well;
  // another log's key, or a verifier key with a wrong hash, does not.
  const std::string vkey = json(client(kAuditor).get("/v1/audit/checkpoint"))["note_verifier_key"];
  auto by_vkey = verify(dir, vkey);
  EXPECT_EQ(by_vkey.exit_code, 0) << by_vkey.output;
  auto other = verify(dir, std::string(64, 'a'));
  EXPECT_EQ(other.exit_code, 1) << other.output;
  std::string bad_hash = vkey;
  const auto plus = bad_hash.find('+');
  bad_hash[plus + 1] = bad_hash[plus + 1] == '0' ? '1' : '0';
  EXPECT_EQ(verify(dir, bad_hash).exit_code, 2) << "a wrong command line";
}

TEST_F(AuditTilesTest, AFlippedByteInAnEntryBundleATileOrTheSignatureFailsNamingTheFile) {
  const std::string dir = dir_->file("fetched-for-tamper");
  ASSERT_EQ(fetch(dir).exit_code, 0);
  ASSERT_EQ(verify(dir).exit_code, 0);

  const std::string bundle = "tile/entries/000";
  const auto bundle_size = TempDir::read(dir + "/" + bundle).size();
  auto e = verify(tampered(dir, bundle, bundle_size / 2));
  EXPECT_EQ(e.exit_code, 1) << e.output;
  EXPECT_NE(e.output.find(bundle + ": "), std::string::npos) << e.output;

  auto t = verify(tampered(dir, "tile/0/000", 32 * 7 + 3));
  EXPECT_EQ(t.exit_code, 1) << t.output;
  EXPECT_NE(t.output.find("tile/0/000: hash 7 is not the leaf hash of entry 7"), std::string::npos)
      << t.output;

  // The signature: a base64 character in the middle of the first signature line.
  const std::string note = TempDir::read(dir + "/checkpoint");
  const std::size_t line = note.find("\n\n") + 2;
  const std::size_t sig = note.find(' ', note.find(' ', line) + 1) + 1;
  const std::size_t end = note.find('\n', sig);
  auto s = verify(tampered(dir, "checkpoint", sig + (end - sig) / 2));
  EXPECT_EQ(s.exit_code, 1) << s.output;
  EXPECT_NE(s.output.find("/checkpoint: not signed by the log's key"), std::string::npos)
      << s.output;

  auto missing = dir_->file("fetched-missing");
  fs::copy(dir, missing, fs::copy_options::recursive);
  fs::remove(missing + "/tile/0/000");
  auto m = verify(missing);
  EXPECT_EQ(m.exit_code, 1) << m.output;
  EXPECT_NE(m.output.find(missing + "/tile/0/000: missing"), std::string::npos) << m.output;
}

TEST_F(AuditTilesTest, OnlyAnAuditorFetchesTheTiles) {
  auto f = fetch(dir_->file("not-auditor"), kLaborijn);
  EXPECT_EQ(f.exit_code, 1) << f.output;
  EXPECT_NE(f.output.find("status 403"), std::string::npos) << f.output;
}

}  // namespace
}  // namespace brug::testing
