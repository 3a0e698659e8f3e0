#include "gateway/cli/dev_pki.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

namespace brug::gateway {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Cert c(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return c;
}

// Verifies `leaf` against `ca` with OpenSSL's chain verification.
bool chains_to(const std::string& leaf, const std::string& ca) {
  Cert l = parse(leaf), c = parse(ca);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, c.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, l.get(), nullptr);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

std::string subject_field(const std::string& pem, int nid) {
  Cert c = parse(pem);
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(c.get()), nid, buf, sizeof buf);
  return buf;
}

TEST(DevPki, IssuedCertificatesChainToTheirCaOnly) {
  auto ca = make_dev_ca("test CA");
  auto other = make_dev_ca("other CA");
  ASSERT_TRUE(ca && other);
  auto leaf = issue_dev_cert(*ca, {.common_name = "project-x"});
  ASSERT_TRUE(leaf) << leaf.message();
  EXPECT_TRUE(chains_to(leaf->cert_pem, ca->cert_pem));
  EXPECT_FALSE(chains_to(leaf->cert_pem, other->cert_pem));
}

TEST(DevPki, TheSubjectCarriesCommonNameAndOin) {
  auto ca = make_dev_ca("test CA");
  ASSERT_TRUE(ca);
  auto leaf = issue_dev_cert(*ca, {.common_name = "gemeente-x",
                                   .organisation = "Gemeente X",
                                   .serial_number = "00000099000000001000"});
  ASSERT_TRUE(leaf);
  EXPECT_EQ(subject_field(leaf->cert_pem, NID_commonName), "gemeente-x");
  EXPECT_EQ(subject_field(leaf->cert_pem, NID_serialNumber), "00000099000000001000");
  EXPECT_EQ(subject_field(leaf->cert_pem, NID_organizationName), "Gemeente X");
}

TEST(DevPki, KeysAreEcdsaP256) {
  auto ca = make_dev_ca("test CA");
  ASSERT_TRUE(ca);
  Cert c = parse(ca->cert_pem);
  EVP_PKEY* key = X509_get0_pubkey(c.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  char group[64] = {0};
  size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, &len), 1);
  EXPECT_STREQ(group, "prime256v1");
}

TEST(DevPki, AGarbledCaIsAnErrorNotACrash) {
  PemPair broken{"not a key", "not a cert"};
  auto leaf = issue_dev_cert(broken, {.common_name = "x"});
  ASSERT_FALSE(leaf);
  EXPECT_EQ(leaf.code(), Code::kInternal);
}

}  // namespace
}  // namespace brug::gateway
