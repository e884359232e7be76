#pragma once
// Control pilot (IEC 61851-1 Annex A): PWM duty for an offered current, and the
// classification of a sample window of pilot voltages into a pilot level.

#include <cstdint>
#include <string_view>

#include "evsed/core/units.hpp"

namespace evsed::core {

// Duty cycle in 1/1024 of the 1 kHz period, as SmartEVSE reports it (evse.pwm).
// 1024 is a steady +12 V (no current offered), 0 a steady -12 V.
struct PwmDuty {
  std::int32_t value = 1024;
  friend constexpr auto operator<=>(PwmDuty, PwmDuty) = default;
};

inline constexpr PwmDuty kDutySteadyHigh{1024};  // states A, B1, C1: no current offered
inline constexpr PwmDuty kDutySteadyLow{0};      // activation pulse (state F for the car)

// IEC 61851-1 duty for a current: 6..51 A -> I/0.6 %; 51..80 A -> I/2.5 + 64 %;
// anything else -> 10 % (6 A). Truncating integer arithmetic as the firmware.
PwmDuty duty_for_current(DeciAmps current);
// Inverse mapping (what a car reads from a duty); 0 A outside the current ranges.
DeciAmps current_for_duty(PwmDuty duty);

// Min and max pilot voltage (volts at the pilot wire, after the board's divider)
// over one sample window (about 10 ms = 10 PWM periods).
struct PilotWindow {
  double min_volts = 0.0;
  double max_volts = 0.0;
};

// The positive plateau level the car presents.
enum class PilotLevel : std::uint8_t {
  V12,      // state A: nothing connected
  V9,       // state B: car connected, not requesting
  V6,       // state C: car requests power
  V3,       // state D: car requests power with ventilation
  Short,    // state E: pilot shorted to PE (about 0 V)
  Invalid,  // mixed window, out of range, or a steady -12 V (state F)
};

std::string_view to_string(PilotLevel level);

struct PilotReading {
  PilotLevel level = PilotLevel::Invalid;
  // The negative half of the PWM reached -12 V: the car's diode blocks as it must.
  bool diode_seen = false;
  // The negative half was loaded (about minus the plateau): diode missing or shorted.
  bool diode_missing = false;
};

// Thresholds in pilot volts, all in one place. They follow SmartEVSE's ADC
// thresholds (3055/2735/2400/2000/1600 mV, diode 100..300 mV) converted with its
// divider, V_adc = 1.70 V + 0.125 * V_cp.
struct PilotThresholds {
  static constexpr double kLevel12Min = 10.8;
  static constexpr double kLevel9Min = 8.3;
  static constexpr double kLevel6Min = 5.6;
  static constexpr double kLevel3Min = 2.4;
  static constexpr double kShortMin = -0.8;
  static constexpr double kDiodeMin = -12.8;
  static constexpr double kDiodeMax = -11.2;
  // Anything beyond these is a sensing fault, not a pilot level.
  static constexpr double kRangeMax = 13.5;
  static constexpr double kRangeMin = -13.5;
};

PilotReading classify_pilot(PilotWindow window);

}  // namespace evsed::core
