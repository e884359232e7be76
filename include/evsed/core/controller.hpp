#pragma once
// The charge point's brain: a value fed with events and the time, returning the
// outputs it wants. No I/O, no clocks; every rule of control-logic.md lives here
// or in the pure functions it calls.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evsed/core/balancing.hpp"
#include "evsed/core/charge_state.hpp"
#include "evsed/core/error_flags.hpp"
#include "evsed/core/events.hpp"
#include "evsed/core/led.hpp"
#include "evsed/core/outputs.hpp"
#include "evsed/core/settings.hpp"
#include "evsed/core/settings_fields.hpp"
#include "evsed/core/status.hpp"

namespace evsed::core {

// The custom flag (MQTT /CustomButton) belongs to the front panel, which the
// shell owns; the external switch asks the shell to change it.
enum class CustomButtonAction : std::uint8_t { None, Toggle, On, Off };

struct Commands {
  Outputs outputs;
  bool settings_changed = false;  // persist Controller::settings()
  CustomButtonAction custom_button = CustomButtonAction::None;
};

struct PatchResult {
  Commands commands;
  std::vector<FieldResult> fields;
};

// Timing constants of the state machine, each with where it comes from
// (control-logic.md §2.3; IEC 61851-1:2017 Annex A as cited in anchors.md §8b).
namespace timing {
inline constexpr Milliseconds kStateDebounce{500};     // SmartEVSE: 50 ticks of 10 ms before B->C and for a short in C
inline constexpr Milliseconds kPilotFaultAfter{1000};  // evsed: an invalid pilot this long is a fault (IEC A.6: open within 3 s)
inline constexpr Seconds kActivationAfter{30};         // SmartEVSE ActivationMode: B without C this long -> wake-up pulse
inline constexpr Seconds kActivationPulse{3};          // SmartEVSE ActivationTimer; IEC/ISO 15118-3 X1 step of 3 s
inline constexpr Seconds kC1Timeout{6};                // IEC A.6 seq. 10.2: PWM off and the car stays in C -> open after 6 s
inline constexpr Seconds kPilotDisconnect{5};          // SmartEVSE: B1 "replug", pilot disconnected 5 s
inline constexpr Seconds kChargeDelayB1{3};            // SmartEVSE: at least 3 s in B1 before offering again
inline constexpr Seconds kChargeDelayStop{15};         // SmartEVSE ChargeDelay after a stop (C1, switch)
inline constexpr Seconds kChargeDelayNoPower{60};      // SmartEVSE ChargeDelay while LESS_6A is set (main.h:87)
inline constexpr Seconds kSolarStartTime{40};          // SmartEVSE: a solar start is held at MinCurrent 40 s
inline constexpr Seconds kIncreaseInterval{5};         // IEC practice: at most one PWM increase per 5 s (anchors.md §8b)
inline constexpr Seconds kHomeBatteryValidFor{60};     // SmartEVSE: a home-battery value counts for 60 s
inline constexpr Milliseconds kSwitchLongPress{1500};  // SmartEVSE Sma-Sol button: held this long stops charging
inline constexpr int kTempHysteresisC = 10;            // SmartEVSE: TEMP_HIGH clears 10 °C below max_temp
}  // namespace timing

class Controller {
 public:
  Controller(Settings settings, TimePoint now);

  Commands handle(const Event& event, TimePoint now);
  PatchResult apply(const SettingsPatch& patch, TimePoint now);
  // A reloaded configuration: its installer values, the run-time ones kept.
  // A run-time value the new limits make invalid (current_min above a lower
  // current_max) falls back to the configuration's; returns what fell back.
  std::vector<std::string> reconfigure(const Settings& installer, TimePoint now, Commands& commands);

  [[nodiscard]] Status status(TimePoint now) const;
  [[nodiscard]] const Settings& settings() const { return settings_; }
  [[nodiscard]] ChargeState state() const { return state_; }
  [[nodiscard]] ErrorFlags errors() const { return errors_; }
  [[nodiscard]] Outputs outputs() const;
  // What the front LED should show now (SmartEVSE's LED rules).
  [[nodiscard]] LedIndication led(TimePoint now) const;

 private:
  struct Timer {
    std::optional<TimePoint> deadline;
    [[nodiscard]] bool running() const { return deadline.has_value(); }
    [[nodiscard]] bool expired(TimePoint now) const { return deadline && now >= *deadline; }
    [[nodiscard]] std::int64_t left(TimePoint now) const { return deadline ? seconds_left(*deadline, now) : 0; }
    void start(TimePoint now, Seconds d) { deadline = now + d; }
    void stop() { deadline.reset(); }
  };

  void on(const PilotSample& e, TimePoint now);
  void on(const HousekeepingTick& e, TimePoint now);
  void on(const ControlCycle& e, TimePoint now);
  void on(const MeterReading& e, TimePoint now);
  void on(const HomeBatteryReading& e, TimePoint now);
  void on(const TemperatureReading& e, TimePoint now);
  void on(const RcmInput& e, TimePoint now);
  void on(const SwitchInput& e, TimePoint now);
  void on(const LockFeedback& e, TimePoint now);
  void on(const BoardFault& e, TimePoint now);
  void on(const AcknowledgeFaults& e, TimePoint now);
  void on(const Shutdown& e, TimePoint now);

  FieldResult apply_field(const FieldSpec& f, std::int64_t v, const SettingsPatch& p, TimePoint now);
  [[nodiscard]] PwmDuty regular_duty() const { return duty_for_current(offered_); }
  // The expert override in force now: only while it signals no more than the regular offer.
  [[nodiscard]] bool override_lowers_offer() const;

  void step_state_machine(const PilotReading& r, TimePoint now);
  void expire_timers(TimePoint now);
  void set_state(ChargeState next, TimePoint now);
  void power_unavailable(TimePoint now);
  void trip(TimePoint now);  // a fault: contactors open now
  void raise(ErrorFlag f, TimePoint now);
  void set_access(AccessStatus a, TimePoint now);
  void set_mode(ChargeMode m, TimePoint now);
  void set_enable_c2(EnableC2 c, TimePoint now);
  void check_switching_phases();
  [[nodiscard]] bool force_single_phase() const;
  [[nodiscard]] bool ok_to_go(TimePoint now) const;
  [[nodiscard]] bool lock_used() const;
  [[nodiscard]] bool lock_confirmed() const;
  void check_long_press(TimePoint now);
  [[nodiscard]] Commands take_commands();

  void regulate(bool new_evse, TimePoint now);
  void offer_balanced_current(TimePoint now);
  [[nodiscard]] BalanceContext balance_context(TimePoint now) const;
  [[nodiscard]] GridMeasurement grid(TimePoint now) const;
  [[nodiscard]] std::array<DeciAmps, 3> corrected_mains(TimePoint now) const;
  [[nodiscard]] bool mains_fresh(TimePoint now) const;
  [[nodiscard]] bool current_available(TimePoint now) const;
  [[nodiscard]] DeciAmps ceiling() const;  // SmartEVSE ChargeCurrent for slot 0
  void check_meter_timeouts(TimePoint now);
  [[nodiscard]] CurrentLimiter limiter(TimePoint now) const;
  void mark_settings_changed() { settings_changed_ = true; }

  Settings settings_;
  TimePoint started_at_;
  LocalTime local_now_{};
  bool shut_down_ = false;
  bool settings_changed_ = false;

  ChargeState state_ = ChargeState::A;
  ErrorFlags errors_;

  // Pilot
  PilotLevel pilot_level_ = PilotLevel::V12;
  bool car_connected_ = false;
  bool diode_check_ = false;
  std::optional<Amps> cable_rating_;
  std::optional<TimePoint> six_volt_since_;
  std::optional<TimePoint> short_since_;
  std::optional<TimePoint> ventilation_since_;
  std::optional<TimePoint> invalid_since_;
  std::optional<TimePoint> valid_since_;
  bool pilot_disconnected_ = false;

  // Timers (deadlines; empty = not running)
  Timer charge_delay_;
  Timer c1_timeout_;
  Timer pilot_reconnect_;
  Timer activation_;        // B without C for 30 s -> activation pulse
  Timer activation_pulse_;  // the 3 s pulse itself
  Timer solar_stop_;
  TimerPurpose solar_stop_purpose_ = TimerPurpose::StopCharging;
  Timer max_sum_mains_;
  std::optional<TimePoint> charging_since_;

  // Current
  Amps max_capacity_{0};
  DeciAmps charge_current_{0};
  std::array<EvseSlot, 1> slots_{};
  BalanceState balance_;
  CurrentLimiter calc_limiter_ = CurrentLimiter::None;
  bool new_mains_reading_ = false;
  DeciAmps override_current_{0};
  std::optional<PwmDuty> pwm_override_;
  bool pwm_started_ = false;
  DeciAmps offered_{0};
  std::optional<TimePoint> last_offer_change_;
  bool increase_held_ = false;
  int phases_ = 3;
  int phase_request_ = 0;
  bool contactor2_on_charge_ = true;

  // Inputs
  std::optional<MeterReading> mains_;
  std::optional<MeterReading> ev_meter_;
  std::optional<MeterReading> circuit_;
  std::optional<HomeBatteryReading> battery_;
  std::optional<WattHours> session_start_energy_;
  int temperature_c_ = 25;
  bool rcm_input_ = false;
  std::optional<bool> switch_closed_;     // empty until the board reported the input
  std::optional<TimePoint> switch_pressed_at_;
  bool long_press_handled_ = false;
  std::optional<bool> lock_feedback_;     // empty: no feedback line
  CustomButtonAction custom_button_ = CustomButtonAction::None;
};

}  // namespace evsed::core
