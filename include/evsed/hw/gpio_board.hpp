#pragma once
// The Raspberry Pi / CM4 board: sysfs PWM for the pilot, an IIO ADC for pilot
// sense (and the proximity pilot), libgpiod lines for contactors, pilot
// disconnect, lock actuator, RCM input and LED, and a thermal zone.

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evsed/hw/board.hpp"
#include "evsed/hw/gpiod_line.hpp"
#include "evsed/hw/iio_adc.hpp"
#include "evsed/hw/sysfs_pwm.hpp"

namespace evsed::hw {

struct GpioBoardConfig {
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";  // gpiochip devices (the ADC's buffer device: adc.dev_root)
  SysfsPwmConfig pwm;
  IioAdcConfig adc;
  int proximity_channel = 1;   // ADC channel of the PP divider; -1: none
  int thermal_zone = 0;        // /sys/class/thermal/thermal_zoneN; -1: none
  // Defaults: the reference wiring of docs/hardware.md (Raspberry Pi line names).
  std::optional<LineSpec> contactor1 = LineSpec{"GPIO17", "", -1, false};
  std::optional<LineSpec> contactor2 = LineSpec{"GPIO27", "", -1, false};
  std::optional<LineSpec> pilot_disconnect = LineSpec{"GPIO22", "", -1, false};
  std::optional<LineSpec> lock_a;
  std::optional<LineSpec> lock_b;
  std::optional<LineSpec> lock_feedback;
  // Which level of the feedback line means locked: high for a motor lock, low
  // for a solenoid (SmartEVSE's convention); the config sets it from evse.lock.
  bool lock_feedback_high_when_locked = false;
  std::optional<LineSpec> rcm;
  std::optional<LineSpec> external_switch;  // active = contacts closed
  std::optional<LineSpec> led;
  friend bool operator==(const GpioBoardConfig&, const GpioBoardConfig&) = default;
};

class GpioBoard {
 public:
  // Opens every device; the first one missing is the error.
  static std::variant<std::unique_ptr<GpioBoard>, HwError> open(const GpioBoardConfig& c);
  GpioBoard(const GpioBoard&) = delete;
  GpioBoard& operator=(const GpioBoard&) = delete;
  ~GpioBoard();

  [[nodiscard]] BoardIo io();
  // On the way out: PWM at 100 % and unexported; contactors open.
  HwResult release();

 private:
  GpioBoard() = default;
  struct Thermal;
  struct Proximity;
  struct Lock;
  struct LockSense;

  std::unique_ptr<SysfsPwm> pwm_;
  std::unique_ptr<IioAdc> adc_;
  std::unique_ptr<DigitalOut> contactor1_;
  std::unique_ptr<DigitalOut> contactor2_;
  std::unique_ptr<DigitalOut> pilot_disconnect_;
  std::unique_ptr<DigitalOut> led_;
  std::unique_ptr<Lock> lock_;
  std::unique_ptr<LockSense> lock_sense_;
  std::unique_ptr<DigitalIn> rcm_;
  std::unique_ptr<DigitalIn> switch_;
  std::unique_ptr<Thermal> thermal_;
  std::unique_ptr<Proximity> proximity_;
};

// `evsed --safe-state`: contactors open and the pilot at a steady +12 V,
// through the same drivers, without the daemon. Every step is tried; the
// failures are returned.
std::vector<HwError> apply_safe_state(const GpioBoardConfig& c);

}  // namespace evsed::hw
