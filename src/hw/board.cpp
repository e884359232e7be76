#include "evsed/hw/board.hpp"

#include <cstring>

namespace evsed::hw {

std::string HwError::message() const {
  if (error == 0) return what;
  return what + ": " + std::strerror(error);
}

Board::Board(BoardIo io) : io_(io) {}

HwResult Board::apply(const core::Outputs& o) { return write(o, false); }
HwResult Board::apply_all(const core::Outputs& o) { return write(o, true); }
HwResult Board::make_safe() {
  HwResult r = write(core::kSafeOutputs, true, true);
  (void)set_led(false);
  return r;
}

HwResult Board::set_led(bool lit) {
  if (!io_.led || led_written_ == lit) return std::nullopt;
  HwResult r = io_.led->set(lit);
  if (r) {
    led_written_.reset();
  } else {
    led_written_ = lit;
  }
  return r;
}

HwResult Board::write(const core::Outputs& o, bool force, bool keep_lock) {
  const bool all = force || !written_;
  HwResult first_error;
  bool ok = true;
  auto record = [&](HwResult r) {
    if (r) {
      ok = false;
      if (!first_error) first_error = std::move(r);
    }
  };
  // Contactors first when opening, the pilot first when it stops offering:
  // both orders leave the safer state earlier.
  if (io_.contactor1 && (all || o.contactor1 != written_->contactor1) && !o.contactor1) {
    record(io_.contactor1->set(false));
  }
  if (io_.contactor2 && (all || o.contactor2 != written_->contactor2) && !o.contactor2) {
    record(io_.contactor2->set(false));
  }
  if (io_.pwm && (all || o.duty != written_->duty)) record(io_.pwm->set_duty(o.duty));
  if (io_.pilot_disconnect && (all || o.pilot_connected != written_->pilot_connected)) {
    record(io_.pilot_disconnect->set(!o.pilot_connected));
  }
  // Close nothing after a failed write: the pilot's state is not known.
  if (ok && io_.contactor1 && (all || o.contactor1 != written_->contactor1) && o.contactor1) {
    record(io_.contactor1->set(true));
  }
  if (ok && io_.contactor2 && (all || o.contactor2 != written_->contactor2) && o.contactor2) {
    record(io_.contactor2->set(true));
  }
  if (!keep_lock && io_.lock && (all || o.lock != written_->lock)) {
    record(io_.lock->set(o.lock == core::LockPosition::Locked));
  }
  if (ok && !keep_lock) {
    written_ = o;
  } else {
    written_.reset();  // unknown: write everything next time
  }
  return first_error;
}

HwValue<core::PilotSample> Board::sample_pilot(core::TimePoint now) {
  if (io_.lock) io_.lock->poll(now);
  core::PilotSample s;
  if (!io_.adc) return HwError{"no pilot ADC configured", 0};
  auto w = io_.adc->read_window();
  if (auto* e = std::get_if<HwError>(&w)) return *e;
  s.window = std::get<core::PilotWindow>(w);
  if (io_.proximity) {
    auto pp = io_.proximity->read_cable_rating();
    if (auto* e = std::get_if<HwError>(&pp)) return *e;
    s.cable_rating = std::get<std::optional<core::Amps>>(pp);
  }
  return s;
}

HwValue<int> Board::read_temperature() {
  if (!io_.temperature) return 25;
  return io_.temperature->read_celsius();
}

HwValue<bool> Board::read_rcm_fault() {
  if (!io_.rcm_fault) return false;
  return io_.rcm_fault->read();
}

namespace {

HwValue<std::optional<bool>> read_optional(DigitalIn* in) {
  if (!in) return std::optional<bool>{};
  auto v = in->read();
  if (auto* e = std::get_if<HwError>(&v)) return *e;
  return std::optional<bool>{std::get<bool>(v)};
}

}  // namespace

HwValue<std::optional<bool>> Board::read_switch() { return read_optional(io_.external_switch); }
HwValue<std::optional<bool>> Board::read_lock_feedback() { return read_optional(io_.lock_feedback); }

}  // namespace evsed::hw
