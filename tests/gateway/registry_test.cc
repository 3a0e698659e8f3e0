#include "gateway/identity/registry.h"

#include <gtest/gtest.h>

#include "adapters/stores.h"
#include "tests/support/temp_dir.h"

namespace brug::gateway {
namespace {

constexpr const char* kRegistry = R"({"organisations": [
  {"id": "gemeente-a", "name": "Gemeente A", "role": "gemeente",
   "oin": "00000099000000001000", "cert_cn": "gemeente-a"},
  {"id": "project-b", "name": "Project B", "role": "project", "cert_cn": "project-b"}
]})";

class RegistryTest : public ::testing::Test {
 protected:
  Result<OrgRegistry> load(const std::string& text) {
    return OrgRegistry::load(dir_.write("organisations.json", text));
  }
  testing::TempDir dir_;
};

TEST_F(RegistryTest, LoadsOrganisationsWithTheirRoles) {
  auto r = load(kRegistry);
  ASSERT_TRUE(r) << r.message();
  ASSERT_EQ(r->all().size(), 2u);
  ASSERT_NE(r->find("project-b"), nullptr);
  EXPECT_EQ(r->find("project-b")->role, Role::kProject);
  EXPECT_EQ(r->find("nobody"), nullptr);
}

TEST_F(RegistryTest, ACertificateMapsByOinBeforeCommonName) {
  auto r = load(kRegistry);
  ASSERT_TRUE(r);
  r->set_mapping(CertificateMapping::kOinOrCommonName);
  // The OIN of gemeente-a wins even when the CN names another organisation.
  const Organisation* o = r->find_by_certificate("00000099000000001000", "project-b");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, "gemeente-a");
  o = r->find_by_certificate("", "project-b");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, "project-b");
}

TEST_F(RegistryTest, ACertificateWithAnUnknownOinMapsToNobodyWhateverItsCommonName) {
  auto r = load(kRegistry);
  ASSERT_TRUE(r);
  r->set_mapping(CertificateMapping::kOinOrCommonName);
  EXPECT_EQ(r->find_by_certificate("00000099000000009999", "project-b"), nullptr);
}

TEST_F(RegistryTest, TheCommonNameMapsNothingUnlessTheMappingAllowsIt) {
  auto r = load(kRegistry);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mapping(), CertificateMapping::kOinOnly);
  EXPECT_EQ(r->find_by_certificate("", "project-b"), nullptr);
  ASSERT_NE(r->find_by_certificate("00000099000000001000", ""), nullptr);
}

TEST_F(RegistryTest, AnUnknownCertificateMapsToNobody) {
  auto r = load(kRegistry);
  ASSERT_TRUE(r);
  r->set_mapping(CertificateMapping::kOinOrCommonName);
  EXPECT_EQ(r->find_by_certificate("00000099000000009999", "stranger"), nullptr);
  EXPECT_EQ(r->find_by_certificate("", ""), nullptr);
}

TEST_F(RegistryTest, DuplicateIdsAreRefused) {
  auto r = load(R"({"organisations": [
    {"id": "a-1", "name": "A", "role": "project", "cert_cn": "x"},
    {"id": "a-1", "name": "B", "role": "project", "cert_cn": "y"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("id appears twice"), std::string::npos) << r.message();
}

TEST_F(RegistryTest, ASharedCommonNameIsRefused) {
  auto r = load(R"({"organisations": [
    {"id": "a-1", "name": "A", "role": "project", "cert_cn": "x"},
    {"id": "a-2", "name": "B", "role": "project", "cert_cn": "x"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("cert_cn is used twice"), std::string::npos) << r.message();
}

TEST_F(RegistryTest, AnUnknownRoleNamesFileLineAndKey) {
  auto r = load(
      "{\"organisations\": [\n  {\"id\": \"a-1\", \"name\": \"A\",\n   \"role\": "
      "\"bank\", \"cert_cn\": \"x\"}]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.message().rfind(dir_.file("organisations.json") + ":3: organisations.0.role", 0), 0u)
      << r.message();
}

TEST_F(RegistryTest, ABadOinIsRefused) {
  auto r = load(R"({"organisations": [{"id": "a-1", "name": "A", "role": "gemeente",
    "oin": "12345"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("oin must be 20 digits"), std::string::npos) << r.message();
}

TEST_F(RegistryTest, AnOrganisationWithoutCertificateIdentityIsRefused) {
  auto r = load(R"({"organisations": [{"id": "a-1", "name": "A", "role": "gemeente"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("needs an oin or a cert_cn"), std::string::npos);
}

TEST_F(RegistryTest, AnInvalidIdIsRefused) {
  auto r = load(R"({"organisations": [{"id": "Bad Id", "name": "A", "role": "project",
    "cert_cn": "x"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("a-z, 0-9 and '-'"), std::string::npos) << r.message();
}

TEST_F(RegistryTest, UnknownKeysAreRefused) {
  auto r = load(R"({"organisations": [{"id": "a-1", "name": "A", "role": "project",
    "cert_cn": "x", "colour": "red"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("organisations.0.colour: unknown key"), std::string::npos)
      << r.message();
}

TEST_F(RegistryTest, SyncMirrorsTheFileIntoStorageAndDeactivatesLeavers) {
  auto db = adapters::open_sqlite({.path = dir_.file("brug.db")});
  ASSERT_TRUE(db);
  auto first = load(kRegistry);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->sync_to(**db, "2026-11-30T00:00:00.000Z").is_ok());
  auto second = OrgRegistry::from_list(
      {{.id = "project-b", .name = "Project B2", .role = Role::kProject, .cert_cn = "project-b"}});
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->sync_to(**db, "2026-11-30T00:01:00.000Z").is_ok());
  ASSERT_TRUE((*db)
                  ->read([](adapters::Stores& st) {
                    auto active = st.orgs.active();
                    if (!active) return active.status();
                    // gemeente-a left the file: kept, but no longer active.
                    EXPECT_EQ(active->size(), 1u);
                    EXPECT_EQ((*active)[0].id, "project-b");
                    EXPECT_EQ((*active)[0].name, "Project B2");
                    return Status::ok();
                  })
                  .is_ok());
}

}  // namespace
}  // namespace brug::gateway
