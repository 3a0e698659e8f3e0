// A real PostgreSQL database for a test: the server comes from scripts/pg-test-server.sh (a CTest
// fixture starts it; see tests/CMakeLists.txt), each test gets a fresh database of its own,
// dropped afterwards. The server's URL comes from BRUG_TEST_POSTGRESQL, or from the file `url`
// in the folder named by BRUG_TEST_POSTGRESQL_DIR (the fixture's folder).
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

namespace brug::testing {

inline std::optional<std::string> test_postgres_url() {
  if (const char* url = std::getenv("BRUG_TEST_POSTGRESQL"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  if (const char* dir = std::getenv("BRUG_TEST_POSTGRESQL_DIR"); dir != nullptr && *dir != '\0') {
    std::ifstream in(std::string(dir) + "/url");
    std::string url;
    if (std::getline(in, url) && !url.empty()) return url;
  }
  return std::nullopt;
}

// `url` with its database name replaced by `db` (query parameters kept).
inline std::string with_database(const std::string& url, const std::string& db) {
  const std::size_t authority = url.find("://");
  const std::size_t slash = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  const std::size_t query = url.find('?');
  const std::string head = url.substr(0, slash == std::string::npos ? query : slash);
  const std::string tail = query == std::string::npos ? "" : url.substr(query);
  return head + "/" + db + tail;
}

// Runs one statement on the server's maintenance database; throws on failure.
inline void postgres_admin(const std::string& server_url, const std::string& sql) {
  PGconn* c = PQconnectdb(server_url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect to the test PostgreSQL: " + why);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  std::string why = ok ? "" : PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + why);
}

// A fresh, empty database on the test server, dropped (connections and all) when destroyed.
class TempPostgres {
 public:
  TempPostgres() {
    auto server = test_postgres_url();
    if (!server) throw std::runtime_error("no test PostgreSQL (BRUG_TEST_POSTGRESQL[_DIR])");
    server_ = *server;
    static std::atomic<int> counter{0};
    std::random_device rd;
    name_ = "brug_t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(rd() % 1000000);
    postgres_admin(server_, "CREATE DATABASE " + name_ + " TEMPLATE template0 ENCODING 'UTF8'");
    url_ = with_database(server_, name_);
  }
  ~TempPostgres() {
    try {
      postgres_admin(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string server_, name_, url_;
};

}  // namespace brug::testing
