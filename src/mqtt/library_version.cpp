#include "evsed/mqtt/library_version.hpp"

#include <mqtt/async_client.h>

namespace evsed::mqtt {
std::string paho_version() { return ::mqtt::VERSION_STR; }
}  // namespace evsed::mqtt
