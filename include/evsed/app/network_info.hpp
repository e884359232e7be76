#pragma once
// The Linux network interfaces as SmartEVSE's "eth" and "wifi" objects.

#include <string>
#include <vector>

#include "evsed/station/snapshot.hpp"

namespace evsed::app {

station::NetworkView read_network();

// The URLs a listen list ("0.0.0.0:80,[::1]:8080") answers on: with an
// address of all interfaces, one per address of this host.
std::vector<std::string> urls_for(const std::string& listen_list);

}  // namespace evsed::app
