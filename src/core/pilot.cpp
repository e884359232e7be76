#include "evsed/core/pilot.hpp"

namespace evsed::core {

PwmDuty duty_for_current(DeciAmps current) {
  const std::int32_t da = current.value();
  std::int32_t per_mille = 100;  // 10 %: the lowest IEC offer, 6 A
  if (da >= 60 && da <= 510) {
    per_mille = da * 10 / 6;  // I / 0.6, truncated
  } else if (da > 510 && da <= 800) {
    per_mille = da * 10 / 25 + 640;  // I / 2.5 + 64 %
  }
  return PwmDuty{per_mille * 1024 / 1000};
}

DeciAmps current_for_duty(PwmDuty duty) {
  const std::int32_t per_mille = duty.value * 1000 / 1024;
  if (duty.value < 102) return DeciAmps{0};
  if (duty.value < 870) return DeciAmps{per_mille * 6 / 10 + 1};
  if (duty.value <= 983) return DeciAmps{(per_mille - 640) * 25 / 10 + 3};
  return DeciAmps{0};
}

std::string_view to_string(PilotLevel level) {
  switch (level) {
    case PilotLevel::V12: return "12V";
    case PilotLevel::V9: return "9V";
    case PilotLevel::V6: return "6V";
    case PilotLevel::V3: return "3V";
    case PilotLevel::Short: return "short";
    case PilotLevel::Invalid: return "invalid";
  }
  return "invalid";
}

namespace {

using T = PilotThresholds;

PilotLevel positive_band(double volts) {
  if (volts >= T::kLevel12Min) return PilotLevel::V12;
  if (volts >= T::kLevel9Min) return PilotLevel::V9;
  if (volts >= T::kLevel6Min) return PilotLevel::V6;
  if (volts >= T::kLevel3Min) return PilotLevel::V3;
  if (volts >= T::kShortMin) return PilotLevel::Short;
  return PilotLevel::Invalid;  // steady negative: state F, or a fault
}

}  // namespace

PilotReading classify_pilot(PilotWindow w) {
  PilotReading r;
  if (w.max_volts > T::kRangeMax || w.min_volts < T::kRangeMin || w.min_volts > w.max_volts) {
    return r;
  }
  r.level = positive_band(w.max_volts);
  if (r.level == PilotLevel::Invalid) return r;

  if (w.min_volts <= T::kDiodeMax) {
    r.diode_seen = w.min_volts >= T::kDiodeMin;
    if (!r.diode_seen) r.level = PilotLevel::Invalid;
  } else if (w.min_volts < T::kShortMin) {
    r.diode_missing = true;  // negative half loaded by the car's resistor
  } else if (positive_band(w.min_volts) != r.level) {
    r.level = PilotLevel::Invalid;  // level changed inside the window, or noise
  }
  return r;
}

}  // namespace evsed::core
