#include "gateway/app/config.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace brug::gateway {
namespace {

constexpr const char* kMinimal = R"({
  "tls": {"ca_file": "pki/ca.pem", "cert_file": "pki/server.pem", "key_file": "pki/server.key"},
  "registry_file": "organisations.json",
  "key_dir": "keys",
  "storage": {"sqlite_path": "brug.db"}, "policies": {"dir": "p", "catalogue": "p/c.json"}
})";

class ConfigTest : public ::testing::Test {
 protected:
  Result<Config> load(const std::string& text) {
    return load_config(dir_.write("brug.json", text));
  }
  testing::TempDir dir_;
};

TEST_F(ConfigTest, AMinimalFileGetsDefaultsAndPathsRelativeToItsFolder) {
  auto c = load(kMinimal);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 8443);
  EXPECT_EQ(c->threads, 16);
  EXPECT_EQ(c->tls_ca_file, dir_.file("pki/ca.pem"));
  EXPECT_EQ(c->sqlite_path, dir_.file("brug.db"));
  EXPECT_EQ(c->key_dir, dir_.file("keys"));
  EXPECT_EQ(c->catalogue_file, dir_.file("p/c.json"));
}

TEST_F(ConfigTest, AbsolutePathsStayAsTheyAre) {
  std::string text = kMinimal;
  text.replace(text.find("\"brug.db\""), 9, "\"/var/lib/brug/brug.db\"");
  auto c = load(text);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->sqlite_path, "/var/lib/brug/brug.db");
}

// kMinimal with its storage object replaced by `storage`.
std::string with_storage(const std::string& storage) {
  std::string text = kMinimal;
  const std::string from = R"("storage": {"sqlite_path": "brug.db"})";
  text.replace(text.find(from), from.size(), "\"storage\": " + storage);
  return text;
}

TEST_F(ConfigTest, StorageIsSqliteOrPostgresqlExactlyOne) {
  auto pg = load(with_storage(
      R"({"postgresql": "postgresql://brug@db.example:5432/brug?sslmode=verify-full",
          "max_connections": 20})"));
  ASSERT_TRUE(pg) << pg.message();
  EXPECT_EQ(pg->postgresql_url, "postgresql://brug@db.example:5432/brug?sslmode=verify-full");
  EXPECT_TRUE(pg->sqlite_path.empty());
  EXPECT_EQ(pg->storage_max_connections, 20);
  EXPECT_EQ(load(kMinimal)->storage_max_connections, 8);
  EXPECT_TRUE(load(kMinimal)->postgresql_url.empty());

  for (const char* storage : {R"({"sqlite_path": "b.db", "postgresql": "postgresql://u@h/d"})",
                              R"({})", R"({"max_connections": 4})"}) {
    auto c = load(with_storage(storage));
    ASSERT_FALSE(c) << storage;
    EXPECT_NE(c.message().find("storage: needs exactly one of sqlite_path and postgresql"),
              std::string::npos)
        << c.message();
  }
}

TEST_F(ConfigTest, APostgresqlUrlWithAPasswordIsRefusedNamingTheKeyNotTheSecret) {
  for (const char* url : {"postgresql://brug:hunter2@db.example/brug",
                          "postgresql://brug@db.example/brug?password=hunter2"}) {
    auto c = load(with_storage(std::string(R"({"postgresql": ")") + url + R"("})"));
    ASSERT_FALSE(c) << url;
    EXPECT_NE(c.message().find("storage.postgresql"), std::string::npos) << c.message();
    EXPECT_NE(c.message().find("password"), std::string::npos) << c.message();
    EXPECT_EQ(c.message().find("hunter2"), std::string::npos) << c.message();
  }
  auto other = load(with_storage(R"({"postgresql": "mysql://brug@db.example/brug"})"));
  ASSERT_FALSE(other);
  EXPECT_NE(other.message().find("storage.postgresql"), std::string::npos) << other.message();
}

TEST_F(ConfigTest, ServerSettingsAreRead) {
  std::string text = kMinimal;
  text.insert(text.rfind('}'), R"(, "server": {"threads": 4, "max_body_bytes": 2048},
  "listen": {"port": 0})");
  auto c = load(text);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->threads, 4);
  EXPECT_EQ(c->max_body_bytes, 2048);
  EXPECT_EQ(c->port, 0);
}

TEST_F(ConfigTest, DeadlinesCapsIdentityAndMetricsAreRead) {
  auto defaults = load(kMinimal);
  ASSERT_TRUE(defaults) << defaults.message();
  EXPECT_EQ(defaults->handshake_timeout_s, 5);
  EXPECT_FALSE(defaults->identity_cn_fallback);
  EXPECT_TRUE(defaults->metrics_organisations.empty());
  std::string text = kMinimal;
  text.insert(text.rfind('}'), R"(, "server": {"handshake_timeout_s": 2, "head_timeout_s": 3,
  "max_connections_per_address": 4, "max_connections": 50},
  "identity": {"cn_fallback": true}, "metrics": {"organisations": ["ops"]})");
  auto c = load(text);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->handshake_timeout_s, 2);
  EXPECT_EQ(c->head_timeout_s, 3);
  EXPECT_EQ(c->max_connections_per_address, 4);
  EXPECT_EQ(c->max_connections, 50);
  EXPECT_TRUE(c->identity_cn_fallback);
  EXPECT_EQ(c->metrics_organisations, std::vector<std::string>{"ops"});
  for (const char* bad : {R"("server": {"head_timeout_s": 0})", R"("identity": {"cn_fallback": 1})",
                          R"("metrics": {"organisations": "ops"})"}) {
    std::string t = kMinimal;
    t.insert(t.rfind('}'), std::string(", ") + bad);
    EXPECT_FALSE(load(t)) << bad;
  }
}

TEST_F(ConfigTest, TheReportDelayIsReadAndBounded) {
  EXPECT_EQ(load(kMinimal)->report_delay_days, 30);
  std::string text = kMinimal;
  text.insert(text.rfind('}'), R"(, "reports": {"delay_days": 7})");
  auto c = load(text);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->report_delay_days, 7);
  text = kMinimal;
  text.insert(text.rfind('}'), R"(, "reports": {"delay_days": -1})");
  EXPECT_FALSE(load(text));
}

TEST_F(ConfigTest, BrokenJsonNamesFileAndLine) {
  auto c = load("{\n  \"tls\": {\n    \"ca_file\": \"x\",,\n  }\n}");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), Code::kInvalidArgument);
  EXPECT_EQ(c.message().rfind(dir_.file("brug.json") + ":3: invalid JSON", 0), 0u) << c.message();
}

TEST_F(ConfigTest, AnUnknownKeyIsAnErrorNamingKeyAndLine) {
  std::string text = kMinimal;
  text.insert(text.rfind('}'), ",\n  \"servr\": {}\n");
  auto c = load(text);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.message(), dir_.file("brug.json") + ":7: servr: unknown key");
}

TEST_F(ConfigTest, AValueOutOfRangeNamesTheNestedKey) {
  std::string text = kMinimal;
  text.insert(text.rfind('}'), ",\n  \"server\": {\n    \"threads\": 0\n  }\n");
  auto c = load(text);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.message(),
            dir_.file("brug.json") + ":8: server.threads: must be an integer from 1 to 512");
}

TEST_F(ConfigTest, AWrongTypeIsNamed) {
  std::string text = kMinimal;
  text.insert(text.rfind('}'), ", \"listen\": {\"port\": \"8443\"}");
  auto c = load(text);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("listen.port: must be an integer from 0 to 65535"), std::string::npos)
      << c.message();
}

TEST_F(ConfigTest, AMissingRequiredSectionIsNamed) {
  auto c = load(R"({"registry_file": "o.json", "key_dir": "k", "storage": {"sqlite_path": "b"}})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("tls: is required"), std::string::npos) << c.message();
}

TEST_F(ConfigTest, AnEmptyRequiredStringIsRefused) {
  std::string text = kMinimal;
  text.replace(text.find("\"keys\""), 6, "\"\"");
  auto c = load(text);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("key_dir: must not be empty"), std::string::npos) << c.message();
}

TEST_F(ConfigTest, AMissingFileIsNotFoundNamingIt) {
  auto c = load_config(dir_.file("nope.json"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), Code::kNotFound);
  EXPECT_NE(c.message().find(dir_.file("nope.json")), std::string::npos);
}

TEST_F(ConfigTest, ATopLevelArrayIsRefused) {
  auto c = load("[]");
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("must hold a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace brug::gateway
