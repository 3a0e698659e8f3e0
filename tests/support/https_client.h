// A real HTTPS client for integration tests (Poco HTTPSClientSession with a client certificate).
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace brug::testing {

struct Identity {
  std::string cert_file;  // empty: present no client certificate
  std::string key_file;
};

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;
};

class HttpsClient {
 public:
  HttpsClient(std::uint16_t port, const std::string& ca_file, const Identity& id) : port_(port) {
    Poco::Net::Context::Params p;
    p.caLocation = ca_file;
    p.certificateFile = id.cert_file;
    p.privateKeyFile = id.key_file;
    p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    p.loadDefaultCAs = false;
    ctx_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
    ctx_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    session_ = std::make_unique<Poco::Net::HTTPSClientSession>("localhost", port_, ctx_);
    session_->setTimeout(Poco::Timespan(10, 0));
  }

  // Sends one request on the session (kept alive between calls). Throws on transport failure.
  Reply send(const std::string& method, const std::string& uri, const std::string& body = "",
             const std::map<std::string, std::string>& headers = {}, bool chunked = false) {
    Poco::Net::HTTPRequest req(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") {
      if (!req.has("Content-Type")) req.setContentType("application/json");
      if (chunked) {
        req.setChunkedTransferEncoding(true);
      } else {
        req.setContentLength(static_cast<std::streamsize>(body.size()));
      }
    }
    std::ostream& out = session_->sendRequest(req);
    out << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session_->receiveResponse(resp);
    Reply r;
    r.status = resp.getStatus();
    r.content_type = resp.getContentType();
    Poco::StreamCopier::copyToString(in, r.body);
    for (const auto& [k, v] : resp) r.headers[k] = v;
    record(method, uri, req.has("Content-Type") ? req.getContentType() : "", body, r);
    return r;
  }

  // With BRUG_TRAFFIC_DIR set, every exchange is appended to DIR/traffic-PID.jsonl, one JSON
  // object a line, for tests/openapi/validate-traffic.mjs to check against docs/openapi.yaml.
  static void record(const std::string& method, const std::string& uri,
                     const std::string& request_type, const std::string& request_body,
                     const Reply& r) {
    const char* dir = std::getenv("BRUG_TRAFFIC_DIR");
    if (dir == nullptr || *dir == '\0') return;
    const bool text =
        r.content_type.find("json") != std::string::npos || r.content_type.starts_with("text/");
    nlohmann::json line = {{"method", method},
                           {"uri", uri},
                           {"request_content_type", request_type},
                           {"request_body", request_body},
                           {"status", r.status},
                           {"content_type", r.content_type},
                           {"body", text ? r.body : std::string()},
                           {"body_size", r.body.size()}};
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::ofstream out(std::string(dir) + "/traffic-" + std::to_string(getpid()) + ".jsonl",
                      std::ios::app);
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }

  Reply get(const std::string& uri, const std::map<std::string, std::string>& headers = {}) {
    return send("GET", uri, "", headers);
  }
  Reply post(const std::string& uri, const std::string& body) { return send("POST", uri, body); }

 private:
  std::uint16_t port_;
  Poco::Net::Context::Ptr ctx_;
  std::unique_ptr<Poco::Net::HTTPSClientSession> session_;
};

}  // namespace brug::testing
