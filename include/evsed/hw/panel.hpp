#pragma once
// SmartEVSE's front-panel values that clients set and read (LED colours,
// backlight, custom button, LCD lock). Kept in memory only, as the firmware does.

namespace evsed::hw {

struct Rgb {
  int r = 0;
  int g = 0;
  int b = 0;
};

struct LedColors {
  Rgb off{0, 0, 0};
  Rgb normal{0, 255, 0};
  Rgb smart{0, 255, 0};
  Rgb solar{255, 170, 0};
  Rgb custom{0, 0, 255};
};

struct PanelState {
  int backlight_s = 0;
  bool custom_button = false;
  int lcd_lock = 0;
  LedColors colors;
};

}  // namespace evsed::hw
