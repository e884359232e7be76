#pragma once
// The Authorization header (RFC 7617 Basic, RFC 6750 Bearer), parsed strictly:
// anything else is "no credentials" plus a reason.

#include <optional>
#include <string>
#include <string_view>

namespace evsed::http {

struct Authorization {
  std::optional<std::string> user;
  std::optional<std::string> password;
  std::optional<std::string> bearer;
  std::optional<std::string> problem;  // set when the header was there but unusable
};

Authorization parse_authorization(std::string_view header);
// The value of one cookie in a Cookie header ("a=1; evsed_session=xyz").
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);
// Standard base64 (with padding); empty on anything else.
std::optional<std::string> base64_decode(std::string_view s);

}  // namespace evsed::http
