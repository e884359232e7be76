#pragma once
// A simulated board: PWM, pilot ADC, contactors, lock, RCM input, temperature and
// proximity pilot, all in memory. The pilot voltages follow from the PWM and the
// car's load, as on the real wire.

#include <optional>

#include "evsed/hw/board.hpp"
#include "evsed/hw/io.hpp"

namespace evsed::hw {

class SimBoard {
 public:
  explicit SimBoard(const PilotLoad& car);
  SimBoard(const SimBoard&) = delete;
  SimBoard& operator=(const SimBoard&) = delete;

  [[nodiscard]] BoardIo io();

  // What the simulated world sees.
  [[nodiscard]] core::PwmDuty duty() const { return pwm_.duty; }
  [[nodiscard]] bool pilot_connected() const { return !pilot_disconnect_.on; }
  [[nodiscard]] bool contactor1() const { return contactor1_.on; }
  [[nodiscard]] bool contactor2() const { return contactor2_.on; }
  [[nodiscard]] bool locked() const { return lock_.on; }
  [[nodiscard]] bool led() const { return led_.on; }
  [[nodiscard]] int temperature() const { return temperature_.celsius; }
  [[nodiscard]] bool rcm_fault() const { return rcm_.active; }
  [[nodiscard]] bool switch_closed() const { return switch_.active; }
  [[nodiscard]] bool lock_jammed() const { return lock_sense_.jammed; }
  [[nodiscard]] std::optional<core::Amps> cable_rating() const { return proximity_.rating; }

  // Knobs for tests and the simulator's control API.
  void set_temperature(int celsius) { temperature_.celsius = celsius; }
  void set_rcm_fault(bool fault) { rcm_.active = fault; }
  void set_switch(bool closed) { switch_.active = closed; }
  // A jammed lock never reports locked, whatever it is told.
  void set_lock_jammed(bool jammed) { lock_sense_.jammed = jammed; }
  void set_cable_rating(std::optional<core::Amps> a) { proximity_.rating = a; }
  // Every write fails with EIO while set: exercises the fault path.
  void fail_writes(bool fail) { fail_writes_ = fail; }

 private:
  struct Pwm final : PilotPwm {
    SimBoard* board = nullptr;
    core::PwmDuty duty = core::kDutySteadyHigh;
    HwResult set_duty(core::PwmDuty d) override;
  };
  struct Adc final : PilotAdc {
    SimBoard* board = nullptr;
    HwValue<core::PilotWindow> read_window() override;
  };
  struct Line final : DigitalOut {
    SimBoard* board = nullptr;
    const char* name = "";
    bool on = false;
    HwResult set(bool active) override;
  };
  struct Input final : DigitalIn {
    bool active = false;
    HwValue<bool> read() override { return active; }
  };
  struct LockSense final : DigitalIn {
    const Line* lock = nullptr;
    bool jammed = false;
    HwValue<bool> read() override { return lock->on && !jammed; }
  };
  struct Thermometer final : TemperatureSensor {
    int celsius = 25;
    HwValue<int> read_celsius() override { return celsius; }
  };
  struct Proximity final : ProximitySensor {
    std::optional<core::Amps> rating;
    HwValue<std::optional<core::Amps>> read_cable_rating() override { return rating; }
  };

  const PilotLoad& car_;
  bool fail_writes_ = false;
  Pwm pwm_;
  Adc adc_;
  Line contactor1_;
  Line contactor2_;
  Line pilot_disconnect_;
  Line lock_;
  Line led_;
  Input rcm_;
  Input switch_;
  LockSense lock_sense_;
  Thermometer temperature_;
  Proximity proximity_;
};

}  // namespace evsed::hw
