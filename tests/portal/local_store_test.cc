#include "gateway/portal/local_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/temp_dir.h"

namespace brug::portal {
namespace {

using testing::TempDir;

FeedItem referral(const std::string& cursor, const std::string& pseudonym,
                  const std::string& name) {
  return {.cursor = cursor,
          .kind = "referral",
          .subject = pseudonym,
          .from = "gemeente",
          .record = {{"voornaam", name}}};
}

TEST(LocalStore, IsCreatedPrivateAndRefusesAFileOthersMayRead) {
  TempDir dir;
  const std::string path = dir.file("data/portal.db");
  ASSERT_TRUE(LocalStore::open(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.file("data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto again = LocalStore::open(path);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.code(), Code::kPermissionDenied);
}

TEST(LocalStore, GivesLocalReferencesInArrivalOrderAndKeepsThemForAReferralAgain) {
  TempDir dir;
  auto store = LocalStore::open(dir.file("portal.db"));
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->apply({referral("1", "p-a", "Anna"), referral("2", "p-b", "Bo")}, "2"));
  ASSERT_TRUE((*store)->apply({referral("3", "p-a", "Anna2")}, "3"));
  const auto people = (*store)->people();
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].ref, "D0001");
  EXPECT_EQ(people[0].record["voornaam"], "Anna2");
  EXPECT_EQ(people[1].ref, "D0002");
  EXPECT_EQ((*store)->pseudonym_of("D0002"), "p-b");
  EXPECT_EQ((*store)->cursor(), "3");
}

TEST(LocalStore, ADeletionNoticeLeavesOnlyTheReferenceAndTheDateNotEvenInTheFile) {
  TempDir dir;
  const std::string path = dir.file("portal.db");
  auto store = LocalStore::open(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->apply(
      {referral("1", "pseudonym-aaaa", "Zwaantje"), referral("2", "pseudonym-bbbb", "Gerrit")},
      "2"));
  ASSERT_TRUE((*store)->note_outcome("D0001", "stage", "2026-10-01"));
  auto counts =
      (*store)->apply({{.cursor = "3", .kind = "deletion", .subject = "pseudonym-aaaa"}}, "3");
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->deleted_refs, std::vector<std::string>{"D0001"});
  const auto p = (*store)->person("D0001");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->record.is_null());
  EXPECT_TRUE(p->from.empty());
  EXPECT_TRUE(p->outcome_status.empty());
  EXPECT_EQ(p->deleted_at.size(), 10u);
  EXPECT_FALSE((*store)->pseudonym_of("D0001"));
  store->reset();
  const std::string bytes = TempDir::read(path);
  EXPECT_EQ(bytes.find("Zwaantje"), std::string::npos);
  EXPECT_EQ(bytes.find("pseudonym-aaaa"), std::string::npos);
  EXPECT_NE(bytes.find("Gerrit"), std::string::npos);
}

}  // namespace
}  // namespace brug::portal
