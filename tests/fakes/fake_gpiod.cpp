// A link-seam fake of the libgpiod v1 functions evsed calls, for machines
// without GPIO (no gpiochip, no gpio-sim here). Loaded with LD_PRELOAD in
// front of the real libgpiod, it keeps each line's level in a file:
//   $EVSED_FAKE_GPIO/<chip>/<offset>   "0" or "1" (the physical level)
//   $EVSED_FAKE_GPIO/names/<LINE NAME> "<chip>:<offset>"
// so tests can read what evsed drives and set what it reads.

#include <gpiod.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "fake_gpio_files.hpp"

struct gpiod_chip {
  std::string name;
};

struct gpiod_line {
  gpiod_chip* chip = nullptr;
  unsigned offset = 0;
  bool active_low = false;
  bool output = false;
};

namespace {

using fake_gpio::exists;
using fake_gpio::root;

std::string line_file(const gpiod_line* l) { return fake_gpio::level_file(l->chip->name, l->offset); }

void write_level(const gpiod_line* l, int logical) {
  fake_gpio::write_level(l->chip->name, l->offset, l->active_low, logical != 0);
}

}  // namespace

extern "C" {

const char* gpiod_version_string(void) { return "1.6.3 (fake)"; }

struct gpiod_chip* gpiod_chip_open_lookup(const char* descr) {
  auto name = fake_gpio::chip_named(descr);
  return name ? new gpiod_chip{*name} : nullptr;
}

void gpiod_chip_close(struct gpiod_chip* chip) { delete chip; }

struct gpiod_line* gpiod_chip_get_line(struct gpiod_chip* chip, unsigned int offset) {
  auto* l = new gpiod_line{chip, offset, false, false};
  if (!exists(line_file(l))) {
    delete l;
    errno = EINVAL;
    return nullptr;
  }
  return l;
}

struct gpiod_line* gpiod_line_find(const char* name) {
  std::ifstream in(root() + "/names/" + name);
  std::string spec;
  if (!(in >> spec)) {
    errno = ENOENT;
    return nullptr;
  }
  const auto colon = spec.rfind(':');
  gpiod_chip* chip = gpiod_chip_open_lookup(spec.substr(0, colon).c_str());
  if (!chip) return nullptr;
  gpiod_line* l = gpiod_chip_get_line(chip, static_cast<unsigned>(std::stoul(spec.substr(colon + 1))));
  if (!l) gpiod_chip_close(chip);
  return l;
}

int gpiod_line_request(struct gpiod_line* line, const struct gpiod_line_request_config* config, int default_val) {
  line->active_low = (config->flags & GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) != 0;
  line->output = config->request_type == GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
  if (line->output) write_level(line, default_val);
  return 0;
}

int gpiod_line_set_value(struct gpiod_line* line, int value) {
  if (!line->output) {
    errno = EPERM;
    return -1;
  }
  write_level(line, value);
  return 0;
}

int gpiod_line_get_value(struct gpiod_line* line) {
  std::ifstream in(line_file(line));
  int physical = 0;
  if (!(in >> physical)) {
    errno = EIO;
    return -1;
  }
  return line->active_low ? !physical : physical;
}

void gpiod_line_release(struct gpiod_line*) {}

void gpiod_line_close_chip(struct gpiod_line* line) {
  gpiod_chip_close(line->chip);
  delete line;
}

}  // extern "C"
