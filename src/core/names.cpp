#include "evsed/core/charge_state.hpp"
#include "evsed/core/led.hpp"
#include "evsed/core/settings_fields.hpp"
#include "evsed/core/error_flags.hpp"

#include <array>

namespace evsed::core {

std::string_view short_name(ChargeState s) {
  switch (s) {
    case ChargeState::A: return "A";
    case ChargeState::B: return "B";
    case ChargeState::C: return "C";
    case ChargeState::D: return "D";
    case ChargeState::CommB: return "COMM_B";
    case ChargeState::CommBOk: return "COMM_B_OK";
    case ChargeState::CommC: return "COMM_C";
    case ChargeState::CommCOk: return "COMM_C_OK";
    case ChargeState::ActStart: return "Activate";
    case ChargeState::B1: return "B1";
    case ChargeState::C1: return "C1";
    case ChargeState::ModemRequest: return "MODEM_REQ";
    case ChargeState::ModemWait: return "MODEM_WAIT";
    case ChargeState::ModemDone: return "MODEM_DONE";
    case ChargeState::ModemDenied: return "MODEM_DENIED";
  }
  return "NOSTATE";
}

std::string_view web_name(ChargeState s) {
  switch (s) {
    case ChargeState::A: return "Ready to Charge";
    case ChargeState::B: return "Connected to EV";
    case ChargeState::C: return "Charging";
    case ChargeState::D: return "D";
    case ChargeState::CommB: return "Request State B";
    case ChargeState::CommBOk: return "State B OK";
    case ChargeState::CommC: return "Request State C";
    case ChargeState::CommCOk: return "State C OK";
    case ChargeState::ActStart: return "Activate";
    case ChargeState::B1: return "Charging Stopped";
    case ChargeState::C1: return "Stop Charging";
    case ChargeState::ModemRequest: return "Modem Setup";
    case ChargeState::ModemWait: return "Modem Request";
    case ChargeState::ModemDone: return "Modem Done";
    case ChargeState::ModemDenied: return "Modem Denied";
  }
  return "NOSTATE";
}

std::string_view to_string(ErrorFlag f) {
  switch (f) {
    case ErrorFlag::Less6A: return "less_6a";
    case ErrorFlag::CtNoComm: return "ct_nocomm";
    case ErrorFlag::TempHigh: return "temp_high";
    case ErrorFlag::EvNoComm: return "ev_nocomm";
    case ErrorFlag::RcmTripped: return "rcm_tripped";
    case ErrorFlag::RcmTest: return "rcm_test";
    case ErrorFlag::CircuitNoComm: return "circuit_nocomm";
    case ErrorFlag::PilotFault: return "pilot_fault";
    case ErrorFlag::DiodeFault: return "diode_fault";
    case ErrorFlag::HardwareFault: return "hardware_fault";
  }
  return "unknown";
}

}  // namespace evsed::core

#include "evsed/core/limiter.hpp"

namespace evsed::core {

std::string_view to_string(CurrentLimiter l) {
  switch (l) {
    case CurrentLimiter::None: return "none";
    case CurrentLimiter::MaxCurrent: return "max_current";
    case CurrentLimiter::Cable: return "cable";
    case CurrentLimiter::Override: return "override";
    case CurrentLimiter::MaxMains: return "max_mains";
    case CurrentLimiter::MaxCircuit: return "max_circuit";
    case CurrentLimiter::MaxSumMains: return "max_sum_mains";
    case CurrentLimiter::GridRelay: return "grid_relay";
    case CurrentLimiter::SolarSurplus: return "solar_surplus";
    case CurrentLimiter::MinCurrent: return "min_current";
    case CurrentLimiter::RateLimit: return "rate_limit";
    case CurrentLimiter::Access: return "access";
    case CurrentLimiter::Schedule: return "schedule";
    case CurrentLimiter::Temperature: return "temperature";
    case CurrentLimiter::Error: return "error";
    case CurrentLimiter::ChargeDelay: return "charge_delay";
    case CurrentLimiter::Lock: return "lock";
    case CurrentLimiter::PwmOverride: return "pwm_override";
  }
  return "none";
}

}  // namespace evsed::core

namespace evsed::core {

int error_id(ErrorFlags flags) {
  int id = 0;
  for (int bit = 0; bit < 16; ++bit) {
    if (flags.bits() & (1U << bit)) id = bit + 1;
  }
  return id;
}

std::string_view error_web_name(int id) {
  switch (id) {
    case 0: return "None";
    case 1: return "No Power Available";
    case 2: return "Communication Error";
    case 3: return "Temperature High";
    case 4: return "EV Meter Comm Error";
    case 5: return "RCM Tripped";
    case 6: return "RCM Test";
    case 7: return "Test IO";  // CIRCUIT_NOCOMM: SmartEVSE never renamed the label
    case 8: return "Flash Error";
    case 9: return "Pilot Fault";
    case 10: return "Diode Fault";
    case 11: return "Hardware Fault";
    default: return "Multiple Errors";
  }
}

}  // namespace evsed::core

namespace evsed::core {

std::string_view to_string(LedPattern p) {
  switch (p) {
    case LedPattern::On: return "on";
    case LedPattern::SlowBlink: return "slow_blink";
    case LedPattern::FastBlink: return "fast_blink";
  }
  return "on";
}

std::string_view to_string(LedColour c) {
  switch (c) {
    case LedColour::Off: return "off";
    case LedColour::Normal: return "normal";
    case LedColour::Smart: return "smart";
    case LedColour::Solar: return "solar";
    case LedColour::Custom: return "custom";
    case LedColour::Error: return "error";
  }
  return "off";
}

namespace {
constexpr std::array<std::string_view, 5> kModeChoiceNames{"Off", "Normal", "Smart", "Solar", "Pause"};
}

std::string_view to_string(ModeChoice m) {
  const auto i = static_cast<std::size_t>(m);
  return i < kModeChoiceNames.size() ? kModeChoiceNames[i] : std::string_view{"N/A"};
}

std::optional<ModeChoice> mode_choice_from_name(std::string_view name) {
  for (auto m : kModeChoices) {
    if (to_string(m) == name) return m;
  }
  return std::nullopt;
}

std::vector<std::string_view> mode_choice_names() { return {kModeChoiceNames.begin(), kModeChoiceNames.end()}; }

ModeChoice mode_choice(AccessStatus access, ChargeMode mode) {
  switch (access) {
    case AccessStatus::Off: return ModeChoice::Off;
    case AccessStatus::Pause: return ModeChoice::Pause;
    case AccessStatus::On: break;
  }
  switch (mode) {
    case ChargeMode::Normal: return ModeChoice::Normal;
    case ChargeMode::Smart: return ModeChoice::Smart;
    case ChargeMode::Solar: return ModeChoice::Solar;
  }
  return ModeChoice::Normal;
}

}  // namespace evsed::core
