#include "adapters/formats/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace brug::adapters {
namespace {

using Fields = std::vector<std::string>;

std::vector<CsvRow> parse_ok(std::string_view text, const CsvLimits& limits = {}) {
  auto rows = parse_csv(text, "in.csv", limits);
  EXPECT_TRUE(rows) << rows.message();
  return rows ? std::move(rows).value() : std::vector<CsvRow>{};
}

std::string parse_error(std::string_view text, const CsvLimits& limits = {}) {
  auto rows = parse_csv(text, "in.csv", limits);
  EXPECT_FALSE(rows);
  EXPECT_EQ(rows.code(), Code::kInvalidArgument);
  return rows.message();
}

TEST(CsvTest, SplitsOnSemicolonsWithLineNumbers) {
  auto rows = parse_ok("a;b;c\n1;2;3\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2", "3"}));
}

TEST(CsvTest, StripsTheByteOrderMark) {
  auto rows = parse_ok("\xEF\xBB\xBFNaam;BSN\r\nx;y\r\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"Naam", "BSN"}));
}

TEST(CsvTest, CrlfLfAndLoneCrEndLines) {
  auto rows = parse_ok("a\r\nb\nc\rd");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].fields, Fields{"d"});
  EXPECT_EQ(rows[3].line, 4);
}

TEST(CsvTest, LastLineWithoutLineEnd) {
  auto rows = parse_ok("a;b\r\n1;2");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2"}));
}

TEST(CsvTest, QuotedFieldsHoldSemicolonsAndDoubledQuotes) {
  auto rows = parse_ok("\"Jansen; J.\";\"zei \"\"ja\"\"\";\"\"\r\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"Jansen; J.", "zei \"ja\"", ""}));
}

TEST(CsvTest, EmbeddedNewlinesKeepTheStartLineAndCountPhysicalLines) {
  auto rows = parse_ok("h1;h2\r\n\"regel 1\r\nregel 2\nregel 3\";x\r\nlast;y\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[1].fields, (Fields{"regel 1\nregel 2\nregel 3", "x"}));
  EXPECT_EQ(rows[2].line, 5);
}

TEST(CsvTest, BlankLinesAreSkippedButCounted) {
  auto rows = parse_ok("a\r\n\r\n\r\nb\r\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].line, 4);
}

TEST(CsvTest, EmptyAndTrailingEmptyColumns) {
  auto rows = parse_ok(";a;;\r\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"", "a", "", ""}));
}

TEST(CsvTest, SpacesAreKeptInUnquotedFieldsAndAllowedAfterAClosingQuote) {
  auto rows = parse_ok(" a ;\"b\"  ;c\r\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{" a ", "b", "c"}));
}

TEST(CsvTest, AQuoteInsideAnUnquotedFieldIsLiteral) {
  auto rows = parse_ok("5'11\";x\n");
  EXPECT_EQ(rows[0].fields, (Fields{"5'11\"", "x"}));
}

TEST(CsvTest, UnicodeTextPassesThrough) {
  auto rows = parse_ok("Zoë;Ünal;José;€\n");
  EXPECT_EQ(rows[0].fields, (Fields{"Zoë", "Ünal", "José", "€"}));
}

TEST(CsvTest, EmptyTextHasNoRows) {
  EXPECT_TRUE(parse_ok("").empty());
  EXPECT_TRUE(parse_ok("\xEF\xBB\xBF\r\n\r\n").empty());
}

TEST(CsvTest, UnterminatedQuoteNamesTheLineItOpenedOn) {
  EXPECT_EQ(parse_error("a;b\r\n1;\"open\r\n2;3\r\n4;5\r\n"),
            "in.csv:2: a quoted field opened on this line is never closed");
}

TEST(CsvTest, TextAfterAClosingQuoteIsAnError) {
  EXPECT_EQ(parse_error("a\r\n\"x\"y;z\r\n"), "in.csv:2: text after the closing quote of a field");
}

TEST(CsvTest, NulBytesAreRefusedWithTheirLine) {
  using namespace std::string_literals;
  EXPECT_EQ(parse_error("a;b\r\nc;d\0e\r\n"s),
            "in.csv:2: NUL byte (is this a UTF-16 or binary file?)");
  // A UTF-16 export starts with FF FE and has NULs everywhere.
  EXPECT_FALSE(
      parse_csv("\xFF\xFE"
                "a\0;\0"s,
                "in.csv"));
}

TEST(CsvTest, InvalidUtf8IsRefusedWithItsLine) {
  // Latin-1 "Zoë" as Excel writes it with "CSV (puntkomma)" on an old Windows.
  EXPECT_EQ(parse_error("a\nb\nZo\xEB\n"), "in.csv:3: invalid UTF-8 (save the export as UTF-8)");
  EXPECT_FALSE(parse_csv("\xC0\xAF", "in.csv"));          // overlong '/'
  EXPECT_FALSE(parse_csv("\xED\xA0\x80", "in.csv"));      // a UTF-16 surrogate
  EXPECT_FALSE(parse_csv("\xF4\x90\x80\x80", "in.csv"));  // above U+10FFFF
  EXPECT_FALSE(parse_csv("\xE2\x82", "in.csv"));          // truncated at the end
}

TEST(CsvTest, FieldSizeIsCapped) {
  const CsvLimits limits{.max_field_bytes = 8, .max_columns = 10, .max_rows = 100};
  EXPECT_EQ(parse_ok("12345678;\"12345678\"\n", limits).size(), 1u);
  EXPECT_EQ(parse_error("ok\n123456789\n", limits), "in.csv:2: a field is longer than 8 bytes");
  EXPECT_EQ(parse_error("ok\n\"1234\n56789\"\n", limits),
            "in.csv:2: a field is longer than 8 bytes");
  // An unterminated quote over a huge file stops at the cap, not at the end of memory.
  EXPECT_EQ(parse_error("\"" + std::string(1000, 'x'), limits),
            "in.csv:1: a field is longer than 8 bytes");
}

TEST(CsvTest, ColumnAndRowCountsAreCapped) {
  const CsvLimits limits{.max_field_bytes = 100, .max_columns = 3, .max_rows = 2};
  EXPECT_EQ(parse_ok("a;b;c\n", limits).size(), 1u);
  EXPECT_EQ(parse_error("a;b;c\n1;2;3;4\n", limits), "in.csv:2: more than 3 columns");
  EXPECT_EQ(parse_error("a\nb\nc\n", limits), "in.csv:3: more than 2 rows");
}

TEST(CsvTest, ManySemicolonsDoNotBlowUp) {
  const std::string line(100000, ';');
  EXPECT_EQ(parse_error(line), "in.csv:1: more than 256 columns");
}

}  // namespace
}  // namespace brug::adapters
