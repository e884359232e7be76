#include "evsed/hw/library_version.hpp"

#include <gpiod.h>

namespace evsed::hw {
std::string libgpiod_version() { return gpiod_version_string(); }
}  // namespace evsed::hw
