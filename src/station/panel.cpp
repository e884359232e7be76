#include "evsed/station/panel.hpp"

#include <algorithm>

namespace evsed::station {

namespace {

// SmartEVSE: backlight=n turns the LCD backlight on for n x 120 s.
constexpr std::int64_t kBacklightStepS = 120;
constexpr std::int64_t kBacklightMaxSteps = 1000;

std::optional<std::string> check_color(const std::array<std::int64_t, 3>& rgb) {
  for (auto c : rgb) {
    if (c < 0 || c > 255) return std::string{"R,G,B must each be 0..255"};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ColorSetting> color_setting_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kColorSettingNames.size(); ++i) {
    if (kColorSettingNames[i] == name) return static_cast<ColorSetting>(i);
  }
  return std::nullopt;
}

Rgb& color_of(LedColors& colors, ColorSetting which) {
  switch (which) {
    case ColorSetting::Off: return colors.off;
    case ColorSetting::Normal: return colors.normal;
    case ColorSetting::Smart: return colors.smart;
    case ColorSetting::Solar: return colors.solar;
    case ColorSetting::Custom: return colors.custom;
  }
  return colors.off;
}

PanelResult check_panel_patch(const PanelPatch& patch) {
  PanelResult r;
  if (patch.lcd_lock && *patch.lcd_lock != 0 && *patch.lcd_lock != 1) r.lcd_lock = "lcdlock must be 0 or 1";
  if (patch.color) r.color = check_color(patch.color->second);
  return r;
}

PanelResult apply_panel_patch(PanelState& panel, const PanelPatch& patch) {
  PanelResult r = check_panel_patch(patch);
  if (patch.backlight) {
    panel.backlight_s = static_cast<int>(std::clamp<std::int64_t>(*patch.backlight, 0, kBacklightMaxSteps) *
                                         kBacklightStepS);
  }
  if (patch.custom_button) panel.custom_button = *patch.custom_button;
  if (patch.lcd_lock && !r.lcd_lock) panel.lcd_lock = static_cast<int>(*patch.lcd_lock);
  if (patch.color && !r.color) {
    const auto& [which, c] = *patch.color;
    color_of(panel.colors, which) = Rgb{static_cast<int>(c[0]), static_cast<int>(c[1]), static_cast<int>(c[2])};
  }
  return r;
}

Rgb led_rgb(const LedColors& colors, core::LedColour which) {
  switch (which) {
    case core::LedColour::Off: return colors.off;
    case core::LedColour::Normal: return colors.normal;
    case core::LedColour::Smart: return colors.smart;
    case core::LedColour::Solar: return colors.solar;
    case core::LedColour::Custom: return colors.custom;
    case core::LedColour::Error: return Rgb{255, 0, 0};  // SmartEVSE flashes red, whatever the colours
  }
  return colors.off;
}

}  // namespace evsed::station
