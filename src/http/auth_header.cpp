#include "evsed/http/auth_header.hpp"

#include <array>
#include <cctype>

namespace evsed::http {

namespace {
constexpr std::size_t kMaxCredentialBytes = 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}
}  // namespace

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string{pair.substr(eq + 1)};
  }
  return std::nullopt;
}

std::optional<std::string> base64_decode(std::string_view s) {
  if (s.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    std::array<int, 4> v{};
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = s[i + k];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

Authorization parse_authorization(std::string_view h) {
  Authorization a;
  if (h.empty()) return a;
  if (h.size() > kMaxCredentialBytes) {
    a.problem = "the Authorization header is too long";
    return a;
  }
  const auto space = h.find(' ');
  const std::string_view scheme = h.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : h.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (iequals(scheme, "Basic")) {
    const auto decoded = base64_decode(rest);
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (!decoded || colon == std::string::npos) {
      a.problem = "Basic credentials are base64 of name:password";
      return a;
    }
    a.user = decoded->substr(0, colon);  // (a problem above leaves user and password empty)
    a.password = decoded->substr(colon + 1);
  } else if (iequals(scheme, "Bearer")) {
    if (rest.empty() || rest.find_first_of(" \t,") != std::string_view::npos) {
      a.problem = "a Bearer token is one word";
      return a;
    }
    a.bearer = std::string{rest};
  } else {
    a.problem = "only Basic and Bearer credentials are taken";
  }
  return a;
}

}  // namespace evsed::http
