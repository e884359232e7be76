#include "evsed/auth/network.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace evsed::auth {

namespace {

// IPv6 bytes of an address (IPv4 mapped into ::ffff:0:0/96).
std::optional<std::array<std::uint8_t, 16>> address_bytes(std::string_view text, bool& v4) {
  std::array<std::uint8_t, 16> out{};
  const std::string s{text};
  in_addr a4{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    v4 = true;
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    return out;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    v4 = false;
    std::memcpy(out.data(), &a6, 16);
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Network> parse_network(std::string_view text, std::string& error) {
  const auto slash = text.find('/');
  bool v4 = false;
  const auto bytes = address_bytes(text.substr(0, slash), v4);
  if (!bytes) {
    error = "not an IP address or network (allowed: 192.168.1.0/24, 10.0.0.7, fd00::/8, ::1)";
    return std::nullopt;
  }
  Network n;
  n.address = *bytes;
  n.text = std::string{text};
  const int max = v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || prefix < 0 || prefix > max) {
      error = "the prefix length must be 0.." + std::to_string(max);
      return std::nullopt;
    }
  }
  n.prefix = v4 ? prefix + 96 : prefix;
  return n;
}

bool contains(const Network& n, std::string_view address) {
  bool v4 = false;
  const auto a = address_bytes(address, v4);
  if (!a) return false;
  int bits = n.prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((n.address[i] & mask) != ((*a)[i] & mask)) return false;
  }
  return true;
}

bool any_contains(const std::vector<Network>& nets, std::string_view address) {
  for (const auto& n : nets) {
    if (contains(n, address)) return true;
  }
  return false;
}

}  // namespace evsed::auth
