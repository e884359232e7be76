// A link-seam fake of the libgpiod 2.x functions evsed calls (the twin of
// fake_gpiod.cpp), preloaded in front of the real library. Same files:
//   $EVSED_FAKE_GPIO/<chip>/<offset>   "0" or "1" (the physical level)
//   $EVSED_FAKE_GPIO/names/<LINE NAME> "<chip>:<offset>"

#include <dirent.h>
#include <gpiod.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fake_gpio_files.hpp"

struct gpiod_chip {
  std::string name;
};
struct gpiod_chip_info {
  std::size_t lines = 0;
};
struct gpiod_line_info {
  std::string name;
};
struct gpiod_line_settings {
  gpiod_line_direction direction = GPIOD_LINE_DIRECTION_INPUT;
  gpiod_line_value output = GPIOD_LINE_VALUE_INACTIVE;
  bool active_low = false;
};
struct gpiod_line_config {
  std::map<unsigned, gpiod_line_settings> lines;
};
struct gpiod_request_config {
  std::string consumer;
};
struct gpiod_line_request {
  std::string chip;
  std::map<unsigned, gpiod_line_settings> lines;
};

namespace {

using fake_gpio::exists;
using fake_gpio::root;

void write_level(const std::string& chip, unsigned offset, const gpiod_line_settings& s, bool active) {
  fake_gpio::write_level(chip, offset, s.active_low, active);
}

}  // namespace

extern "C" {

const char* gpiod_api_version(void) { return "2.2 (fake)"; }

struct gpiod_chip* gpiod_chip_open(const char* path) {
  auto name = fake_gpio::chip_named(path);
  return name ? new gpiod_chip{*name} : nullptr;
}

void gpiod_chip_close(struct gpiod_chip* chip) { delete chip; }

struct gpiod_chip_info* gpiod_chip_get_info(struct gpiod_chip* chip) {
  auto* info = new gpiod_chip_info{};
  if (DIR* d = ::opendir((root() + "/" + chip->name).c_str())) {
    while (const dirent* e = ::readdir(d)) {
      char* end = nullptr;
      const unsigned long offset = std::strtoul(e->d_name, &end, 10);
      if (end != e->d_name && *end == '\0' && offset + 1 > info->lines) info->lines = offset + 1;
    }
    ::closedir(d);
  }
  return info;
}
size_t gpiod_chip_info_get_num_lines(struct gpiod_chip_info* info) { return info->lines; }
void gpiod_chip_info_free(struct gpiod_chip_info* info) { delete info; }

struct gpiod_line_info* gpiod_chip_get_line_info(struct gpiod_chip* chip, unsigned int offset) {
  auto* info = new gpiod_line_info{};
  const std::string wanted = chip->name + ":" + std::to_string(offset);
  if (DIR* d = ::opendir((root() + "/names").c_str())) {
    while (const dirent* e = ::readdir(d)) {
      std::ifstream in(root() + "/names/" + e->d_name);
      std::string spec;
      if (in >> spec && spec == wanted) info->name = e->d_name;
    }
    ::closedir(d);
  }
  return info;
}
const char* gpiod_line_info_get_name(struct gpiod_line_info* info) {
  return info->name.empty() ? nullptr : info->name.c_str();
}
void gpiod_line_info_free(struct gpiod_line_info* info) { delete info; }

struct gpiod_line_settings* gpiod_line_settings_new(void) { return new gpiod_line_settings{}; }
void gpiod_line_settings_free(struct gpiod_line_settings* s) { delete s; }
int gpiod_line_settings_set_direction(struct gpiod_line_settings* s, enum gpiod_line_direction d) {
  s->direction = d;
  return 0;
}
int gpiod_line_settings_set_output_value(struct gpiod_line_settings* s, enum gpiod_line_value v) {
  s->output = v;
  return 0;
}
void gpiod_line_settings_set_active_low(struct gpiod_line_settings* s, bool active_low) { s->active_low = active_low; }

struct gpiod_line_config* gpiod_line_config_new(void) { return new gpiod_line_config{}; }
void gpiod_line_config_free(struct gpiod_line_config* c) { delete c; }
int gpiod_line_config_add_line_settings(struct gpiod_line_config* c, const unsigned int* offsets, size_t n,
                                        struct gpiod_line_settings* s) {
  for (size_t i = 0; i < n; ++i) c->lines[offsets[i]] = *s;
  return 0;
}

struct gpiod_request_config* gpiod_request_config_new(void) { return new gpiod_request_config{}; }
void gpiod_request_config_free(struct gpiod_request_config* c) { delete c; }
void gpiod_request_config_set_consumer(struct gpiod_request_config* c, const char* consumer) { c->consumer = consumer; }

struct gpiod_line_request* gpiod_chip_request_lines(struct gpiod_chip* chip, struct gpiod_request_config*,
                                                    struct gpiod_line_config* c) {
  auto* req = new gpiod_line_request{chip->name, c->lines};
  for (const auto& [offset, s] : c->lines) {
    if (!exists(fake_gpio::level_file(chip->name, offset))) {
      delete req;
      errno = EINVAL;
      return nullptr;
    }
    if (s.direction == GPIOD_LINE_DIRECTION_OUTPUT) write_level(chip->name, offset, s, s.output == GPIOD_LINE_VALUE_ACTIVE);
  }
  return req;
}

int gpiod_line_request_set_value(struct gpiod_line_request* r, unsigned int offset, enum gpiod_line_value v) {
  auto it = r->lines.find(offset);
  if (it == r->lines.end() || it->second.direction != GPIOD_LINE_DIRECTION_OUTPUT) {
    errno = EPERM;
    return -1;
  }
  write_level(r->chip, offset, it->second, v == GPIOD_LINE_VALUE_ACTIVE);
  return 0;
}

enum gpiod_line_value gpiod_line_request_get_value(struct gpiod_line_request* r, unsigned int offset) {
  auto it = r->lines.find(offset);
  std::ifstream in(fake_gpio::level_file(r->chip, offset));
  int physical = 0;
  if (it == r->lines.end() || !(in >> physical)) {
    errno = EIO;
    return GPIOD_LINE_VALUE_ERROR;
  }
  return (it->second.active_low ? !physical : physical) ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE;
}

void gpiod_line_request_release(struct gpiod_line_request* r) { delete r; }

}  // extern "C"
