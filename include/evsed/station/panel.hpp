#pragma once
// SmartEVSE's front-panel values that clients set and read: LED colours,
// backlight timer, custom button, LCD lock. In memory only, as the firmware
// keeps them; the Station owns them and checks every change here.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "evsed/core/led.hpp"

namespace evsed::station {

struct Rgb {
  int r = 0;
  int g = 0;
  int b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

// The user's colour per LED colour setting (SmartEVSE's defaults).
struct LedColors {
  Rgb off{0, 0, 0};
  Rgb normal{0, 255, 0};
  Rgb smart{0, 255, 0};
  Rgb solar{255, 170, 0};
  Rgb custom{0, 0, 255};
  friend bool operator==(const LedColors&, const LedColors&) = default;
};

// The colour settings a client can change: "off", "normal", "smart", "solar", "custom".
enum class ColorSetting : std::uint8_t { Off, Normal, Smart, Solar, Custom };
inline constexpr std::array<std::string_view, 5> kColorSettingNames{"off", "normal", "smart", "solar", "custom"};
std::optional<ColorSetting> color_setting_from_name(std::string_view name);
Rgb& color_of(LedColors& colors, ColorSetting which);

struct PanelState {
  int backlight_s = 0;
  bool custom_button = false;
  int lcd_lock = 0;
  LedColors colors;
  friend bool operator==(const PanelState&, const PanelState&) = default;
};

// A change as a client sent it; each value is checked here.
struct PanelPatch {
  std::optional<std::int64_t> backlight;  // n x 120 s on (SmartEVSE), 0 = off
  std::optional<bool> custom_button;
  std::optional<std::int64_t> lcd_lock;   // 0 or 1
  std::optional<std::pair<ColorSetting, std::array<std::int64_t, 3>>> color;  // R, G, B each 0..255
  [[nodiscard]] bool empty() const { return !backlight && !custom_button && !lcd_lock && !color; }
};

// What became of a panel patch: a reason per refused value, empty when applied.
struct PanelResult {
  std::optional<std::string> lcd_lock;
  std::optional<std::string> color;
  [[nodiscard]] bool ok() const { return !lcd_lock && !color; }
};

// Applies what is valid of `patch` to `panel`; a refused value changes nothing.
PanelResult apply_panel_patch(PanelState& panel, const PanelPatch& patch);
// Whether `patch` would be refused in part (checked before a settings change is saved).
PanelResult check_panel_patch(const PanelPatch& patch);

// The RGB the LED shows for an indication: the user's colour, red for errors.
Rgb led_rgb(const LedColors& colors, core::LedColour which);

}  // namespace evsed::station
