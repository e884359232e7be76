#pragma once
// The Linux network interfaces as SmartEVSE's "eth" and "wifi" objects.

#include "evsed/http/device_view.hpp"

namespace evsed::app {

http::NetworkView read_network();

}  // namespace evsed::app
