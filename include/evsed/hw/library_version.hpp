#pragma once
#include <string>

namespace evsed::hw {
// Version of the libgpiod the daemon runs with.
std::string libgpiod_version();
}  // namespace evsed::hw
