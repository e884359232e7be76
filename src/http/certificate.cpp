#include "evsed/http/certificate.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

namespace evsed::http {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

constexpr long kValidSeconds = 10L * 366 * 24 * 3600;

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

std::variant<CertificatePair, std::string> make_self_signed(const std::string& common_name,
                                                            const std::vector<std::string>& dns_names,
                                                            const std::vector<std::string>& ip_addresses) {
  Key key{EVP_EC_gen("P-256")};
  if (!key) return std::string{"cannot make an EC key"};
  Cert cert{X509_new()};
  if (!cert) return std::string{"out of memory"};
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  FILE* r = std::fopen("/dev/urandom", "rb");
  const bool random_ok = r && std::fread(serial, 1, sizeof serial, r) == sizeof serial;
  if (r) std::fclose(r);
  if (!random_ok) return std::string{"no random serial number"};
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // a clock slightly behind still accepts it
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidSeconds);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("evsed"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  auto add = [&san](std::string_view kind, const std::string& value) {
    if (!san.empty()) san += ',';
    san += kind;
    san += value;
  };
  for (const auto& d : dns_names) add("DNS:", d);
  for (const auto& ip : ip_addresses) add("IP:", ip);
  if (!san.empty() && !add_extension(cert.get(), NID_subject_alt_name, san)) return "bad subjectAltName: " + san;
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth")) {
    return std::string{"cannot add the certificate's extensions"};
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return std::string{"cannot sign the certificate"};
  Bio c{BIO_new(BIO_s_mem())};
  Bio k{BIO_new(BIO_s_mem())};
  if (!c || !k || PEM_write_bio_X509(c.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(k.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return std::string{"cannot write PEM"};
  }
  return CertificatePair{bio_text(c.get()), bio_text(k.get())};
}

std::optional<std::string> fingerprint_sha256(const std::string& cert_pem) {
  Bio b{BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()))};
  if (!b) return std::nullopt;
  Cert cert{PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)};
  if (!cert) return std::nullopt;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &n) != 1) return std::nullopt;
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

}  // namespace evsed::http
