// A real HTTPS client for integration tests (Poco HTTPSClientSession with a client certificate).
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>

#include <cstdint>
#include <map>
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
    return r;
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
