// The GPIO lines through libgpiod 2.x (Debian 13 / current Raspberry Pi OS):
// line settings, line config and request config instead of line objects; a
// line name is found by walking the chips' line info.

#include <dirent.h>
#include <gpiod.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "evsed/hw/gpiod_line.hpp"
#include "evsed/hw/library_version.hpp"

struct gpiod_line {
  gpiod_line_request* request = nullptr;
  unsigned offset = 0;
};

namespace evsed::hw {

namespace {

constexpr const char* kConsumer = "evsed";

std::vector<std::string> chip_paths(const std::string& dev_root) {
  std::vector<std::string> paths;
  if (DIR* d = ::opendir(dev_root.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (std::strncmp(e->d_name, "gpiochip", 8) == 0) paths.push_back(dev_root + "/" + e->d_name);
    }
    ::closedir(d);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string chip_path(const LineSpec& spec, const std::string& dev_root) {
  return spec.chip.front() == '/' ? spec.chip : dev_root + "/" + spec.chip;
}

// The offset of a named line on this chip, by walking its line info; -1 if none.
int find_offset(gpiod_chip* chip, const std::string& name) {
  gpiod_chip_info* info = gpiod_chip_get_info(chip);
  if (!info) return -1;
  const auto lines = gpiod_chip_info_get_num_lines(info);
  gpiod_chip_info_free(info);
  for (unsigned offset = 0; offset < lines; ++offset) {
    gpiod_line_info* line = gpiod_chip_get_line_info(chip, offset);
    if (!line) continue;
    const char* n = gpiod_line_info_get_name(line);
    const bool match = n && name == n;
    gpiod_line_info_free(line);
    if (match) return static_cast<int>(offset);
  }
  return -1;
}

std::variant<gpiod_line*, HwError> request(const LineSpec& spec, const std::string& dev_root, bool output,
                                           bool initial) {
  gpiod_chip* chip = nullptr;
  int offset = spec.offset;
  if (spec.chip.empty()) {
    for (const auto& path : chip_paths(dev_root)) {
      chip = gpiod_chip_open(path.c_str());
      if (!chip) continue;
      offset = find_offset(chip, spec.name);
      if (offset >= 0) break;
      gpiod_chip_close(chip);
      chip = nullptr;
    }
    if (!chip) return HwError{"GPIO line " + spec.name + " not found", ENOENT};
  } else {
    chip = gpiod_chip_open(chip_path(spec, dev_root).c_str());
    if (!chip) return HwError{"GPIO chip " + chip_path(spec, dev_root) + " cannot be opened", errno};
  }

  gpiod_line_settings* settings = gpiod_line_settings_new();
  gpiod_line_config* line_cfg = gpiod_line_config_new();
  gpiod_request_config* req_cfg = gpiod_request_config_new();
  gpiod_line_request* req = nullptr;
  int err = ENOMEM;
  if (settings && line_cfg && req_cfg) {
    gpiod_line_settings_set_direction(settings, output ? GPIOD_LINE_DIRECTION_OUTPUT : GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_active_low(settings, spec.active_low);
    if (output) {
      gpiod_line_settings_set_output_value(settings, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    }
    const unsigned off = static_cast<unsigned>(offset);
    gpiod_request_config_set_consumer(req_cfg, kConsumer);
    if (gpiod_line_config_add_line_settings(line_cfg, &off, 1, settings) == 0) {
      req = gpiod_chip_request_lines(chip, req_cfg, line_cfg);
    }
    err = errno;
  }
  gpiod_request_config_free(req_cfg);
  gpiod_line_config_free(line_cfg);
  gpiod_line_settings_free(settings);
  gpiod_chip_close(chip);  // the request lives on without the chip
  if (!req) return HwError{std::string{"request GPIO "} + (output ? "output " : "input ") + spec.describe(), err};
  return new gpiod_line{req, static_cast<unsigned>(offset)};
}

void release(gpiod_line* line) {
  gpiod_line_request_release(line->request);
  delete line;
}

}  // namespace

std::variant<std::unique_ptr<GpiodOutput>, HwError> GpiodOutput::open(const LineSpec& spec, bool initial,
                                                                      const std::string& dev_root) {
  auto line = request(spec, dev_root, true, initial);
  if (auto* e = std::get_if<HwError>(&line)) return *e;
  return std::unique_ptr<GpiodOutput>(new GpiodOutput(std::get<gpiod_line*>(line), spec.describe()));
}

GpiodOutput::~GpiodOutput() { release(line_); }

HwResult GpiodOutput::set(bool active) {
  if (gpiod_line_request_set_value(line_->request, line_->offset,
                                   active ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) != 0) {
    return HwError{"set GPIO " + what_, errno};
  }
  return std::nullopt;
}

std::variant<std::unique_ptr<GpiodInput>, HwError> GpiodInput::open(const LineSpec& spec, const std::string& dev_root) {
  auto line = request(spec, dev_root, false, false);
  if (auto* e = std::get_if<HwError>(&line)) return *e;
  return std::unique_ptr<GpiodInput>(new GpiodInput(std::get<gpiod_line*>(line), spec.describe()));
}

GpiodInput::~GpiodInput() { release(line_); }

HwValue<bool> GpiodInput::read() {
  const auto v = gpiod_line_request_get_value(line_->request, line_->offset);
  if (v == GPIOD_LINE_VALUE_ERROR) return HwError{"read GPIO " + what_, errno};
  return v == GPIOD_LINE_VALUE_ACTIVE;
}

std::string libgpiod_version() { return gpiod_api_version(); }

}  // namespace evsed::hw
