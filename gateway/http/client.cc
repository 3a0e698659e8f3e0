#include "gateway/http/client.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

namespace brug::gateway {

struct GatewayClient::Impl {
  std::string ca_file, cert_file;
  Poco::Net::Context::Ptr ctx;
  std::unique_ptr<Poco::Net::HTTPSClientSession> session;
};

GatewayClient::GatewayClient(const ClientIdentity& id) : impl_(std::make_unique<Impl>()) {
  static std::once_flag ssl;
  std::call_once(ssl, [] { Poco::Net::initializeSSL(); });
  impl_->ca_file = id.ca_file;
  impl_->cert_file = id.cert_file;
  Poco::Net::Context::Params p;
  p.caLocation = id.ca_file;
  p.certificateFile = id.cert_file;
  p.privateKeyFile = id.key_file;
  p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  p.loadDefaultCAs = false;
  impl_->ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
  impl_->ctx->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  impl_->session = std::make_unique<Poco::Net::HTTPSClientSession>(id.host, id.port, impl_->ctx);
  impl_->session->setTimeout(Poco::Timespan(60, 0));
  impl_->session->setKeepAlive(true);
}

GatewayClient::~GatewayClient() = default;
GatewayClient::GatewayClient(GatewayClient&&) noexcept = default;

Result<ClientReply> GatewayClient::call(const std::string& method, const std::string& uri,
                                        const std::string& body) {
  try {
    Poco::Net::HTTPRequest req(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    if (!body.empty() || method == "POST") {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    impl_->session->sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    ClientReply reply;
    Poco::StreamCopier::copyToString(impl_->session->receiveResponse(resp), reply.body);
    reply.status = static_cast<int>(resp.getStatus());
    return reply;
  } catch (const Poco::Net::SSLException& e) {
    // Say which side of the handshake refused: a wrong CA is a configuration error to fix,
    // not a gateway that is down.
    const std::string why = e.displayText();
    if (dynamic_cast<const Poco::Net::CertificateValidationException*>(&e) != nullptr ||
        why.find("certificate verify failed") != std::string::npos) {
      return Status::error(Code::kFailedPrecondition,
                           "the gateway's certificate is not signed by CA " + impl_->ca_file);
    }
    if (why.find("alert") != std::string::npos) {
      return Status::error(Code::kFailedPrecondition,
                           "the gateway refused the TLS handshake with certificate " +
                               impl_->cert_file + " (" + why + ")");
    }
    return Status::error(Code::kUnavailable, "TLS with the gateway failed: " + why);
  } catch (const Poco::Exception& e) {
    return Status::error(Code::kUnavailable, "cannot reach the gateway: " + e.displayText());
  }
}

Result<nlohmann::json> GatewayClient::json_call(const std::string& method, const std::string& uri,
                                                const nlohmann::json* body) {
  auto reply = call(method, uri, body != nullptr ? body->dump() : "");
  if (!reply) return reply.status();
  auto answer = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status < 200 || reply->status >= 300) {
    std::string why = method + " " + uri + ": HTTP " + std::to_string(reply->status);
    if (answer.is_object()) {
      why += ": " + answer.value("title", std::string()) + ": " +
             answer.value("detail", std::string());
    }
    return Status::error(Code::kFailedPrecondition, why);
  }
  if (answer.is_discarded()) {
    return Status::error(Code::kInternal, method + " " + uri + ": the answer is not JSON");
  }
  return answer;
}

}  // namespace brug::gateway
