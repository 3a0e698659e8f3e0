#include "crypto/keydir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace brug::crypto {
namespace {

namespace fs = std::filesystem;

// A real temporary directory, removed at the end of the test.
class KeyDirOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "brug-keydir-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    dir_ = base_ + "/keys";
  }
  void TearDown() override { fs::remove_all(base_); }

  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string base_;
  std::string dir_;
};

TEST_F(KeyDirOnDisk, CreateThenLoadGivesTheSameKeys) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  auto a = KeyDir::load(dir_);
  auto b = KeyDir::load(dir_);
  ASSERT_TRUE(a.is_ok()) << a.message();
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(a->participant_index_key() == b->participant_index_key());
  EXPECT_TRUE(a->pseudonym_key() == b->pseudonym_key());
  EXPECT_EQ(a->signing_key().key_id(), b->signing_key().key_id());
  EXPECT_EQ(a->keks().current_version(), 1u);
}

TEST_F(KeyDirOnDisk, CreatesOwnerOnlyFilesAndDirectory) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  EXPECT_EQ(fs::status(dir_).permissions() & fs::perms::all, fs::perms::owner_all);
  for (const char* name : {"root.key", "signing.key", "kek.1"}) {
    EXPECT_EQ(fs::status(file(name)).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << name;
    EXPECT_EQ(fs::file_size(file(name)), 32u) << name;
  }
}

TEST_F(KeyDirOnDisk, PurposeKeysAreDistinct) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  auto k = KeyDir::load(dir_);
  auto pidx = k->participant_index_key().expose();
  auto pseu = k->pseudonym_key().expose();
  auto audit = k->audit_pseudonym_key().expose();
  EXPECT_FALSE(std::equal(pidx.begin(), pidx.end(), pseu.begin()));
  EXPECT_FALSE(std::equal(pidx.begin(), pidx.end(), audit.begin()));
  EXPECT_FALSE(std::equal(pseu.begin(), pseu.end(), audit.begin()));
}

TEST_F(KeyDirOnDisk, TwoKeyDirsHaveDifferentKeys) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  ASSERT_TRUE(KeyDir::create(base_ + "/other").is_ok());
  auto a = KeyDir::load(dir_);
  auto b = KeyDir::load(base_ + "/other");
  EXPECT_FALSE(a->pseudonym_key() == b->pseudonym_key());
  EXPECT_NE(a->signing_key().key_id(), b->signing_key().key_id());
}

TEST_F(KeyDirOnDisk, RefusesToOverwriteAnExistingKeyDir) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  auto before = KeyDir::load(dir_);
  auto st = KeyDir::create(dir_);
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_NE(st.message().find(dir_), std::string::npos);
  auto after = KeyDir::load(dir_);
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(before->signing_key().key_id(), after->signing_key().key_id());
}

TEST_F(KeyDirOnDisk, CreateAcceptsAnExistingEmptyDirectory) {
  ASSERT_TRUE(KeyDir::create(base_).is_ok());  // mkdtemp'd, empty
  EXPECT_TRUE(KeyDir::load(base_).is_ok());
}

TEST_F(KeyDirOnDisk, CreateFailsWhenTheParentIsMissing) {
  auto st = KeyDir::create(base_ + "/no/such/parent");
  EXPECT_EQ(st.code(), Code::kIo);
}

TEST_F(KeyDirOnDisk, GroupReadableFileIsRefusedNamingTheFile) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  for (const char* name : {"root.key", "signing.key", "kek.1"}) {
    ASSERT_EQ(::chmod(file(name).c_str(), 0644), 0);
    auto k = KeyDir::load(dir_);
    ASSERT_FALSE(k.is_ok()) << name;
    EXPECT_EQ(k.code(), Code::kPermissionDenied);
    EXPECT_NE(k.message().find(file(name)), std::string::npos) << k.message();
    EXPECT_NE(k.message().find("0644"), std::string::npos) << k.message();
    ASSERT_EQ(::chmod(file(name).c_str(), 0600), 0);
  }
  EXPECT_TRUE(KeyDir::load(dir_).is_ok());
}

TEST_F(KeyDirOnDisk, GroupOnlyPermissionIsAlsoRefused) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  ASSERT_EQ(::chmod(file("kek.1").c_str(), 0620), 0);
  EXPECT_EQ(KeyDir::load(dir_).code(), Code::kPermissionDenied);
}

TEST_F(KeyDirOnDisk, TruncatedFileIsRefusedNamingTheFileNotItsContent) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  ASSERT_EQ(::truncate(file("root.key").c_str(), 31), 0);
  auto k = KeyDir::load(dir_);
  ASSERT_FALSE(k.is_ok());
  EXPECT_EQ(k.code(), Code::kCorrupt);
  EXPECT_NE(k.message().find(file("root.key")), std::string::npos) << k.message();
  EXPECT_NE(k.message().find("31 bytes"), std::string::npos) << k.message();
}

TEST_F(KeyDirOnDisk, OversizedFileIsRefused) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  {
    std::ofstream out(file("signing.key"), std::ios::app | std::ios::binary);
    out << "x";
  }
  auto k = KeyDir::load(dir_);
  EXPECT_EQ(k.code(), Code::kCorrupt);
  EXPECT_NE(k.message().find(file("signing.key")), std::string::npos);
}

TEST_F(KeyDirOnDisk, MissingFileIsNamed) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  fs::remove(file("signing.key"));
  auto k = KeyDir::load(dir_);
  EXPECT_EQ(k.code(), Code::kNotFound);
  EXPECT_NE(k.message().find(file("signing.key")), std::string::npos);
}

TEST_F(KeyDirOnDisk, MissingKekIsRefused) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  fs::remove(file("kek.1"));
  auto k = KeyDir::load(dir_);
  EXPECT_EQ(k.code(), Code::kNotFound);
  EXPECT_NE(k.message().find("kek.1"), std::string::npos);
}

TEST_F(KeyDirOnDisk, SymlinkedKeyFileIsRefused) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  fs::rename(file("root.key"), base_ + "/elsewhere");
  fs::create_symlink(base_ + "/elsewhere", file("root.key"));
  auto k = KeyDir::load(dir_);
  EXPECT_EQ(k.code(), Code::kPermissionDenied);
  EXPECT_NE(k.message().find(file("root.key")), std::string::npos);
}

TEST_F(KeyDirOnDisk, WorldWritableDirectoryIsRefused) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto k = KeyDir::load(dir_);
  EXPECT_EQ(k.code(), Code::kPermissionDenied);
  EXPECT_NE(k.message().find(dir_), std::string::npos);
}

TEST_F(KeyDirOnDisk, MissingDirectoryIsNotFound) {
  EXPECT_EQ(KeyDir::load(base_ + "/nope").code(), Code::kNotFound);
}

TEST_F(KeyDirOnDisk, StrayKekFileIsRefused) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  fs::copy_file(file("kek.1"), file("kek.01"));
  auto k = KeyDir::load(dir_);
  EXPECT_EQ(k.code(), Code::kCorrupt);
  EXPECT_NE(k.message().find(file("kek.01")), std::string::npos);
}

TEST_F(KeyDirOnDisk, AddingAKekVersionKeepsTheOldOnes) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  auto before = KeyDir::load(dir_);
  auto v2 = KeyDir::add_kek_version(dir_);
  ASSERT_TRUE(v2.is_ok()) << v2.message();
  EXPECT_EQ(*v2, 2u);
  auto v3 = KeyDir::add_kek_version(dir_);
  EXPECT_EQ(*v3, 3u);
  EXPECT_EQ(fs::status(file("kek.3")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  auto after = KeyDir::load(dir_);
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(after->keks().current_version(), 3u);
  EXPECT_EQ(after->keks().versions(), (std::vector<std::uint32_t>{1, 2, 3}));
  ASSERT_NE(after->keks().find(1), nullptr);
  EXPECT_TRUE(*after->keks().find(1) == *before->keks().find(1));
  EXPECT_FALSE(*after->keks().find(3) == *after->keks().find(1));
  EXPECT_EQ(after->keks().find(4), nullptr);
  // Rotation does not touch the other keys.
  EXPECT_TRUE(after->pseudonym_key() == before->pseudonym_key());
}

TEST_F(KeyDirOnDisk, AddingAKekVersionToABadDirFails) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  ASSERT_EQ(::chmod(file("root.key").c_str(), 0640), 0);
  EXPECT_EQ(KeyDir::add_kek_version(dir_).code(), Code::kPermissionDenied);
  EXPECT_FALSE(fs::exists(file("kek.2")));
}

TEST_F(KeyDirOnDisk, ALeftoverOfACrashedAddIsReplacedNotLoaded) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  // A crash between writing the new KEK aside and linking it leaves .kek.new (maybe short).
  std::ofstream(file(".kek.new")) << "short";
  ::chmod(file(".kek.new").c_str(), 0600);
  auto loaded = KeyDir::load(dir_);
  ASSERT_TRUE(loaded.is_ok()) << "the leftover is not a KEK: " << loaded.message();
  EXPECT_EQ(loaded->keks().versions(), (std::vector<std::uint32_t>{1}));
  auto v2 = KeyDir::add_kek_version(dir_);
  ASSERT_TRUE(v2.is_ok()) << v2.message();
  EXPECT_EQ(*v2, 2u);
  EXPECT_FALSE(fs::exists(file(".kek.new")));
  EXPECT_EQ(fs::file_size(file("kek.2")), 32u);
}

TEST_F(KeyDirOnDisk, RemovingAKekVersionRefusesTheCurrentAndAMissingOne) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  ASSERT_TRUE(KeyDir::add_kek_version(dir_).is_ok());
  const Status current = KeyDir::remove_kek_version(dir_, 2);
  EXPECT_EQ(current.code(), Code::kFailedPrecondition);
  EXPECT_NE(current.message().find(file("kek.2")), std::string::npos) << current.message();
  EXPECT_EQ(KeyDir::remove_kek_version(dir_, 7).code(), Code::kNotFound);
  ASSERT_TRUE(KeyDir::remove_kek_version(dir_, 1).is_ok());
  EXPECT_FALSE(fs::exists(file("kek.1")));
  auto after = KeyDir::load(dir_);
  ASSERT_TRUE(after.is_ok()) << after.message();
  EXPECT_EQ(after->keks().versions(), (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(KeyDir::remove_kek_version(dir_, 2).code(), Code::kFailedPrecondition)
      << "the last KEK is the current one";
}

TEST_F(KeyDirOnDisk, TheLockIsSharedBetweenGatewaysAndExclusiveForARotation) {
  ASSERT_TRUE(KeyDir::create(dir_).is_ok());
  using Mode = KeyDirLock::Mode;
  {
    auto a = KeyDirLock::acquire(dir_, Mode::kShared);
    auto b = KeyDirLock::acquire(dir_, Mode::kShared);
    ASSERT_TRUE(a.is_ok()) << a.message();
    ASSERT_TRUE(b.is_ok()) << "two gateways share it";
    auto rotate = KeyDirLock::acquire(dir_, Mode::kExclusive);
    EXPECT_EQ(rotate.code(), Code::kFailedPrecondition);
    EXPECT_NE(rotate.message().find("key dir " + dir_ + " is in use"), std::string::npos)
        << rotate.message();
  }
  auto rotate = KeyDirLock::acquire(dir_, Mode::kExclusive);
  ASSERT_TRUE(rotate.is_ok()) << "released with its holders: " << rotate.message();
  auto serve = KeyDirLock::acquire(dir_, Mode::kShared);
  EXPECT_EQ(serve.code(), Code::kFailedPrecondition);
  EXPECT_EQ(KeyDirLock::acquire(base_ + "/none", Mode::kShared).code(), Code::kNotFound);
}

TEST(KeyDir, EphemeralHasOneKekAndASigningKey) {
  auto k = KeyDir::ephemeral();
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(k->keks().current_version(), 1u);
  auto sig = k->signing_key().sign(bytes_of("x"));
  EXPECT_TRUE(k->signing_key().verify_key().verify(bytes_of("x"), sig).is_ok());
}

TEST(KekRing, RejectsVersionZeroAndDuplicates) {
  KekRing ring;
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.current_version(), 0u);
  EXPECT_EQ(ring.add(0, Kek::generate().value()).code(), Code::kInvalidArgument);
  EXPECT_TRUE(ring.add(5, Kek::generate().value()).is_ok());
  EXPECT_EQ(ring.add(5, Kek::generate().value()).code(), Code::kAlreadyExists);
  EXPECT_EQ(ring.current_version(), 5u);
}

}  // namespace
}  // namespace brug::crypto
