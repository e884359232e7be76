#pragma once
#include <string>

namespace evsed::mqtt {
// Version of the Paho MQTT C++ library the daemon runs with.
std::string paho_version();
}  // namespace evsed::mqtt
