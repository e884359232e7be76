#pragma once
// Translates between the controller and the board: Outputs become line and PWM
// writes (only what changed), reads become controller events.

#include <optional>

#include "evsed/core/events.hpp"
#include "evsed/core/outputs.hpp"
#include "evsed/hw/io.hpp"

namespace evsed::hw {

// The lines of a board; optional ones may be null (not wired).
struct BoardIo {
  PilotPwm* pwm = nullptr;
  PilotAdc* adc = nullptr;
  DigitalOut* contactor1 = nullptr;
  DigitalOut* contactor2 = nullptr;
  DigitalOut* pilot_disconnect = nullptr;  // active = CP driver disconnected
  DigitalOut* lock = nullptr;              // active = locked
  DigitalOut* led = nullptr;               // active = lit
  DigitalIn* rcm_fault = nullptr;
  DigitalIn* external_switch = nullptr;    // active = contacts closed
  DigitalIn* lock_feedback = nullptr;      // active = lock reports locked
  TemperatureSensor* temperature = nullptr;
  ProximitySensor* proximity = nullptr;
};

class Board {
 public:
  explicit Board(BoardIo io);

  // Writes the outputs that differ from the last successful write. On a failure
  // the rest is still attempted (a failed PWM must not keep a contactor closed).
  HwResult apply(const core::Outputs& o);
  // Writes every output, changed or not: start-up and shutdown.
  HwResult apply_all(const core::Outputs& o);
  // Shutdown: every output to the safe state except the cable lock, which stays
  // where it is (a pulse started now would be cut off when the process ends).
  HwResult make_safe();

  // The front LED (not safety-related: a failure is reported, nothing trips).
  HwResult set_led(bool lit);

  HwValue<core::PilotSample> sample_pilot(core::TimePoint now);
  HwValue<int> read_temperature();
  HwValue<bool> read_rcm_fault();
  // Empty when the board has no such input.
  HwValue<std::optional<bool>> read_switch();
  HwValue<std::optional<bool>> read_lock_feedback();

 private:
  HwResult write(const core::Outputs& o, bool force, bool keep_lock = false);

  BoardIo io_;
  std::optional<core::Outputs> written_;
  std::optional<bool> led_written_;
};

}  // namespace evsed::hw
