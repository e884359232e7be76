#pragma once
// Source networks ([http] trusted_networks): "127.0.0.0/8", "::1",
// "192.168.1.20". IPv4 peers seen through an IPv6 socket (::ffff:a.b.c.d)
// match their IPv4 networks.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evsed::auth {

struct Network {
  std::array<std::uint8_t, 16> address{};  // IPv4 as IPv4-mapped IPv6
  int prefix = 128;                        // in IPv6 bits
  std::string text;                        // as configured
};

// Empty, with `error` set, when it is not an address or address/prefix.
std::optional<Network> parse_network(std::string_view text, std::string& error);
bool contains(const Network& n, std::string_view address);
bool any_contains(const std::vector<Network>& nets, std::string_view address);

inline const std::vector<std::string> kDefaultTrustedNetworks{"127.0.0.0/8", "::1"};

}  // namespace evsed::auth
