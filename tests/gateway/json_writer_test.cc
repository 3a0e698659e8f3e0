// The direct JSON writer the feed uses: what it writes must parse back to what was meant.
#include "gateway/http/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace brug::gateway {
namespace {

TEST(JsonWriter, NestsObjectsAndArraysWithTheirCommas) {
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (int i = 0; i < 3; ++i) {
    w.begin_object().key("cursor").value(std::to_string(i)).key("n").value(std::int64_t{-i});
    w.key("ok").value(i % 2 == 0).key("tags").value(std::vector<std::string>{"a", "b"});
    w.key("empty").begin_object().end_object().key("none").begin_array().end_array();
    w.end_object();
  }
  w.end_array().key("next_cursor").value("2").end_object();
  const auto j = nlohmann::json::parse(w.text());
  ASSERT_EQ(j["items"].size(), 3U);
  EXPECT_EQ(j["items"][2]["cursor"], "2");
  EXPECT_EQ(j["items"][1]["n"], -1);
  EXPECT_EQ(j["items"][1]["ok"], false);
  EXPECT_EQ(j["items"][0]["tags"], nlohmann::json({"a", "b"}));
  EXPECT_TRUE(j["items"][0]["empty"].empty() && j["items"][0]["empty"].is_object());
  EXPECT_TRUE(j["items"][0]["none"].empty() && j["items"][0]["none"].is_array());
  EXPECT_EQ(j["next_cursor"], "2");
}

// A feed page written in parts (one per thread) and joined in order reads as one array, with
// empty parts (a part whose items were all refused) contributing nothing, not an empty element.
TEST(JsonWriter, PartsWrittenApartJoinIntoOneArrayInOrder) {
  auto part = [](int from, int to) {
    JsonWriter p;
    p.begin_array();
    for (int i = from; i < to; ++i) p.begin_object().key("n").value(std::int64_t{i}).end_object();
    p.end_array();
    return p;
  };
  const JsonWriter first = part(0, 3), empty = part(3, 3), second = part(3, 5);
  EXPECT_EQ(empty.array_elements(), "");
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  w.elements(first.array_elements()).elements(empty.array_elements());
  w.elements(second.array_elements());
  w.end_array().key("next_cursor").value("5").end_object();
  const auto j = nlohmann::json::parse(w.text());
  ASSERT_EQ(j["items"].size(), 5U) << w.text();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(j["items"][i]["n"], i);
  EXPECT_EQ(j["next_cursor"], "5");
  // Only all empty: still an empty array, not a stray comma.
  JsonWriter none;
  none.begin_array().elements(empty.array_elements()).elements("").end_array();
  EXPECT_EQ(none.text(), "[]");
  // A writer that holds anything but one array has no elements to give.
  JsonWriter object;
  object.begin_object().end_object();
  EXPECT_EQ(object.array_elements(), "");
}

TEST(JsonWriter, EscapesLikeTheLibraryAndReplacesBadUtf8) {
  const std::vector<std::string> cases = {"",           "plain",    "quote\"back\\slash",
                                          "\n\r\t\b\f", "\x01\x1f", "é€😀\x7f",
                                          "bad\xff",    "\xc3",     "cut\xe2\x82"};
  for (const std::string& s : cases) {
    std::string mine;
    append_json_string(mine, s);
    EXPECT_EQ(mine,
              nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  // Every kind of byte at every place in and around an eight-byte word, and long plain runs.
  const std::vector<std::string> odd = {
      "\"",   "\\",   "\n",           "\x01",         "\x1f",
      "\x7f", " ",    "\xc3\xa9",     "\xe2\x82\xac", "\xf0\x9f\x98\x80",
      "\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf"};
  for (const std::string& o : odd) {
    for (std::size_t before = 0; before < 20; ++before) {
      for (std::size_t after : {0, 1, 7, 8, 9, 17}) {
        const std::string s = std::string(before, 'a') + o + std::string(after, 'z');
        std::string mine = "prefix";
        append_json_string(mine, s);
        EXPECT_EQ(mine, "prefix" + nlohmann::json(s).dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace))
            << "byte " << static_cast<int>(static_cast<unsigned char>(o[0])) << " after " << before;
      }
    }
  }
  JsonWriter w;
  w.begin_object().key("k\"ey").value("v\nalue").end_object();
  EXPECT_EQ(nlohmann::json::parse(w.text())["k\"ey"], "v\nalue");
}

}  // namespace
}  // namespace brug::gateway
