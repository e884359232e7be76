#include "evsed/hw/sim_board.hpp"

#include <cerrno>
#include <string>

namespace evsed::hw {

SimBoard::SimBoard(const PilotLoad& car) : car_(car) {
  pwm_.board = this;
  adc_.board = this;
  contactor1_.board = this;
  contactor1_.name = "C1";
  contactor2_.board = this;
  contactor2_.name = "C2";
  pilot_disconnect_.board = this;
  pilot_disconnect_.name = "CP off";
  lock_.board = this;
  lock_.name = "lock";
  led_.board = this;
  led_.name = "LED";
  lock_sense_.lock = &lock_;
}

BoardIo SimBoard::io() {
  BoardIo io;
  io.pwm = &pwm_;
  io.adc = &adc_;
  io.contactor1 = &contactor1_;
  io.contactor2 = &contactor2_;
  io.pilot_disconnect = &pilot_disconnect_;
  io.lock = &lock_;
  io.led = &led_;
  io.rcm_fault = &rcm_;
  io.external_switch = &switch_;
  io.lock_feedback = &lock_sense_;
  io.temperature = &temperature_;
  io.proximity = &proximity_;
  return io;
}

HwResult SimBoard::Pwm::set_duty(core::PwmDuty d) {
  if (board->fail_writes_) return HwError{"simulated PWM write", EIO};
  duty = d;
  return std::nullopt;
}

HwResult SimBoard::Line::set(bool active) {
  // A failing simulated board still opens: it models a driver that cannot close.
  if (board->fail_writes_ && active) return HwError{std::string{"simulated line "} + name, EIO};
  on = active;
  return std::nullopt;
}

HwValue<core::PilotWindow> SimBoard::Adc::read_window() {
  if (!board->pilot_connected()) return core::PilotWindow{0.0, 0.0};
  const double level = board->car_.plateau_volts();
  const core::PwmDuty d = board->pwm_.duty;
  if (d == core::kDutySteadyHigh) return core::PilotWindow{level, level};
  if (d == core::kDutySteadyLow) return core::PilotWindow{-12.0, -12.0};
  // With PWM the window holds both halves; without a blocking diode the car's
  // resistor loads the negative half too.
  const double negative = board->car_.diode_blocks() || level > 11.0 ? -12.0 : -level;
  return core::PilotWindow{negative, level};
}

}  // namespace evsed::hw
