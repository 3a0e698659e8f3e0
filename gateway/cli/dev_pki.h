// A development PKI: a CA and the certificates `brug init` issues (ECDSA P-256, SHA-256).
// Production deployments use PKIoverheid certificates; this exists so a newcomer and the
// tests have real mutual TLS without one.
#pragma once

#include <string>
#include <vector>

#include "crypto/result.h"

namespace brug::gateway {

struct PemPair {
  std::string key_pem;   // PKCS#8 private key
  std::string cert_pem;  // X.509 certificate
};

struct CertSpec {
  std::string common_name;
  std::string organisation;
  std::string serial_number;  // subject serialNumber: the OIN on PKIoverheid certificates
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server = false;  // serverAuth instead of clientAuth
  int days = 825;
};

// A self-signed CA certificate and key.
Result<PemPair> make_dev_ca(const std::string& common_name, int days = 3650);
// A leaf certificate for `spec`, signed by `ca`.
Result<PemPair> issue_dev_cert(const PemPair& ca, const CertSpec& spec);

}  // namespace brug::gateway
