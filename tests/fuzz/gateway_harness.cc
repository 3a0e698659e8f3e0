#include "tests/fuzz/gateway_harness.h"

#include <Poco/Net/SSLManager.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "gateway/app/config.h"
#include "gateway/app/gateway.h"
#include "gateway/cli/init.h"

namespace brug::fuzz {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

struct Harness {
  std::filesystem::path dir;
  std::ostringstream init_out;
  std::ostream null_log{nullptr};  // badbit: log lines go nowhere
  std::unique_ptr<gateway::Gateway> gateway;

  Harness() {
    std::string tmpl = (std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp") +
                       std::string("/brug-fuzz-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) die("cannot create a temporary folder");
    dir = tmpl;
    Poco::Net::initializeSSL();
    const auto init = gateway::init_dev_setup({.dir = (dir / "dev").string()}, init_out);
    if (!init.is_ok()) die("brug init: " + init.message());
    auto config = gateway::load_config((dir / "dev/brug.json").string());
    if (!config) die("config: " + config.message());
    config->port = 0;
    config->threads = 2;
    auto started = gateway::Gateway::start(*config, null_log);
    if (!started) die("start: " + started.message());
    gateway = std::move(started).value();
  }
  ~Harness() {
    gateway.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

Harness& harness() {
  static Harness h;
  return h;
}

}  // namespace

gateway::Response serve(gateway::Request& request) {
  try {
    return harness().gateway->serve(request);
  } catch (const std::exception&) {
    // The edge answers an escaped exception with a 500; check_answer refuses that.
    return gateway::problem_response(gateway::internal_problem(), request.request_id);
  }
}

gateway::Request edge_request(std::string_view org, std::string_view method, std::string_view uri,
                              std::string_view body) {
  gateway::Request r;
  r.method = std::string(method);
  const std::size_t q = uri.find('?');
  r.path = std::string(uri.substr(0, q));
  r.request_id = "fuzz";
  r.content_type = "application/json";
  r.peer_common_name = std::string(org);
  r.body = std::string(body);
  if (q != std::string_view::npos &&
      !gateway::parse_query(std::string(uri.substr(q + 1)), r.query)) {
    r.bad_query = true;
  }
  return r;
}

void check_answer(const gateway::Response& response) {
  // BRUG_FUZZ_TRACE=1 prints every answer, to see what a corpus reaches.
  static const bool trace = std::getenv("BRUG_FUZZ_TRACE") != nullptr;
  if (trace) std::fprintf(stderr, "%d %.300s\n", response.status, response.body.c_str());
  if (response.status < 200 || response.status >= 500) {
    std::fprintf(stderr, "fuzz: status %d\n", response.status);
    __builtin_trap();
  }
  if (response.content_type == "application/problem+json") {
    const auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string() ||
        j["type"].get<std::string>().rfind("urn:brug:problem:", 0) != 0 ||
        j.value("status", 0) != response.status) {
      std::fprintf(stderr, "fuzz: malformed problem\n");
      __builtin_trap();
    }
  } else if (response.content_type == "application/json") {
    if (nlohmann::json::parse(response.body, nullptr, false).is_discarded()) {
      std::fprintf(stderr, "fuzz: answer is not JSON\n");
      __builtin_trap();
    }
  }
}

}  // namespace brug::fuzz
