#pragma once
// The front LED as SmartEVSE drives it (control-logic.md §2.5, main.cpp
// 2193-2229): which of the user's colours it shows and how it flashes. A board
// with one plain LED line lights it when the pattern is on and the colour is not
// black.

#include <cstdint>
#include <string_view>

#include "evsed/core/units.hpp"

namespace evsed::core {

enum class LedPattern : std::uint8_t {
  On,         // steady (SmartEVSE dims or "breathes" it; a plain line is just on)
  SlowBlink,  // waiting: LESS_6A or a running charge delay
  FastBlink,  // an error that needs attention
};

// Which colour setting applies; the colours themselves are the user's (LED colour settings).
enum class LedColour : std::uint8_t { Off, Normal, Smart, Solar, Custom, Error };

struct LedIndication {
  LedPattern pattern = LedPattern::On;
  LedColour colour = LedColour::Off;
  friend bool operator==(const LedIndication&, const LedIndication&) = default;
};

// Flash periods: 1 s for waiting, 250 ms for errors (SmartEVSE's slow and fast blink).
inline constexpr Milliseconds kSlowBlinkPeriod{1000};
inline constexpr Milliseconds kFastBlinkPeriod{250};

// Whether a flashing pattern is in its lit half at `since` into the pattern.
constexpr bool pattern_lit(LedPattern p, Milliseconds since) {
  switch (p) {
    case LedPattern::On: return true;
    case LedPattern::SlowBlink: return since % kSlowBlinkPeriod < kSlowBlinkPeriod / 2;
    case LedPattern::FastBlink: return since % kFastBlinkPeriod < kFastBlinkPeriod / 2;
  }
  return false;
}

std::string_view to_string(LedPattern p);  // "on", "slow_blink", "fast_blink"
std::string_view to_string(LedColour c);   // "off", "normal", "smart", "solar", "custom", "error"

}  // namespace evsed::core
