// The people table as the coordinator sees it (plain Dutch column names and values), and the
// same table as a CSV file their CRM or Excel opens: ';'-separated, UTF-8 with a byte order
// mark, CRLF, quoted where needed, formulas neutralised.
#pragma once

#include <string>
#include <vector>

#include "gateway/portal/local_store.h"

namespace brug::portal {

struct PeopleTable {
  std::vector<std::string> fields;   // catalogue keys of the record columns, in a fixed order
  std::vector<std::string> columns;  // Dutch headers: Referentie, the fields, the last outcome
  std::vector<std::vector<std::string>> rows;  // present people only
};

// The columns are the fields the feed actually delivered (what the policy lets through).
PeopleTable people_table(const std::vector<Person>& people);

std::string to_csv(const PeopleTable& table);

// One cell of field `field` as shown: lists joined with ", ", booleans ja/nee, the values of
// choice fields by their Dutch label; text as it came.
std::string display_value(const std::string& field, const nlohmann::json& value);

}  // namespace brug::portal
