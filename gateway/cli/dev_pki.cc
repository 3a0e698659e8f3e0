#include "gateway/cli/dev_pki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace brug::gateway {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status ssl_error(const std::string& what) {
  const unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return Status::error(Code::kInternal, what + (e != 0 ? std::string(": ") + buf : ""));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<PemPair> to_pem(EVP_PKEY* key, X509* cert) {
  Bio kb(BIO_new(BIO_s_mem()));
  Bio cb(BIO_new(BIO_s_mem()));
  if (!kb || !cb ||
      PEM_write_bio_PrivateKey(kb.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cb.get(), cert) != 1) {
    return ssl_error("cannot encode PEM");
  }
  return PemPair{bio_text(kb.get()), bio_text(cb.get())};
}

Result<Key> read_key(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return ssl_error("cannot read CA key");
  return key;
}

Result<Cert> read_cert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return ssl_error("cannot read CA certificate");
  return cert;
}

Status add_name(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return Status::ok();
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    return ssl_error(std::string("cannot set subject ") + field);
  }
  return Status::ok();
}

Status add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return ssl_error("cannot make extension " + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::ok() : ssl_error("cannot add extension");
}

// A certificate body with a random 128-bit serial, the validity window and the public key.
Result<Cert> new_cert(EVP_PKEY* key, const CertSpec& spec) {
  Cert cert(X509_new());
  if (!cert) return ssl_error("cannot allocate certificate");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return ssl_error("no randomness");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || X509_set_version(cert.get(), 2) != 1 ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), spec.days, 0, nullptr) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return ssl_error("cannot fill certificate");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  BRUG_RETURN_IF_ERROR(add_name(name, "O", spec.organisation));
  BRUG_RETURN_IF_ERROR(add_name(name, "serialNumber", spec.serial_number));
  BRUG_RETURN_IF_ERROR(add_name(name, "CN", spec.common_name));
  return cert;
}

Result<Key> new_p256_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return ssl_error("cannot generate P-256 key");
  return key;
}

}  // namespace

Result<PemPair> make_dev_ca(const std::string& common_name, int days) {
  auto key = new_p256_key();
  if (!key) return key.status();
  auto cert =
      new_cert(key->get(),
               {.common_name = common_name, .organisation = "brug development CA", .days = days});
  if (!cert) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) return ssl_error("issuer");
  BRUG_RETURN_IF_ERROR(add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  BRUG_RETURN_IF_ERROR(add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  BRUG_RETURN_IF_ERROR(add_ext(c, c, NID_subject_key_identifier, "hash"));
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) return ssl_error("cannot sign CA");
  return to_pem(key->get(), c);
}

Result<PemPair> issue_dev_cert(const PemPair& ca, const CertSpec& spec) {
  auto ca_key = read_key(ca.key_pem);
  if (!ca_key) return ca_key.status();
  auto ca_cert = read_cert(ca.cert_pem);
  if (!ca_cert) return ca_cert.status();
  auto key = new_p256_key();
  if (!key) return key.status();
  auto cert = new_cert(key->get(), spec);
  if (!cert) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert->get())) != 1) {
    return ssl_error("issuer");
  }
  BRUG_RETURN_IF_ERROR(add_ext(c, ca_cert->get(), NID_basic_constraints, "critical,CA:FALSE"));
  BRUG_RETURN_IF_ERROR(
      add_ext(c, ca_cert->get(), NID_key_usage, "critical,digitalSignature,keyAgreement"));
  BRUG_RETURN_IF_ERROR(
      add_ext(c, ca_cert->get(), NID_ext_key_usage, spec.server ? "serverAuth" : "clientAuth"));
  BRUG_RETURN_IF_ERROR(add_ext(c, ca_cert->get(), NID_subject_key_identifier, "hash"));
  BRUG_RETURN_IF_ERROR(add_ext(c, ca_cert->get(), NID_authority_key_identifier, "keyid:always"));
  std::string san;
  auto add_name = [&san](std::string_view kind, const std::string& value) {
    if (!san.empty()) san.push_back(',');
    san.append(kind).append(value);
  };
  for (const auto& d : spec.dns_names) add_name("DNS:", d);
  for (const auto& ip : spec.ip_addresses) add_name("IP:", ip);
  if (!san.empty()) BRUG_RETURN_IF_ERROR(add_ext(c, ca_cert->get(), NID_subject_alt_name, san));
  if (X509_sign(c, ca_key->get(), EVP_sha256()) == 0) return ssl_error("cannot sign certificate");
  return to_pem(key->get(), c);
}

}  // namespace brug::gateway
