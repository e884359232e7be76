#pragma once
// GPIO lines through libgpiod, found by line name ("GPIO17") or by chip and
// offset ("gpiochip0:17"); a leading '!' makes a line active-low. Two
// implementations: the v1.6 API (Debian 12) and the v2 API (Debian 13), chosen
// at configure time from the version pkg-config reports.

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "evsed/hw/io.hpp"

struct gpiod_line;

namespace evsed::hw {

struct LineSpec {
  std::string name;  // line name, when no chip is given
  std::string chip;  // "gpiochip0" or a path
  int offset = -1;
  bool active_low = false;
  [[nodiscard]] std::string describe() const;
  friend bool operator==(const LineSpec&, const LineSpec&) = default;
};

// "GPIO17", "gpiochip0:17", "!gpiochip1:5"; empty: not wired.
std::optional<LineSpec> parse_line_spec(const std::string& s, std::string& error);

class GpiodOutput final : public DigitalOut {
 public:
  // `dev_root`: where the gpiochip devices are (v2 walks them to find a name).
  static std::variant<std::unique_ptr<GpiodOutput>, HwError> open(const LineSpec& spec, bool initial,
                                                                  const std::string& dev_root = "/dev");
  ~GpiodOutput() override;
  HwResult set(bool active) override;

 private:
  GpiodOutput(gpiod_line* line, std::string what) : line_(line), what_(std::move(what)) {}
  gpiod_line* line_;
  std::string what_;
};

class GpiodInput final : public DigitalIn {
 public:
  static std::variant<std::unique_ptr<GpiodInput>, HwError> open(const LineSpec& spec,
                                                                 const std::string& dev_root = "/dev");
  ~GpiodInput() override;
  HwValue<bool> read() override;

 private:
  GpiodInput(gpiod_line* line, std::string what) : line_(line), what_(std::move(what)) {}
  gpiod_line* line_;
  std::string what_;
};

}  // namespace evsed::hw
