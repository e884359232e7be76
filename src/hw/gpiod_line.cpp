// The GPIO lines through libgpiod 1.6 (Debian 12): the only translation unit
// that talks to that API (gpiod_line_v2.cpp is its v2 twin).

#include "evsed/hw/gpiod_line.hpp"
#include "evsed/hw/library_version.hpp"

#include <gpiod.h>

#include <cerrno>
#include <charconv>

namespace evsed::hw {

namespace {

constexpr const char* kConsumer = "evsed";

// Finds and opens the line; the chip stays open with it (gpiod_line_close_chip).
std::variant<gpiod_line*, HwError> find_line(const LineSpec& spec) {
  if (spec.chip.empty()) {
    gpiod_line* line = gpiod_line_find(spec.name.c_str());
    if (!line) return HwError{"GPIO line " + spec.name + " not found", errno ? errno : ENOENT};
    return line;
  }
  gpiod_chip* chip = gpiod_chip_open_lookup(spec.chip.c_str());
  if (!chip) return HwError{"GPIO chip " + spec.chip + " cannot be opened", errno};
  gpiod_line* line = gpiod_chip_get_line(chip, static_cast<unsigned>(spec.offset));
  if (!line) {
    const int err = errno;
    gpiod_chip_close(chip);
    return HwError{"GPIO line " + spec.describe() + " does not exist", err};
  }
  return line;
}

// Finds the line and requests it for evsed in one direction.
std::variant<gpiod_line*, HwError> request(const LineSpec& spec, int direction, int initial) {
  auto found = find_line(spec);
  if (auto* e = std::get_if<HwError>(&found)) return *e;
  gpiod_line* line = std::get<gpiod_line*>(found);
  const int flags = spec.active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
  gpiod_line_request_config cfg{kConsumer, direction, flags};
  if (gpiod_line_request(line, &cfg, initial) != 0) {
    const int err = errno;
    gpiod_line_close_chip(line);
    const bool out = direction == GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
    return HwError{std::string{"request GPIO "} + (out ? "output " : "input ") + spec.describe(), err};
  }
  return line;
}

}  // namespace

// v1 finds chips and names itself (gpiod_chip_open_lookup, gpiod_line_find).
std::variant<std::unique_ptr<GpiodOutput>, HwError> GpiodOutput::open(const LineSpec& spec, bool initial,
                                                                      const std::string& /*dev_root*/) {
  auto line = request(spec, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT, initial ? 1 : 0);
  if (auto* e = std::get_if<HwError>(&line)) return *e;
  return std::unique_ptr<GpiodOutput>(new GpiodOutput(std::get<gpiod_line*>(line), spec.describe()));
}

GpiodOutput::~GpiodOutput() {
  gpiod_line_release(line_);
  gpiod_line_close_chip(line_);
}

HwResult GpiodOutput::set(bool active) {
  if (gpiod_line_set_value(line_, active ? 1 : 0) != 0) return HwError{"set GPIO " + what_, errno};
  return std::nullopt;
}

std::variant<std::unique_ptr<GpiodInput>, HwError> GpiodInput::open(const LineSpec& spec,
                                                                    const std::string& /*dev_root*/) {
  auto line = request(spec, GPIOD_LINE_REQUEST_DIRECTION_INPUT, 0);
  if (auto* e = std::get_if<HwError>(&line)) return *e;
  return std::unique_ptr<GpiodInput>(new GpiodInput(std::get<gpiod_line*>(line), spec.describe()));
}

GpiodInput::~GpiodInput() {
  gpiod_line_release(line_);
  gpiod_line_close_chip(line_);
}

HwValue<bool> GpiodInput::read() {
  const int v = gpiod_line_get_value(line_);
  if (v < 0) return HwError{"read GPIO " + what_, errno};
  return v == 1;
}

std::string libgpiod_version() { return gpiod_version_string(); }

}  // namespace evsed::hw
