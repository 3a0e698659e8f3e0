// Runs every policies/tests/*.json case: a record, a flow, consent and a date in; the exact
// view (or refusal) out. A policy change that widens a flow fails one of these.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "policies/check.h"
#include "policies/policy_set.h"
#include "testing.h"

namespace brug {
namespace {

std::vector<std::filesystem::path> case_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e :
       std::filesystem::directory_iterator(testing::policies_source_dir() / "tests")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The shipped policies plus the case's "extra_policies".
PolicySet policies_for(const nlohmann::json& c) {
  if (!c.contains("extra_policies")) return testing::shipped_policies();
  std::vector<std::string> texts;
  for (const auto& e :
       std::filesystem::directory_iterator(testing::policies_source_dir() / "default")) {
    texts.push_back(read(e.path()));
  }
  for (const auto& p : c["extra_policies"]) texts.push_back(p.dump());
  return testing::policy_set_from(texts);
}

Flow flow_of(const nlohmann::json& f) {
  auto from = parse_party(f.at("from").get<std::string>());
  auto to = parse_party(f.at("to").get<std::string>());
  auto record = parse_record_type(f.at("record").get<std::string>());
  auto purpose = parse_purpose(f.at("purpose").get<std::string>());
  EXPECT_TRUE(from && to && record && purpose) << "bad flow in case: " << f.dump();
  return Flow{from.value_or(Party{}), to.value_or(Party{}), record.value_or(RecordType::kReferral),
              purpose.value_or(Purpose::kBegeleidingNaarWerk)};
}

CategorySet consent_of(const nlohmann::json& list) {
  CategorySet set;
  for (const auto& name : list) {
    auto c = parse_category(name.get<std::string>());
    EXPECT_TRUE(c) << "unknown category in case: " << name;
    if (c) set.insert(*c);
  }
  return set;
}

class PolicyCase : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(PolicyCase, GivesExactlyTheExpectedViewOrRefusal) {
  const nlohmann::json c = nlohmann::json::parse(read(GetParam()));
  const Flow flow = flow_of(c.at("flow"));
  // A case's record must itself be valid, or it tests nothing real.
  const auto errors = testing::shipped_catalogue().validate(flow.record, c.at("record"));
  for (const auto& e : errors) ADD_FAILURE() << "case record invalid: " << e.to_string();

  const Decision d = policies_for(c).view_for(flow, c.at("record"), consent_of(c.at("consent")),
                                              testing::date(c.at("today").get<std::string>()));
  const nlohmann::json& expect = c.at("expect");
  if (expect.contains("refused")) {
    ASSERT_FALSE(d.permitted()) << "expected a refusal, got " << d.view().to_json().dump();
    const std::string kind = d.refusal().kind == Refusal::Kind::kDenied ? "denied" : "no-policy";
    EXPECT_EQ(kind, expect["refused"].get<std::string>());
    if (expect.contains("policy")) {
      EXPECT_EQ(d.refusal().policy, expect["policy"]);
    }
    return;
  }
  ASSERT_TRUE(d.permitted()) << d.refusal().reason;
  EXPECT_EQ(d.view().to_json(), expect.at("view")) << "got " << d.view().to_json().dump();
  if (expect.contains("policies")) {
    EXPECT_EQ(nlohmann::json(d.view().policies), expect["policies"]);
  }
}

INSTANTIATE_TEST_SUITE_P(PolicyTests, PolicyCase, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::filesystem::path>& info) {
                           std::string name = info.param.stem().string();
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char ch) {
                                 return !std::isalnum(static_cast<unsigned char>(ch));
                               },
                               '_');
                           return name;
                         });

}  // namespace
}  // namespace brug
