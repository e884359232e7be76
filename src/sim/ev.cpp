#include "evsed/sim/ev.hpp"

#include <algorithm>

namespace evsed::sim {

namespace {
constexpr double kVolts = 230.0;

// An offer the car understands: a PWM between 8 % and 97 %.
core::DeciAmps offered_current(const Supply& s) {
  if (!s.pilot_connected) return core::DeciAmps{0};
  return core::current_for_duty(s.duty);
}
}  // namespace

void Ev::plug_in() {
  plugged_ = true;
  requesting_ = false;
  offer_seen_since_.reset();
  offer_gone_since_.reset();
}

void Ev::unplug() {
  plugged_ = false;
  requesting_ = false;
  draw_ = {};
  target_ = core::DeciAmps{0};
  powered_since_.reset();
}

double Ev::plateau_volts() const {
  if (!plugged_) return 12.0;
  return requesting_ ? 6.0 : 9.0;
}

void Ev::step(core::TimePoint now, const Supply& supply) {
  if (last_step_ && plugged_) {
    const double hours = std::chrono::duration<double>(now - *last_step_).count() / 3600.0;
    double amps = 0.0;
    for (auto a : draw_) amps += a.value() / 10.0;
    energy_wh_ += amps * kVolts * hours;
  }
  last_step_ = now;
  if (!plugged_) return;

  const bool full = profile_.energy_wanted && energy_wh_ >= static_cast<double>(profile_.energy_wanted->value);
  const core::DeciAmps offer = offered_current(supply);
  if (offer.value() > 0 && wants_charge_ && !full) {
    offer_gone_since_.reset();
    if (!offer_seen_since_) offer_seen_since_ = now;
    if (now - *offer_seen_since_ >= profile_.wake_delay) requesting_ = true;
  } else {
    offer_seen_since_.reset();
    if (requesting_) {
      if (!offer_gone_since_) offer_gone_since_ = now;
      if (now - *offer_gone_since_ >= profile_.stop_delay || full || !wants_charge_) requesting_ = false;
    }
  }

  const bool powered = supply.l1 && requesting_;
  if (!powered) {
    powered_since_.reset();
    draw_ = {};
    target_ = core::DeciAmps{0};
    target_changed_at_.reset();
    return;
  }
  if (!powered_since_) powered_since_ = now;
  const core::DeciAmps wanted = min(offer, profile_.max_current.deci());
  if (wanted != target_) {
    target_ = wanted;
    target_changed_at_ = now;
  }
  // Starts drawing after start_delay, then follows each new offer after follow_delay.
  if (now - *powered_since_ < profile_.start_delay) return;
  const int phases = supply.l23 ? std::min(profile_.phases, 3) : 1;
  std::array<core::DeciAmps, 3> desired{};
  for (int i = 0; i < phases; ++i) desired[static_cast<std::size_t>(i)] = target_;
  const bool idle = draw_ == std::array<core::DeciAmps, 3>{};
  if (idle || (target_changed_at_ && now - *target_changed_at_ >= profile_.follow_delay)) draw_ = desired;
}

}  // namespace evsed::sim
