// Fuzz target for the organisation registry (gateway/identity): any bytes as organisations.json.
// A registry that loads finds each organisation by id and by certificate, and mirrors into a
// real SQLite store as the gateway's start does.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/stores.h"
#include "gateway/identity/registry.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

brug::adapters::Database& store() {
  static const std::unique_ptr<brug::adapters::Database> db = [] {
    auto opened =
        brug::adapters::open_sqlite({.path = brug::fuzz::scratch_file("registry.db", "")});
    if (!opened) brug::fuzz::finding("cannot open the store");
    return std::move(opened).value();
  }();
  return *db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using brug::fuzz::require;
  const std::string path = brug::fuzz::scratch_file(
      "organisations.json", std::string_view(reinterpret_cast<const char*>(data), size));
  auto registry = brug::gateway::OrgRegistry::load(path);
  if (!registry) {
    require(registry.code() == brug::Code::kInvalidArgument, "registry: error of another kind");
    require(registry.message().rfind(path + ":", 0) == 0, "registry: error without FILE:LINE");
    return 0;
  }
  for (const auto& org : registry->all()) {
    require(brug::gateway::is_valid_org_id(org.id), "registry: an invalid id loaded");
    require(registry->find(org.id) == &org, "registry: not found by id");
    if (!org.oin.empty()) {
      require(registry->find_by_certificate(org.oin, "") == &org, "registry: not found by OIN");
    }
    if (!org.cert_cn.empty()) {
      // A CN alone names nobody unless the development PKI's fallback is on.
      require(registry->find_by_certificate("", org.cert_cn) == nullptr,
              "registry: found by CN without the fallback");
      registry->set_mapping(brug::gateway::CertificateMapping::kOinOrCommonName);
      require(registry->find_by_certificate("", org.cert_cn) == &org, "registry: not found by CN");
      registry->set_mapping(brug::gateway::CertificateMapping::kOinOnly);
    }
  }
  require(registry->find_by_certificate("", "") == nullptr, "registry: an empty certificate");
  require(registry->sync_to(store(), "2026-06-01T12:00:00.000Z").is_ok(),
          "registry: a registry that loads does not mirror into the store");
  return 0;
}
