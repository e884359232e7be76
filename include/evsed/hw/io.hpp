#pragma once
// The board behind small interfaces: each has a real implementation (sysfs PWM,
// IIO ADC, libgpiod lines) and a simulated one. Failures are values naming
// what failed, never exceptions.

#include <optional>
#include <string>
#include <variant>

#include "evsed/core/pilot.hpp"
#include "evsed/core/units.hpp"

namespace evsed::hw {

struct HwError {
  std::string what;  // "write /sys/class/pwm/pwmchip0/pwm0/duty_cycle"
  int error = 0;     // errno, 0 if none applies
  [[nodiscard]] std::string message() const;
};

// Empty on success.
using HwResult = std::optional<HwError>;

template <class T>
using HwValue = std::variant<T, HwError>;

class PilotPwm {
 public:
  virtual ~PilotPwm() = default;
  // 1024 = steady +12 V, 0 = steady -12 V, anything between = 1 kHz PWM.
  virtual HwResult set_duty(core::PwmDuty duty) = 0;
};

class PilotAdc {
 public:
  virtual ~PilotAdc() = default;
  // Min and max pilot voltage since the last call (about 10 ms).
  virtual HwValue<core::PilotWindow> read_window() = 0;
};

class DigitalOut {
 public:
  virtual ~DigitalOut() = default;
  virtual HwResult set(bool active) = 0;
  // Called every pilot period: outputs that pulse (a lock actuator) end their pulse here.
  virtual void poll(core::TimePoint /*now*/) {}
};

class DigitalIn {
 public:
  virtual ~DigitalIn() = default;
  virtual HwValue<bool> read() = 0;
};

class TemperatureSensor {
 public:
  virtual ~TemperatureSensor() = default;
  virtual HwValue<int> read_celsius() = 0;
};

// Proximity pilot of a socket: rating of the plugged cable, empty without one.
class ProximitySensor {
 public:
  virtual ~ProximitySensor() = default;
  virtual HwValue<std::optional<core::Amps>> read_cable_rating() = 0;
};

// The electrical load a car presents on the pilot wire (for simulated ADCs).
class PilotLoad {
 public:
  virtual ~PilotLoad() = default;
  // Positive plateau: 12 V (no car), 9 V (connected), 6 V (requests power)...
  [[nodiscard]] virtual double plateau_volts() const = 0;
  // Whether the car's diode blocks the negative half (it must).
  [[nodiscard]] virtual bool diode_blocks() const = 0;
};

}  // namespace evsed::hw
