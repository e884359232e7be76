#pragma once
// The HTTPS certificate when none is given: self-signed, ECDSA P-256, ten
// years, named for this host (its names and addresses as subjectAltNames), so
// a browser or client can pin it by its SHA-256 fingerprint.

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace evsed::http {

struct CertificatePair {
  std::string cert_pem;
  std::string key_pem;
};

std::variant<CertificatePair, std::string> make_self_signed(const std::string& common_name,
                                                            const std::vector<std::string>& dns_names,
                                                            const std::vector<std::string>& ip_addresses);
// "AB:CD:..." of the first certificate in `cert_pem`; empty when it is not one.
std::optional<std::string> fingerprint_sha256(const std::string& cert_pem);

}  // namespace evsed::http
