#pragma once
// The Linux network interfaces as SmartEVSE's "eth" and "wifi" objects.

#include "evsed/station/snapshot.hpp"

namespace evsed::app {

station::NetworkView read_network();

}  // namespace evsed::app
