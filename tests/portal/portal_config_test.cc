#include "gateway/portal/portal_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace brug::portal {
namespace {

using testing::TempDir;

const char* kGood = R"({"organisation": "p", "role": "project",
  "gateway": {"url": "https://localhost:9443", "ca_file": "ca.pem", "cert_file": "p.pem",
              "key_file": "p.key"},
  "data_dir": "data", "catalogue": "/abs/catalogue.json"})";

TEST(PortalConfig, ResolvesRelativePathsAndDefaultsToLoopback) {
  TempDir dir;
  auto c = load_portal_config(dir.write("portal.json", kGood));
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->gateway.host, "localhost");
  EXPECT_EQ(c->gateway.port, 9443);
  EXPECT_EQ(c->gateway.ca_file, dir.file("ca.pem"));
  EXPECT_EQ(c->data_dir, dir.file("data"));
  EXPECT_EQ(c->catalogue_file, "/abs/catalogue.json");
}

TEST(PortalConfig, NamesTheKeyThatIsWrong) {
  TempDir dir;
  auto j = nlohmann::json::parse(kGood);
  const auto error_with = [&](const std::function<void(nlohmann::json&)>& change) {
    auto copy = j;
    change(copy);
    auto c = load_portal_config(dir.write("bad.json", copy.dump()));
    return c ? std::string("(loaded)") : c.message();
  };
  EXPECT_NE(error_with([](auto& c) { c["colour"] = 1; }).find("colour: unknown key"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& c) { c["role"] = "participatiebedrijf"; }).find("role: must be"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& c) { c["gateway"]["url"] = "http://x:1"; }).find("gateway.url"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& c) { c["role"] = "auditor"; }).find("gateway.public_key"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& c) {
              c["listen"] = {{"port", 70000}};
            }).find("listen.port"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& c) {
              c["partners"] = {{{"id", "x"}}};
            }).find("partners[0].name"),
            std::string::npos);
}

}  // namespace
}  // namespace brug::portal
