#pragma once
// Reading and writing the small text files of sysfs, with failures as values
// that name the path and errno.

#include <string>

#include "evsed/hw/io.hpp"

namespace evsed::hw {

HwResult write_attribute(const std::string& path, const std::string& value);
HwValue<std::string> read_attribute(const std::string& path);
HwValue<long long> read_integer(const std::string& path);
HwValue<double> read_number(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace evsed::hw
