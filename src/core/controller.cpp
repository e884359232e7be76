#include "evsed/core/controller.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace evsed::core {

namespace {

constexpr Amps kUnknownCableRating{13};  // no or unreadable PP resistor: the smallest cable

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

bool drives_pwm(ChargeState s) { return s == ChargeState::B || s == ChargeState::C; }

}  // namespace

Controller::Controller(Settings settings, TimePoint now) : settings_(std::move(settings)), started_at_(now) {
  phases_ = force_single_phase() ? 1 : 3;
}

// ---------------------------------------------------------------------------
// Event dispatch

Commands Controller::handle(const Event& event, TimePoint now) {
  if (!shut_down_) {
    std::visit([&](const auto& e) { on(e, now); }, event);
    if (!shut_down_) {
      check_long_press(now);
      expire_timers(now);
    }
  }
  return take_commands();
}

Commands Controller::take_commands() {
  Commands c{outputs(), settings_changed_, custom_button_};
  settings_changed_ = false;
  custom_button_ = CustomButtonAction::None;
  return c;
}

Outputs Controller::outputs() const {
  if (shut_down_) return kSafeOutputs;
  Outputs o;
  const bool override_disconnects = pwm_override_ && pwm_override_->value == 0;
  o.pilot_connected = !pilot_disconnected_ && !override_disconnects;
  // The expert override may only signal less than the controller's own offer,
  // which already respects the cable, MaxCurrent and every limiter.
  const PwmDuty offer = override_lowers_offer() ? *pwm_override_ : regular_duty();
  switch (state_) {
    case ChargeState::B:
      o.duty = pwm_started_ ? offer : kDutySteadyHigh;
      break;
    case ChargeState::C:
      o.duty = offer;
      o.contactor1 = true;
      o.contactor2 = contactor2_on_charge_;
      break;
    case ChargeState::C1:
      // The car is told to stop; the contactors stay closed until it has (or C1 times out).
      o.contactor1 = true;
      o.contactor2 = contactor2_on_charge_;
      break;
    case ChargeState::ActStart:
      o.duty = kDutySteadyLow;
      break;
    default:
      break;
  }
  if (lock_used() && (state_ != ChargeState::A || settings_.cable_lock)) o.lock = LockPosition::Locked;
  return o;
}

bool Controller::override_lowers_offer() const {
  if (!pwm_override_ || pwm_override_->value == 0) return false;
  return current_for_duty(*pwm_override_) <= current_for_duty(regular_duty());
}

LedIndication Controller::led(TimePoint now) const {
  const ErrorFlags hard{static_cast<std::uint16_t>(errors_.bits() & ~static_cast<std::uint16_t>(ErrorFlag::Less6A))};
  if (hard.any()) return {LedPattern::FastBlink, LedColour::Error};
  if (settings_.access != AccessStatus::On) return {LedPattern::On, LedColour::Off};
  const LedColour colour = settings_.mode == ChargeMode::Smart   ? LedColour::Smart
                           : settings_.mode == ChargeMode::Solar ? LedColour::Solar
                                                                 : LedColour::Normal;
  const bool waiting = errors_.has(ErrorFlag::Less6A) || (charge_delay_.running() && !charge_delay_.expired(now));
  return {waiting ? LedPattern::SlowBlink : LedPattern::On, colour};
}

// ---------------------------------------------------------------------------
// Pilot and state machine

void Controller::on(const PilotSample& e, TimePoint now) {
  if (e.cable_rating) cable_rating_ = e.cable_rating;
  // While the pilot is disconnected or we drive it to -12 V, what we read says
  // nothing about the car.
  const bool override_disconnects = pwm_override_ && pwm_override_->value == 0;
  if (pilot_disconnected_ || override_disconnects || state_ == ChargeState::ActStart) {
    invalid_since_.reset();
    return;
  }
  const PilotReading r = classify_pilot(e.window);
  if (r.level == PilotLevel::Invalid) {
    valid_since_.reset();
    if (!invalid_since_) invalid_since_ = now;
    if (now - *invalid_since_ >= timing::kPilotFaultAfter && !errors_.has(ErrorFlag::PilotFault)) {
      errors_.set(ErrorFlag::PilotFault);
      trip(now);
    }
    return;
  }
  invalid_since_.reset();
  if (!valid_since_) valid_since_ = now;
  if (errors_.has(ErrorFlag::PilotFault)) {
    if (now - *valid_since_ < timing::kPilotFaultAfter) return;
    errors_.clear(ErrorFlag::PilotFault);
  }
  pilot_level_ = r.level;
  car_connected_ = r.level != PilotLevel::V12;
  step_state_machine(r, now);
}

void Controller::step_state_machine(const PilotReading& r, TimePoint now) {
  switch (state_) {
    case ChargeState::A:
    case ChargeState::B1:
      if (r.level == PilotLevel::V12) {
        if (state_ != ChargeState::A) set_state(ChargeState::A, now);
        charge_delay_.stop();
      } else if (r.level == PilotLevel::V9) {
        if (ok_to_go(now)) {
          diode_check_ = false;
          max_capacity_ = settings_.cable == CableConfig::Fixed ? settings_.max_current
                                                                : cable_rating_.value_or(kUnknownCableRating);
          charge_current_ =
              settings_.max_current > max_capacity_ ? max_capacity_.deci() : settings_.min_current.deci();
          if (current_available(now)) {
            slots_[0].balanced_max = max_capacity_.deci();
            slots_[0].balanced = charge_current_;
            set_state(ChargeState::B, now);
            activation_.start(now, timing::kActivationAfter);
          } else {
            errors_.set(ErrorFlag::Less6A);
          }
        } else if (state_ == ChargeState::A && settings_.access == AccessStatus::On) {
          set_state(ChargeState::B1, now);
        }
      }
      break;

    case ChargeState::B:
      if (r.diode_seen && pwm_started_) diode_check_ = true;
      if (r.level == PilotLevel::V12) {
        set_state(ChargeState::A, now);
      } else if (r.level == PilotLevel::V9) {
        six_volt_since_.reset();
        if (activation_.expired(now)) {
          activation_.stop();
          set_state(ChargeState::ActStart, now);
        }
      } else if (r.level == PilotLevel::V6) {
        if (!six_volt_since_) six_volt_since_ = now;
        if (now - *six_volt_since_ <= timing::kStateDebounce) break;
        if (!diode_check_) {
          // The car asks for power but its diode never showed: no contactor.
          if (r.diode_missing && pwm_started_) raise(ErrorFlag::DiodeFault, now);
          break;
        }
        if (!ok_to_go(now) || !lock_confirmed()) break;
        if (ev_meter_ && ev_meter_->import_energy) {
          session_start_energy_ = WattHours{ev_meter_->import_energy->value -
                                            ev_meter_->export_energy.value_or(WattHours{}).value};
        }
        slots_[0].balanced_max = charge_current_;
        if (current_available(now)) {
          slots_[0].balanced = settings_.min_current.deci();
          set_state(ChargeState::C, now);
          diode_check_ = false;
          regulate(true, now);
        } else {
          errors_.set(ErrorFlag::Less6A);
        }
      }
      // 3 V (ventilation) is never granted: evsed has no ventilation to switch.
      break;

    case ChargeState::C1:
      if (r.level == PilotLevel::V12) {
        set_state(ChargeState::A, now);
      } else if (r.level == PilotLevel::V9) {
        set_state(ChargeState::B1, now);
      }
      break;

    case ChargeState::C:
      if (r.level == PilotLevel::V12) {
        set_state(ChargeState::A, now);
      } else if (r.level == PilotLevel::V9) {
        diode_check_ = false;
        set_state(ChargeState::B, now);
      } else if (r.level == PilotLevel::Short) {
        if (!short_since_) short_since_ = now;
        if (now - *short_since_ > timing::kStateDebounce) set_state(ChargeState::B, now);
      } else if (r.level == PilotLevel::V3) {
        // Ventilation requested mid-session: stop the charge the orderly way.
        if (!ventilation_since_) ventilation_since_ = now;
        if (now - *ventilation_since_ > timing::kStateDebounce) set_state(ChargeState::C1, now);
      } else {
        short_since_.reset();
        ventilation_since_.reset();
      }
      break;

    default:
      break;
  }
}

void Controller::set_state(ChargeState next, TimePoint now) {
  const ChargeState prev = state_;
  state_ = next;
  six_volt_since_.reset();
  short_since_.reset();
  ventilation_since_.reset();
  switch (next) {
    case ChargeState::A:
      errors_.clear(ErrorFlag::Less6A);
      errors_.clear(ErrorFlag::DiodeFault);
      pwm_override_.reset();  // an expert override ends with the session
      charge_delay_.stop();
      activation_.stop();
      c1_timeout_.stop();
      charging_since_.reset();
      pwm_started_ = false;
      diode_check_ = false;
      slots_[0].charging = false;
      if (phase_request_ != 0) {
        phases_ = phase_request_;
        phase_request_ = 0;
      }
      break;
    case ChargeState::B:
      if (prev != ChargeState::C && prev != ChargeState::ActStart) pwm_started_ = false;
      slots_[0].charging = false;
      charging_since_.reset();
      check_switching_phases();
      break;
    case ChargeState::C:
      activation_.stop();
      if (phase_request_ != 0) {
        phases_ = phase_request_;
        phase_request_ = 0;
      }
      phases_ = force_single_phase() ? 1 : 3;
      contactor2_on_charge_ = settings_.enable_c2 != EnableC2::NotPresent && phases_ == 3;
      solar_stop_.stop();
      max_sum_mains_.stop();
      slots_[0].charging = true;
      charging_since_ = now;
      break;
    case ChargeState::B1:
      charge_delay_.deadline =
          std::max(charge_delay_.deadline.value_or(now), now + timing::kChargeDelayB1);
      if (settings_.access == AccessStatus::On && prev != ChargeState::B1) {
        pilot_disconnected_ = true;
        pilot_reconnect_.start(now, timing::kPilotDisconnect);
      }
      pwm_started_ = false;
      slots_[0].charging = false;
      charging_since_.reset();
      activation_.stop();
      c1_timeout_.stop();
      break;
    case ChargeState::C1:
      c1_timeout_.start(now, timing::kC1Timeout);
      charge_delay_.start(now, timing::kChargeDelayStop);
      slots_[0].charging = false;
      break;
    case ChargeState::ActStart:
      activation_pulse_.start(now, timing::kActivationPulse);
      break;
    default:
      break;
  }
}

void Controller::expire_timers(TimePoint now) {
  if (charge_delay_.expired(now)) charge_delay_.stop();
  if (pilot_reconnect_.expired(now)) {
    pilot_reconnect_.stop();
    pilot_disconnected_ = false;
  }
  if (c1_timeout_.expired(now)) {
    c1_timeout_.stop();
    if (state_ == ChargeState::C1) set_state(ChargeState::B1, now);
  }
  if (activation_pulse_.expired(now)) {
    activation_pulse_.stop();
    if (state_ == ChargeState::ActStart) set_state(ChargeState::B, now);
  }
  if (solar_stop_.expired(now)) {
    solar_stop_.stop();
    if (state_ == ChargeState::C) {
      switch (solar_stop_purpose_) {
        case TimerPurpose::StopCharging:
          errors_.set(ErrorFlag::Less6A);
          set_state(ChargeState::C1, now);
          break;
        case TimerPurpose::SwitchTo1P:
          phase_request_ = 1;
          set_state(ChargeState::C1, now);
          break;
        case TimerPurpose::SwitchTo3P:
          phase_request_ = 3;
          set_state(ChargeState::C1, now);
          break;
      }
    }
  }
  if (max_sum_mains_.expired(now)) {
    max_sum_mains_.stop();
    if (state_ == ChargeState::C) {
      errors_.set(ErrorFlag::Less6A);
      set_state(ChargeState::C1, now);
    }
  }
}

void Controller::power_unavailable(TimePoint now) {
  switch (state_) {
    case ChargeState::A:
    case ChargeState::B1:
    case ChargeState::C1:
      break;
    case ChargeState::C:
      set_state(ChargeState::C1, now);
      break;
    default:
      set_state(ChargeState::B1, now);
      break;
  }
}

void Controller::trip(TimePoint now) {
  if (state_ != ChargeState::A && state_ != ChargeState::B1) set_state(ChargeState::B1, now);
}

void Controller::raise(ErrorFlag f, TimePoint now) {
  if (errors_.has(f)) return;
  errors_.set(f);
  power_unavailable(now);
}

bool Controller::lock_used() const {
  return settings_.cable == CableConfig::Socket && settings_.lock != LockType::Disabled;
}

// Without a feedback line the lock is trusted, as SmartEVSE trusts it.
bool Controller::lock_confirmed() const { return !lock_used() || lock_feedback_.value_or(true); }

bool Controller::ok_to_go(TimePoint now) const {
  return !errors_.any() && !(charge_delay_.running() && !charge_delay_.expired(now)) &&
         settings_.access == AccessStatus::On;
}

// ---------------------------------------------------------------------------
// Housekeeping (1 s)

void Controller::on(const HousekeepingTick& e, TimePoint now) {
  local_now_ = e.local_now;

  switch (advance_schedule(settings_.delayed, local_now_)) {
    case ScheduleAction::None:
      break;
    case ScheduleAction::HoldOff:
      if (settings_.access != AccessStatus::Off) set_access(AccessStatus::Off, now);
      break;
    case ScheduleAction::Start:
      set_access(AccessStatus::On, now);
      mark_settings_changed();
      break;
    case ScheduleAction::Stop:
      set_access(AccessStatus::Off, now);
      mark_settings_changed();
      break;
  }

  if (errors_.has(ErrorFlag::TempHigh) && temperature_c_ < settings_.max_temp_c - timing::kTempHysteresisC) {
    errors_.clear(ErrorFlag::TempHigh);
  }
  if (errors_.has(ErrorFlag::Less6A) && current_available(now)) errors_.clear(ErrorFlag::Less6A);
  if (settings_.mode == ChargeMode::Solar && charge_delay_.running() && !current_available(now)) {
    errors_.set(ErrorFlag::Less6A);  // the sun left while waiting to retry
  }
  check_meter_timeouts(now);
  if (temperature_c_ > settings_.max_temp_c) raise(ErrorFlag::TempHigh, now);
  if (settings_.rcm_enabled && rcm_input_) {
    errors_.set(ErrorFlag::RcmTripped);
    trip(now);
  }
  if (errors_.has(ErrorFlag::Less6A)) {
    power_unavailable(now);
    charge_delay_.start(now, timing::kChargeDelayNoPower);
  }
}

void Controller::check_meter_timeouts(TimePoint now) {
  struct Watch {
    bool configured;
    const std::optional<MeterReading>& reading;
    Seconds timeout;
    ErrorFlag flag;
  };
  const Watch watches[] = {
      {settings_.has_mains_meter, mains_, settings_.mains_meter_timeout, ErrorFlag::CtNoComm},
      {settings_.has_ev_meter, ev_meter_, settings_.ev_meter_timeout, ErrorFlag::EvNoComm},
      {settings_.has_circuit_meter, circuit_, settings_.circuit_meter_timeout, ErrorFlag::CircuitNoComm},
  };
  for (const auto& w : watches) {
    // Meters only matter outside Normal mode (SmartEVSE rule).
    if (!w.configured || settings_.mode == ChargeMode::Normal) {
      errors_.clear(w.flag);
      continue;
    }
    const TimePoint last = w.reading ? w.reading->taken_at : started_at_;
    if (now - last >= w.timeout) raise(w.flag, now);
  }
}

// ---------------------------------------------------------------------------
// Inputs

void Controller::on(const MeterReading& e, TimePoint now) {
  if (!plausible(e)) return;
  switch (e.role) {
    case MeterRole::Mains:
      mains_ = e;
      errors_.clear(ErrorFlag::CtNoComm);
      new_mains_reading_ = true;
      // Event-driven: a reading that demands less current takes effect now.
      regulate(false, now);
      break;
    case MeterRole::Ev:
      ev_meter_ = e;
      errors_.clear(ErrorFlag::EvNoComm);
      break;
    case MeterRole::Circuit:
      circuit_ = e;
      errors_.clear(ErrorFlag::CircuitNoComm);
      break;
  }
}

void Controller::on(const HomeBatteryReading& e, TimePoint) {
  if (e.current > kMaxMeterCurrent || e.current < -kMaxMeterCurrent) return;
  battery_ = e;
}

void Controller::on(const TemperatureReading& e, TimePoint now) {
  temperature_c_ = e.celsius;
  if (temperature_c_ > settings_.max_temp_c) raise(ErrorFlag::TempHigh, now);
}

void Controller::on(const RcmInput& e, TimePoint now) {
  rcm_input_ = e.fault;
  if (settings_.rcm_enabled && rcm_input_) {
    errors_.set(ErrorFlag::RcmTripped);
    trip(now);
  }
}

// control-logic.md §6.2. Buttons act on the press (edge), switches on their
// position, including the first one the board reports.
void Controller::on(const SwitchInput& e, TimePoint now) {
  const std::optional<bool> before = switch_closed_;
  switch_closed_ = e.closed;
  const bool pressed = before && !*before && e.closed;
  const bool released = before && *before && !e.closed;
  if (before && *before == e.closed) return;
  if (pressed) {
    switch_pressed_at_ = now;
    long_press_handled_ = false;
    on(AcknowledgeFaults{}, now);
  }
  switch (settings_.external_switch) {
    case SwitchFunction::Disabled:
      if (pressed && state_ == ChargeState::C) set_state(ChargeState::C1, now);
      break;
    case SwitchFunction::AccessButton:
      if (pressed) set_access(settings_.access == AccessStatus::On ? AccessStatus::Off : AccessStatus::On, now);
      break;
    case SwitchFunction::AccessSwitch:
      set_access(e.closed ? AccessStatus::On : AccessStatus::Off, now);
      break;
    case SwitchFunction::SmartSolarButton:
      if (released && switch_pressed_at_ && now - *switch_pressed_at_ < timing::kSwitchLongPress &&
          settings_.mode != ChargeMode::Normal && settings_.has_mains_meter) {
        set_mode(settings_.mode == ChargeMode::Smart ? ChargeMode::Solar : ChargeMode::Smart, now);
        errors_.clear(ErrorFlag::Less6A);
        solar_stop_.stop();
        max_sum_mains_.stop();
      }
      if (released) switch_pressed_at_.reset();
      break;
    case SwitchFunction::SmartSolarSwitch:
      if (settings_.access != AccessStatus::On || !settings_.has_mains_meter) break;
      if (e.closed && settings_.mode == ChargeMode::Solar) set_mode(ChargeMode::Smart, now);
      if (!e.closed && settings_.mode == ChargeMode::Smart) set_mode(ChargeMode::Solar, now);
      break;
    case SwitchFunction::GridRelay:
      regulate(false, now);  // an opened relay lowers the offer now, not at the next cycle
      break;
    case SwitchFunction::CustomButton:
      if (pressed) custom_button_ = CustomButtonAction::Toggle;
      break;
    case SwitchFunction::CustomSwitch:
      custom_button_ = e.closed ? CustomButtonAction::On : CustomButtonAction::Off;
      break;
  }
}

void Controller::check_long_press(TimePoint now) {
  if (settings_.external_switch != SwitchFunction::SmartSolarButton || !switch_pressed_at_ || long_press_handled_) return;
  if (now - *switch_pressed_at_ < timing::kSwitchLongPress) return;
  long_press_handled_ = true;
  if (state_ == ChargeState::C) set_state(ChargeState::C1, now);  // C1 entry sets the 15 s charge delay
}

void Controller::on(const LockFeedback& e, TimePoint now) {
  lock_feedback_ = e.locked;
  // The socket must stay locked while it carries current: a plug that can be
  // pulled under load opens the contactors at once, not after the car's stop.
  if (!e.locked && lock_used() && (state_ == ChargeState::C || state_ == ChargeState::C1)) trip(now);
}

void Controller::on(const BoardFault& e, TimePoint now) {
  if (e.active) {
    errors_.set(ErrorFlag::HardwareFault);
    trip(now);
  } else {
    errors_.clear(ErrorFlag::HardwareFault);
  }
}

void Controller::on(const AcknowledgeFaults&, TimePoint) {
  if (!settings_.rcm_enabled || !rcm_input_) errors_.clear(ErrorFlag::RcmTripped);
}

void Controller::on(const Shutdown&, TimePoint now) {
  set_state(ChargeState::A, now);
  pilot_disconnected_ = false;
  shut_down_ = true;
}

// ---------------------------------------------------------------------------
// Regulation

void Controller::on(const ControlCycle&, TimePoint now) { regulate(false, now); }

std::array<DeciAmps, 3> Controller::corrected_mains(TimePoint now) const {
  std::array<DeciAmps, 3> irms{};
  if (!mains_) return irms;
  irms = mains_->currents;
  // A charging home battery counts as export the car may take, in Solar only.
  if (settings_.mode == ChargeMode::Solar && battery_ && now - battery_->taken_at < timing::kHomeBatteryValidFor) {
    if (settings_.enable_c2 == EnableC2::AlwaysOff) {
      irms[0] -= battery_->current;
    } else {
      for (auto& i : irms) i -= battery_->current / 3;
    }
  }
  return irms;
}

GridMeasurement Controller::grid(TimePoint now) const {
  GridMeasurement g;
  const auto irms = corrected_mains(now);
  g.mains_worst_phase = std::max({irms[0], irms[1], irms[2]});
  g.mains_sum = irms[0] + irms[1] + irms[2];
  if (circuit_) {
    g.circuit_worst_phase = std::max({circuit_->currents[0], circuit_->currents[1], circuit_->currents[2]});
  }
  return g;
}

bool Controller::mains_fresh(TimePoint now) const {
  return mains_ && now - mains_->taken_at <= settings_.mains_meter_timeout;
}

BalanceContext Controller::balance_context(TimePoint now) const {
  BalanceContext ctx;
  ctx.role = Role::Standalone;
  ctx.settings = &settings_;
  ctx.max_sum_mains = effective_max_sum_mains(settings_, local_now_);
  ctx.grid = grid(now);
  ctx.phases = phases_;
  ctx.single_phase_forced = force_single_phase();
  ctx.own_state_b = state_ == ChargeState::B;
  ctx.own_state_c = state_ == ChargeState::C;
  ctx.switch_to_1p_pending = phase_request_ == 1;
  // Until the input is known, assume the relay is open: the lower limit.
  ctx.grid_relay_open = settings_.external_switch == SwitchFunction::GridRelay && !switch_closed_.value_or(false);
  return ctx;
}

bool Controller::current_available(TimePoint now) const {
  // Without a recent mains reading nothing is known about the load: never
  // treat missing data as 0 A.
  if (settings_.mode != ChargeMode::Normal && !mains_fresh(now)) return false;
  return is_current_available(balance_context(now), slots_);
}

DeciAmps Controller::ceiling() const {
  if (override_current_.value() != 0) return override_current_;
  if (state_ == ChargeState::C && settings_.cable == CableConfig::Socket && settings_.max_current > max_capacity_) {
    return max_capacity_.deci();
  }
  return settings_.max_current.deci();
}

void Controller::regulate(bool new_evse, TimePoint now) {
  charge_current_ = ceiling();
  slots_[0].balanced_max = charge_current_;
  slots_[0].solar_startup = charging_since_ && now - *charging_since_ < timing::kSolarStartTime;

  BalanceRequest req;
  req.new_measurement = new_mains_reading_;
  req.new_evse = new_evse;
  req.solar_stop_left_s = solar_stop_.left(now);
  req.max_sum_mains_left_s = max_sum_mains_.left(now);
  new_mains_reading_ = false;

  const BalanceOutcome out = calc_balanced_current(balance_context(now), req, balance_, slots_);
  if (out.distributed || !slots_[0].charging) calc_limiter_ = out.limiter;

  auto apply_timer = [&](Timer& t, const TimerChange& c) {
    if (c.kind == TimerChange::Kind::Clear) t.stop();
    if (c.kind == TimerChange::Kind::Start) t.start(now, c.duration);
  };
  apply_timer(solar_stop_, out.solar_stop);
  if (out.solar_stop.kind == TimerChange::Kind::Start) solar_stop_purpose_ = out.solar_stop.purpose;
  apply_timer(max_sum_mains_, out.max_sum_mains);

  if (out.request_phases != 0 && out.request_phases != phases_) phase_request_ = out.request_phases;
  if (out.stop_for_phase_switch && state_ == ChargeState::C) set_state(ChargeState::C1, now);
  if (out.raise_less_6a && !errors_.has(ErrorFlag::Less6A)) {
    errors_.set(ErrorFlag::Less6A);
    power_unavailable(now);
  }
  offer_balanced_current(now);
}

void Controller::offer_balanced_current(TimePoint now) {
  increase_held_ = false;
  if (!drives_pwm(state_)) return;
  const DeciAmps target = slots_[0].balanced;
  if (!pwm_started_) {
    pwm_started_ = true;
    offered_ = target;
    last_offer_change_ = now;
    return;
  }
  if (target < offered_) {
    offered_ = target;
    last_offer_change_ = now;
  } else if (target > offered_) {
    // Increases one step per 5 s, and only on fresh mains data where it matters.
    const bool data_ok = settings_.mode == ChargeMode::Normal ||
                         (mains_ && now - mains_->taken_at <= settings_.mains_meter_timeout / 2);
    if (data_ok && (!last_offer_change_ || now - *last_offer_change_ >= timing::kIncreaseInterval)) {
      offered_ = target;
      last_offer_change_ = now;
    } else {
      // Keep the regulation's books on what the car may actually draw.
      slots_[0].balanced = offered_;
      increase_held_ = true;
    }
  }
}

// ---------------------------------------------------------------------------
// Access, mode, phases

void Controller::set_access(AccessStatus a, TimePoint now) {
  if (settings_.access != a) mark_settings_changed();
  settings_.access = a;
  if (a == AccessStatus::On) return;
  if (state_ == ChargeState::C) {
    set_state(ChargeState::C1, now);
  } else if (state_ == ChargeState::B || state_ == ChargeState::ActStart) {
    set_state(ChargeState::B1, now);
  }
}

bool Controller::force_single_phase() const {
  switch (settings_.enable_c2) {
    case EnableC2::NotPresent: return false;
    case EnableC2::AlwaysOff: return true;
    case EnableC2::SolarOff: return settings_.mode == ChargeMode::Solar;
    case EnableC2::Auto: return phases_ == 1;
    case EnableC2::AlwaysOn: return false;
  }
  return false;
}

void Controller::check_switching_phases() {
  const int wanted = force_single_phase() ? 1 : 3;
  if (wanted == phases_) {
    phase_request_ = 0;
  } else if (state_ == ChargeState::A) {
    phases_ = wanted;
    phase_request_ = 0;
  } else {
    phase_request_ = wanted;
  }
}

void Controller::set_mode(ChargeMode m, TimePoint now) {
  const ChargeMode old = settings_.mode;
  if (old != m) mark_settings_changed();
  bool restart_session = false;
  if (settings_.enable_c2 == EnableC2::SolarOff && (old == ChargeMode::Solar) != (m == ChargeMode::Solar)) {
    restart_session = true;
  }
  if (settings_.enable_c2 == EnableC2::Auto && old == ChargeMode::Solar && m != ChargeMode::Solar &&
      phases_ == 1) {
    restart_session = true;
    phase_request_ = 3;
  }
  settings_.mode = m;
  set_access(settings_.delayed.start ? AccessStatus::Off : AccessStatus::On, now);
  if (m == ChargeMode::Solar) override_current_ = DeciAmps{0};
  if (m == ChargeMode::Smart) {
    errors_.clear(ErrorFlag::Less6A);
    solar_stop_.stop();
    max_sum_mains_.stop();
  }
  charge_delay_.stop();
  if (settings_.enable_c2 != EnableC2::Auto || phase_request_ == 0) check_switching_phases();
  if (restart_session) {
    if (state_ == ChargeState::C) {
      set_state(ChargeState::C1, now);
    } else if (state_ == ChargeState::B) {
      set_state(ChargeState::B1, now);
    }
  }
}

void Controller::set_enable_c2(EnableC2 c, TimePoint now) {
  if (settings_.enable_c2 != c) mark_settings_changed();
  settings_.enable_c2 = c;
  if (c == EnableC2::NotPresent && state_ == ChargeState::A) phases_ = 3;
  check_switching_phases();
  // A different phase count needs the contactors open: stop, then start again.
  if (phase_request_ != 0 && state_ == ChargeState::C) set_state(ChargeState::C1, now);
}

// ---------------------------------------------------------------------------
// Settings patch (REST / MQTT / dashboard): a walk over kFields, in SmartEVSE's
// processing order

PatchResult Controller::apply(const SettingsPatch& p, TimePoint now) {
  PatchResult result;
  if (shut_down_) {
    result.commands = {outputs(), false};
    return result;
  }
  local_now_ = p.local_now;
  for (const FieldSpec& f : kFields) {
    if (const auto v = p.get(f.field)) result.fields.push_back(apply_field(f, *v, p, now));
  }
  // New limits act now, not at the next cycle.
  regulate(false, now);
  expire_timers(now);
  result.commands = take_commands();
  return result;
}

FieldResult Controller::apply_field(const FieldSpec& f, std::int64_t v, const SettingsPatch& p, TimePoint now) {
  FieldResult r{f.field, FieldResult::Outcome::Applied, v, {}};
  auto rejected = [&](std::string why) {
    r.outcome = FieldResult::Outcome::Rejected;
    r.reason = std::move(why);
    return r;
  };
  auto ignored = [&](std::string why) {
    r.outcome = FieldResult::Outcome::Ignored;
    r.reason = std::move(why);
    return r;
  };
  // A candidate with the field changed is applied only if the whole stays valid.
  auto try_set = [&](auto mutate) {
    Settings candidate = settings_;
    mutate(candidate);
    if (auto err = validate_settings(candidate)) return rejected(err->message());
    if (!(candidate == settings_)) mark_settings_changed();
    settings_ = std::move(candidate);
    return r;
  };
  if (f.unit != FieldUnit::List) {
    if (auto e = check_range(f.range, v, f.zero_means_off)) return rejected(e->message());
  }
  const auto amps = [&] { return Amps{static_cast<std::int32_t>(v)}; };

  switch (f.field) {
    case Field::CurrentMin:
      return try_set([&](Settings& s) { s.min_current = amps(); });
    case Field::CapacityMode:
      return try_set([&](Settings& s) {
        s.capacity_mode = static_cast<CapacityMode>(v);
        if (s.capacity_mode == CapacityMode::Disabled) s.max_sum_mains = Amps{0};
      });
    case Field::CapacityIntervals:
      if (auto e = check_range(f.range, static_cast<long long>(p.intervals.size()))) return rejected(e->message());
      r.value = static_cast<std::int64_t>(p.intervals.size());
      return try_set([&](Settings& s) { s.capacity_intervals = p.intervals; });
    case Field::MaxSumMains:
      return try_set([&](Settings& s) {
        s.max_sum_mains = amps();
        if (v != 0 && s.capacity_mode == CapacityMode::Disabled) s.capacity_mode = CapacityMode::Fixed;
      });
    case Field::MaxSumMainsTime:
      return try_set([&](Settings& s) { s.max_sum_mains_time = Minutes{v}; });
    case Field::DisableOverrideCurrent:
      override_current_ = DeciAmps{0};
      return r;
    case Field::Mode: {
      const auto m = static_cast<ModeChoice>(v);
      if ((m == ModeChoice::Smart || m == ModeChoice::Solar) && !settings_.has_mains_meter) {
        return ignored("Smart and Solar need a mains meter; none is configured");
      }
      const DelayedCharging before = settings_.delayed;
      settings_.delayed = apply_delayed_request(settings_.delayed, p.delayed, local_now_);
      if (!(before == settings_.delayed)) mark_settings_changed();
      switch (m) {
        case ModeChoice::Off: set_access(AccessStatus::Off, now); break;
        case ModeChoice::Pause: set_access(AccessStatus::Pause, now); break;
        case ModeChoice::Normal: set_mode(ChargeMode::Normal, now); break;
        case ModeChoice::Solar: set_mode(ChargeMode::Solar, now); break;
        case ModeChoice::Smart: set_mode(ChargeMode::Smart, now); break;
      }
      return r;
    }
    case Field::EnableC2:
      set_enable_c2(static_cast<EnableC2>(v), now);
      return r;
    case Field::SolarStopTime:
      return try_set([&](Settings& s) { s.solar_stop_time = Minutes{v}; });
    case Field::OverrideCurrent:
      if (settings_.mode == ChargeMode::Solar) return ignored("override_current is not used in Solar mode");
      if (auto e = check_override_current(settings_, DeciAmps{static_cast<std::int32_t>(v)})) {
        return rejected(e->message());
      }
      override_current_ = DeciAmps{static_cast<std::int32_t>(v)};
      return r;
    case Field::SolarStartCurrent:
      return try_set([&](Settings& s) { s.solar_start_current = amps(); });
    case Field::SolarMaxImport:
      return try_set([&](Settings& s) { s.solar_max_import = amps(); });
    case Field::CableLock:
      if (settings_.cable_lock != (v == 1)) mark_settings_changed();
      settings_.cable_lock = v == 1;
      return r;
    case Field::OverridePwm: {
      const bool contactor_closed = state_ == ChargeState::C || state_ == ChargeState::C1;
      if (v == 0 && contactor_closed) return rejected("the pilot cannot be disconnected while the contactor is closed");
      if (v < 0) {
        pwm_override_.reset();
        r.value = outputs().duty.value;
      } else {
        pwm_override_ = PwmDuty{static_cast<std::int32_t>(v)};
      }
      return r;
    }
  }
  return rejected("unknown field");
}

std::vector<std::string> Controller::reconfigure(const Settings& installer, TimePoint now, Commands& commands) {
  std::vector<std::string> fell_back;
  Settings next = with_installer_values(settings_, installer);
  if (validate_settings(next)) {
    // Only current_min relates to an installer value; Smart/Solar need a meter.
    fell_back.push_back("current_min " + std::to_string(next.min_current.value()) + " -> " +
                        std::to_string(installer.min_current.value()));
    next.min_current = installer.min_current;
  }
  if (!next.has_mains_meter && next.mode != ChargeMode::Normal) {
    fell_back.push_back(std::string{"mode "} + std::string{to_string(next.mode)} + " -> Normal (no mains meter now)");
    next.mode = ChargeMode::Normal;
  }
  if (auto e = validate_settings(next)) {
    fell_back.push_back("not applied: " + e->message());
    commands = take_commands();
    return fell_back;
  }
  if (!(next == settings_)) mark_settings_changed();
  settings_ = std::move(next);
  check_switching_phases();
  regulate(false, now);
  expire_timers(now);
  commands = take_commands();
  return fell_back;
}

// ---------------------------------------------------------------------------
// Status

CurrentLimiter Controller::limiter(TimePoint now) const {
  const ErrorFlags others{static_cast<std::uint16_t>(errors_.bits() & ~static_cast<std::uint16_t>(ErrorFlag::Less6A))};
  if (errors_.has(ErrorFlag::TempHigh)) return CurrentLimiter::Temperature;
  if (others.any()) return CurrentLimiter::Error;
  if (errors_.has(ErrorFlag::Less6A)) {
    return calc_limiter_ == CurrentLimiter::None || calc_limiter_ == CurrentLimiter::MaxCurrent
               ? CurrentLimiter::MinCurrent
               : calc_limiter_;
  }
  if (settings_.access != AccessStatus::On) {
    return settings_.delayed.start ? CurrentLimiter::Schedule : CurrentLimiter::Access;
  }
  if (charge_delay_.running() && !charge_delay_.expired(now) && state_ != ChargeState::C) {
    return CurrentLimiter::ChargeDelay;
  }
  if (!drives_pwm(state_)) return CurrentLimiter::None;
  if (state_ == ChargeState::B && car_connected_ && pilot_level_ == PilotLevel::V6 && !lock_confirmed()) {
    return CurrentLimiter::Lock;
  }
  if (pwm_override_ && pwm_override_->value != 0 && pwm_started_ && override_lowers_offer() &&
      current_for_duty(*pwm_override_) < current_for_duty(regular_duty())) {
    return CurrentLimiter::PwmOverride;
  }
  if (increase_held_) return CurrentLimiter::RateLimit;
  if (calc_limiter_ == CurrentLimiter::MaxCurrent || state_ == ChargeState::B) {
    if (override_current_.value() != 0) return CurrentLimiter::Override;
    if (settings_.cable == CableConfig::Socket && max_capacity_ < settings_.max_current) {
      return CurrentLimiter::Cable;
    }
    return CurrentLimiter::MaxCurrent;
  }
  return calc_limiter_;
}

Status Controller::status(TimePoint now) const {
  Status s;
  s.state = state_;
  s.errors = errors_;
  s.access = settings_.access;
  s.mode = settings_.mode;
  s.pilot = pilot_level_;
  s.car_connected = car_connected_;
  s.diode_checked = diode_check_;
  s.outputs = outputs();
  s.charge_current = slots_[0].balanced;
  // What the pilot signals: with an override, the current its duty means to the car.
  const bool offering = drives_pwm(state_) && pwm_started_ && s.outputs.pilot_connected;
  s.offered_current = !offering ? DeciAmps{0} : pwm_override_ ? current_for_duty(s.outputs.duty) : offered_;
  s.override_current = override_current_;
  s.pwm_override = pwm_override_;
  s.iset_balanced = balance_.iset;
  s.max_capacity = max_capacity_;
  s.phases = phases_;
  s.pending_phase_switch = phase_request_;
  s.limited_by = limiter(now);
  s.solar_stop_timer_s = solar_stop_.left(now);
  s.max_sum_mains_timer_s = max_sum_mains_.left(now);

  auto add_timer = [&](std::string_view name, const Timer& t) {
    if (t.running() && !t.expired(now)) s.timers.push_back({name, t.left(now)});
  };
  add_timer("charge_delay", charge_delay_);
  add_timer("c1_timeout", c1_timeout_);
  add_timer("pilot_reconnect", pilot_reconnect_);
  add_timer("activation", activation_);
  add_timer("activation_pulse", activation_pulse_);
  add_timer(solar_stop_purpose_ == TimerPurpose::StopCharging ? "solar_stop"
            : solar_stop_purpose_ == TimerPurpose::SwitchTo1P ? "switch_to_1p"
                                                               : "switch_to_3p",
            solar_stop_);
  add_timer("max_sum_mains", max_sum_mains_);
  if (charging_since_ && now - *charging_since_ < timing::kSolarStartTime && settings_.mode == ChargeMode::Solar) {
    s.timers.push_back({"solar_start", seconds_left(*charging_since_ + timing::kSolarStartTime, now)});
  }

  auto meter = [&](bool configured, const std::optional<MeterReading>& r) {
    MeterStatus m;
    m.configured = configured;
    m.last = r;
    if (r) m.age_s = std::chrono::duration_cast<Seconds>(now - r->taken_at).count();
    return m;
  };
  s.mains = meter(settings_.has_mains_meter, mains_);
  s.ev = meter(settings_.has_ev_meter, ev_meter_);
  s.circuit = meter(settings_.has_circuit_meter, circuit_);
  s.mains_corrected = corrected_mains(now);
  s.mains_sum = s.mains_corrected[0] + s.mains_corrected[1] + s.mains_corrected[2];
  if (battery_ && now - battery_->taken_at < timing::kHomeBatteryValidFor) {
    s.home_battery_current = battery_->current;
    s.home_battery_age_s = std::chrono::duration_cast<Seconds>(now - battery_->taken_at).count();
  }
  if (session_start_energy_ && ev_meter_ && ev_meter_->import_energy) {
    const auto total = ev_meter_->import_energy->value - ev_meter_->export_energy.value_or(WattHours{}).value;
    s.ev_session_energy = WattHours{std::max<std::int64_t>(0, total - session_start_energy_->value)};
  }
  s.temperature_c = temperature_c_;
  s.rcm_input = rcm_input_;
  s.switch_closed = switch_closed_;
  if (lock_used()) s.lock_locked = lock_feedback_;
  s.effective_max_sum_mains = effective_max_sum_mains(settings_, local_now_);
  s.led = led(now);
  s.settings = settings_;
  return s;
}

}  // namespace evsed::core
