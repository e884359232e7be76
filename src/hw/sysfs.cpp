#include "evsed/hw/sysfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

namespace evsed::hw {

HwResult write_attribute(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return HwError{"open " + path, errno};
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) return HwError{"write " + value + " to " + path, n < 0 ? err : EIO};
  return std::nullopt;
}

HwValue<std::string> read_attribute(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return HwError{"open " + path, errno};
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  const int err = errno;
  ::close(fd);
  if (n < 0) return HwError{"read " + path, err};
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

HwValue<long long> read_integer(const std::string& path) {
  auto text = read_attribute(path);
  if (auto* e = std::get_if<HwError>(&text)) return *e;
  const auto& s = std::get<std::string>(text);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return HwError{"not a number in " + path + ": '" + s + "'", EINVAL};
  return v;
}

HwValue<double> read_number(const std::string& path) {
  auto text = read_attribute(path);
  if (auto* e = std::get_if<HwError>(&text)) return *e;
  const auto& s = std::get<std::string>(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') return HwError{"not a number in " + path + ": '" + s + "'", EINVAL};
  return v;
}

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace evsed::hw
