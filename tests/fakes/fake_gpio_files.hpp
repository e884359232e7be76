// The files both libgpiod fakes keep their lines in (see fake_gpiod.cpp):
//   $EVSED_FAKE_GPIO/<chip>/<offset>   "0" or "1" (the physical level)
//   $EVSED_FAKE_GPIO/names/<LINE NAME> "<chip>:<offset>"
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

namespace fake_gpio {

inline std::string root() {
  const char* r = std::getenv("EVSED_FAKE_GPIO");
  return r ? r : "/nonexistent";
}

inline std::string level_file(const std::string& chip, unsigned offset) {
  return root() + "/" + chip + "/" + std::to_string(offset);
}

inline bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// "/dev/gpiochip0" and "gpiochip0" name the same chip; nullopt (errno ENOENT)
// when the test did not create it.
inline std::optional<std::string> chip_named(const std::string& path) {
  std::string name = path;
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (!exists(root() + "/" + name)) {
    errno = ENOENT;
    return std::nullopt;
  }
  return name;
}

inline void write_level(const std::string& chip, unsigned offset, bool active_low, bool active) {
  std::ofstream(level_file(chip, offset)) << (active_low ? !active : active) << "\n";
}

}  // namespace fake_gpio
