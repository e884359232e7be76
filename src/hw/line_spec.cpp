// Line specs are the same whichever libgpiod is underneath.

#include <charconv>

#include "evsed/hw/gpiod_line.hpp"

namespace evsed::hw {

std::string LineSpec::describe() const {
  std::string s = active_low ? "!" : "";
  return chip.empty() ? s + name : s + chip + ":" + std::to_string(offset);
}

std::optional<LineSpec> parse_line_spec(const std::string& text, std::string& error) {
  if (text.empty()) return std::nullopt;
  LineSpec spec;
  std::string s = text;
  if (s.front() == '!') {
    spec.active_low = true;
    s.erase(0, 1);
  }
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) {
    spec.name = s;
  } else {
    spec.chip = s.substr(0, colon);
    const std::string off = s.substr(colon + 1);
    auto [p, ec] = std::from_chars(off.data(), off.data() + off.size(), spec.offset);
    if (ec != std::errc{} || p != off.data() + off.size() || spec.offset < 0 || spec.chip.empty()) {
      error = "'" + text + "' is not a line name or CHIP:OFFSET";
      return std::nullopt;
    }
  }
  if (spec.chip.empty() && spec.name.empty()) {
    error = "'" + text + "' names no line";
    return std::nullopt;
  }
  return spec;
}

}  // namespace evsed::hw
