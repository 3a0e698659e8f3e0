// A client of a brug gateway over HTTPS with a client certificate: what `brug demo`,
// `brug report` and `brug import` use to go through the same audited path as any other system.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "crypto/result.h"

namespace brug::gateway {

struct ClientIdentity {
  std::string host;
  std::uint16_t port = 0;
  std::string cert_file, key_file, ca_file;
};

struct ClientReply {
  int status = 0;
  std::string body;
};

class GatewayClient {
 public:
  explicit GatewayClient(const ClientIdentity& identity);
  ~GatewayClient();
  GatewayClient(GatewayClient&&) noexcept;

  // One request on the kept-alive session; a transport failure is kUnavailable.
  Result<ClientReply> call(const std::string& method, const std::string& uri,
                           const std::string& body = "");
  // The same, for JSON answers with status 2xx; anything else is an error naming the status
  // and the problem's title and detail.
  Result<nlohmann::json> json_call(const std::string& method, const std::string& uri,
                                   const nlohmann::json* body = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace brug::gateway
