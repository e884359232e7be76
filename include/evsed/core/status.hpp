#pragma once
// Everything the outside may know about the charge point, as one value. REST and
// MQTT format this; nothing else reaches into the controller.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "evsed/core/charge_state.hpp"
#include "evsed/core/error_flags.hpp"
#include "evsed/core/led.hpp"
#include "evsed/core/limiter.hpp"
#include "evsed/core/meter_reading.hpp"
#include "evsed/core/outputs.hpp"
#include "evsed/core/pilot.hpp"
#include "evsed/core/settings.hpp"

namespace evsed::core {

struct TimerStatus {
  std::string_view name;  // "charge_delay", "solar_stop", "c1_timeout", ...
  std::int64_t seconds_left = 0;
  friend bool operator==(const TimerStatus&, const TimerStatus&) = default;
};

struct MeterStatus {
  bool configured = false;
  std::optional<MeterReading> last;       // last plausible reading
  std::optional<std::int64_t> age_s;      // seconds since it was taken
  friend bool operator==(const MeterStatus&, const MeterStatus&) = default;
};

struct Status {
  ChargeState state = ChargeState::A;
  ErrorFlags errors;
  AccessStatus access = AccessStatus::On;
  ChargeMode mode = ChargeMode::Normal;
  PilotLevel pilot = PilotLevel::V12;
  bool car_connected = false;
  bool diode_checked = false;
  Outputs outputs;

  DeciAmps charge_current{0};    // assigned by the regulation (SmartEVSE Balanced[0])
  DeciAmps offered_current{0};   // what the pilot signals now, 0 when nothing is offered
  DeciAmps override_current{0};
  std::optional<PwmDuty> pwm_override;  // expert duty override in force (0 = pilot disconnected)
  DeciAmps iset_balanced{0};
  Amps max_capacity{0};          // cable / EVSE ceiling latched at plug-in
  int phases = 3;                // phases charging (1 or 3)
  int pending_phase_switch = 0;  // 1 or 3 while a switch waits for the next start
  CurrentLimiter limited_by = CurrentLimiter::None;
  std::vector<TimerStatus> timers;  // every running timer
  std::int64_t solar_stop_timer_s = 0;
  std::int64_t max_sum_mains_timer_s = 0;

  MeterStatus mains;
  MeterStatus ev;
  MeterStatus circuit;
  std::array<DeciAmps, 3> mains_corrected{};  // after home-battery correction
  DeciAmps mains_sum{0};
  std::optional<DeciAmps> home_battery_current;
  std::optional<std::int64_t> home_battery_age_s;
  std::optional<WattHours> ev_session_energy;

  int temperature_c = 25;
  bool rcm_input = false;
  std::optional<bool> switch_closed;  // external switch input, once known
  std::optional<bool> lock_locked;    // the lock's feedback, when it has one
  Amps effective_max_sum_mains{0};
  LedIndication led;
  Settings settings;
  friend bool operator==(const Status&, const Status&) = default;
};

}  // namespace evsed::core
