// The audit log in the C2SP formats, checked by an independent implementation: Go's
// golang.org/x/mod/sumdb/note and sumdb/tlog (tests/tlog/tlogverify) fetch the checkpoint note
// and the tiles from the running gateway, verify the signature, recompute the root from the
// entries, and check inclusion and consistency proofs. Tampering with a stored leaf fails it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "adapters/sqlite/storage.h"
#include "crypto/encoding.h"
#include "crypto/keydir.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"
#include "gateway/audit/tlog.h"
#include "tests/support/gateway_fixture.h"

namespace brug::testing {
namespace {

class TlogTest : public GatewayFixture {
 protected:
  // `n` audit events: refused reads of the log (a participatiebedrijf is no auditor).
  static void events(int n) {
    auto c = client(kLaborijn);
    for (int i = 0; i < n; ++i) ASSERT_EQ(c.get("/v1/audit/entries?start=0&end=1").status, 403);
  }
  static nlohmann::json json_checkpoint() {
    return json(client(kAuditor).get("/v1/audit/checkpoint"));
  }
  static RunResult verify(const std::string& vkey, const std::string& state,
                          const std::string& who = kAuditor) {
    if (!std::filesystem::exists(BRUG_TLOGVERIFY)) {
      ADD_FAILURE() << BRUG_TLOGVERIFY << " is missing: install golang-go and "
                    << "golang-golang-x-mod-dev (scripts/setup.sh test)";
      return {};
    }
    return run_program(
        BRUG_TLOGVERIFY,
        {"-url", "https://localhost:" + std::to_string(gateway_->port()), "-ca", pki("ca.pem"),
         "-cert", pki(who + ".pem"), "-key", pki(who + ".key"), "-vkey", vkey, "-state", state});
  }
};

TEST_F(TlogTest, GoVerifiesTheNoteTilesAndProofsAndConsistencyAcrossGrowth) {
  events(300);  // more than one full level-0 tile
  const std::string vkey = json_checkpoint()["note_verifier_key"];
  const std::string state = dir_->file("witness-state");
  auto first = verify(vkey, state);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("ok "), std::string::npos) << first.output;
  events(20);
  auto second = verify(vkey, state);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("consistent "), std::string::npos) << second.output;
}

TEST_F(TlogTest, GoRefusesAnotherKeyAndANonAuditorIsRefused) {
  events(3);
  auto other = crypto::SigningKey::generate();
  ASSERT_TRUE(other);
  const std::string origin = json_checkpoint()["origin"];
  const auto wrong = gateway::note_verifier_key(origin, gateway::kNoteEd25519, other->verify_key());
  auto v = verify(wrong, dir_->file("other-state"));
  EXPECT_EQ(v.exit_code, 1) << v.output;
  EXPECT_NE(v.output.find("checkpoint note"), std::string::npos) << v.output;
  EXPECT_EQ(client(kLaborijn).get("/v1/audit/log/checkpoint").status, 403);
  EXPECT_EQ(client(kLaborijn).get("/v1/audit/log/tile/0/000.p/1").status, 403);
}

TEST_F(TlogTest, TheCheckpointIsASignedNoteOfTheNewestTree) {
  events(2);
  auto r = client(kAuditor).get("/v1/audit/log/checkpoint");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  auto note = gateway::parse_note(r.body);
  ASSERT_TRUE(note) << note.message();
  auto body = gateway::parse_checkpoint_body(note->body);
  ASSERT_TRUE(body) << body.message();
  const auto j = json_checkpoint();
  EXPECT_EQ(body->origin, j["origin"]);
  EXPECT_GE(j["size"].get<std::uint64_t>(), body->size);
  auto key = crypto::VerifyKey::from_hex(j["public_key"].get<std::string>());
  ASSERT_TRUE(key);
  EXPECT_TRUE(gateway::verify_note(*note, body->origin, *key).is_ok());
  // The signature line is the C2SP one: the key id is SHA-256(name \n 0x01 key)[:4].
  ASSERT_EQ(note->signatures.size(), 1u);
  const auto id = gateway::note_key_hash(body->origin, gateway::kNoteEd25519, *key);
  EXPECT_TRUE(std::equal(id.begin(), id.end(), note->signatures[0].bytes.begin()));
  // A changed size no longer verifies.
  auto forged = *note;
  forged.body = gateway::checkpoint_body(body->origin, body->size + 1, body->root);
  EXPECT_FALSE(gateway::verify_note(forged, body->origin, *key).is_ok());
}

TEST_F(TlogTest, TilesAreImmutableWhenFullAndRefusedWhenNotThereYet) {
  events(260);
  auto full = client(kAuditor).get("/v1/audit/log/tile/0/000");
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(full.body.size(), 256u * 32u);
  EXPECT_EQ(full.content_type, "application/octet-stream");
  EXPECT_EQ(full.headers["Cache-Control"], "public, max-age=31536000, immutable");
  auto partial = client(kAuditor).get("/v1/audit/log/tile/0/001.p/1");
  ASSERT_EQ(partial.status, 200) << partial.body;
  EXPECT_EQ(partial.body.size(), 32u);
  EXPECT_EQ(partial.headers["Cache-Control"], "no-store");
  // The hashes are the stored leaves' hashes: entry 256 hashes to the partial tile's first.
  auto bundle = client(kAuditor).get("/v1/audit/log/tile/entries/001.p/1");
  ASSERT_EQ(bundle.status, 200);
  auto leaves = gateway::parse_entry_bundle(bundle.body);
  ASSERT_TRUE(leaves);
  ASSERT_EQ(leaves->size(), 1u);
  const auto h = crypto::merkle_leaf_hash(crypto::bytes_of((*leaves)[0]));
  EXPECT_EQ(std::string(h.begin(), h.end()), partial.body);
  auto entries = client(kAuditor).get("/v1/audit/log/tile/entries/000");
  ASSERT_EQ(entries.status, 200);
  EXPECT_EQ(gateway::parse_entry_bundle(entries.body)->size(), 256u);
  // Not there yet, or not a tile path: 404, and the gateway keeps serving.
  for (const char* path :
       {"0/x001/000", "3/000", "entries/x001/005", "0/x000/001", "0/01", "0/000.p/0", "0/000.p/256",
        "8/000", "0/000.p", "foo/000", "0/000/extra", "00/000"}) {
    auto bad = client(kAuditor).get(std::string("/v1/audit/log/tile/") + path);
    EXPECT_EQ(bad.status, 404) << path;
    EXPECT_EQ(json(bad)["type"], "urn:brug:problem:not-found") << path;
  }
  EXPECT_EQ(client(kAuditor).get("/v1/audit/log/tile/0/000?x=1").status, 400);
}

TEST(TlogPaths, RoundTripThePaths) {
  for (std::uint64_t n : {0ull, 7ull, 999ull, 1000ull, 1234067ull, 18446744073709551615ull}) {
    for (unsigned w : {1u, 100u, 256u}) {
      const gateway::TileRef t{.entries = false, .level = 2, .index = n, .width = w};
      const auto p = gateway::tile_path(t);
      auto back = gateway::parse_tile_path(p);
      ASSERT_TRUE(back) << p;
      EXPECT_EQ(back->index, n) << p;
      EXPECT_EQ(back->width, w) << p;
      EXPECT_EQ(back->level, 2u) << p;
    }
  }
  EXPECT_EQ(gateway::tile_path({.entries = true, .level = 0, .index = 1234067, .width = 5}),
            "entries/x001/x234/067.p/5");
}

class TlogTamperTest : public GatewayFixture {};

TEST_F(TlogTamperTest, GoFindsAChangedLeaf) {
  auto c = client(kLaborijn);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(c.get("/v1/audit/entries?start=0&end=1").status, 403);
  const auto j = json(client(kAuditor).get("/v1/audit/checkpoint"));
  auto db = adapters::open_sqlite_storage({.path = config_->sqlite_path});
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)
                  ->transact([](adapters::Tx& tx) {
                    return tx
                        .exec(
                            "UPDATE audit_events SET leaf = CAST(REPLACE(CAST(leaf AS TEXT), "
                            "'\"deny\"', '\"permit\"') AS BLOB) WHERE idx = 3")
                        .status();
                  })
                  .is_ok());
  auto v = run_program(
      BRUG_TLOGVERIFY,
      {"-url", "https://localhost:" + std::to_string(gateway_->port()), "-ca", pki("ca.pem"),
       "-cert", pki(std::string(kAuditor) + ".pem"), "-key", pki(std::string(kAuditor) + ".key"),
       "-vkey", j["note_verifier_key"].get<std::string>()});
  EXPECT_EQ(v.exit_code, 1) << v.output;
  EXPECT_NE(v.output.find("entry 3 does not match its tile hash"), std::string::npos) << v.output;
}

// `brug audit export` signs a checkpoint over everything it exports: verify passes at once on an
// honest log, and the export carries the same checkpoint as a C2SP note.
class AuditExportTest : public GatewayFixture {};

TEST_F(AuditExportTest, VerifyPassesRightAfterExportWithoutAskingForACheckpoint) {
  auto c = client(kLaborijn);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.get("/v1/audit/entries?start=0&end=1").status, 403);
  const std::string out = dir_->file("export");
  auto e = run_brug({"audit", "export", "--config", dir_->file("dev/brug.json"), "--out", out});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  auto key = run_brug({"audit", "pubkey", "--config", dir_->file("dev/brug.json")});
  auto v = run_brug({"audit", "verify", out, "--pubkey", key.output.substr(0, 64)});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  // The note names the exported size and verifies with the gateway's key.
  auto note = gateway::parse_note(TempDir::read(out + "/checkpoint.note"));
  ASSERT_TRUE(note) << note.message();
  auto body = gateway::parse_checkpoint_body(note->body);
  ASSERT_TRUE(body);
  const std::string entries = TempDir::read(out + "/entries.jsonl");
  EXPECT_EQ(body->size,
            static_cast<std::uint64_t>(std::count(entries.begin(), entries.end(), '\n')));
  auto pub = crypto::VerifyKey::from_hex(key.output.substr(0, 64));
  ASSERT_TRUE(pub);
  EXPECT_TRUE(gateway::verify_note(*note, body->origin, *pub).is_ok());
  // An entry added to the export after the checkpoint is named.
  std::ofstream(out + "/entries.jsonl", std::ios::app) << entries.substr(0, entries.find('\n') + 1);
  auto forged = run_brug({"audit", "verify", out, "--pubkey", key.output.substr(0, 64)});
  EXPECT_EQ(forged.exit_code, 1) << forged.output;
  EXPECT_NE(forged.output.find("first bad index " + std::to_string(body->size)), std::string::npos)
      << forged.output;
}

TEST_F(AuditExportTest, LogboekNamesTheConfiguredProcessingActivity) {
  auto c = client(kGemeente);
  nlohmann::json consent = {{"subject", {{"bsn", "111222333"}}},
                            {"grantee", kReconnact},
                            {"purpose", "begeleiding-naar-werk"},
                            {"categories", {"contact"}},
                            {"valid_from", "2026-01-01"},
                            {"valid_until", "2030-12-31"},
                            {"evidence", {{"method", "digitaal"}, {"reference", "r"}}}};
  ASSERT_EQ(c.post("/v1/consents", consent.dump()).status, 201);
  auto config = nlohmann::json::parse(TempDir::read(dir_->file("dev/brug.json")));
  config["logboek"] = {
      {"processing_activities",
       {{"begeleiding-naar-werk", "https://register.oude-ijsselstreek.invalid/verwerking/17"}}}};
  std::ofstream(dir_->file("dev/brug-logboek.json")) << config.dump(2);
  const std::string out = dir_->file("logboek");
  auto e = run_brug({"audit", "export", "--config", dir_->file("dev/brug-logboek.json"), "--out",
                     out, "--format", "logboek"});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("logboek.processing_activities for begeleiding-naar-werk"),
            std::string::npos)
      << e.output;
  std::istringstream lines(TempDir::read(out + "/logboek.jsonl"));
  int mapped = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto r = nlohmann::json::parse(line);
    const auto& a = r["attributes"];
    if (a["brug.purpose"] == "begeleiding-naar-werk") {
      EXPECT_EQ(a["dpl.core.processing_activity_id"],
                "https://register.oude-ijsselstreek.invalid/verwerking/17");
      ++mapped;
    } else {
      EXPECT_EQ(a["dpl.core.processing_activity_id"], a["brug.purpose"]);
    }
  }
  EXPECT_GT(mapped, 0);
}

}  // namespace
}  // namespace brug::testing
