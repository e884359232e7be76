#include "evsed/sessions/tracker.hpp"

#include <algorithm>
#include <cmath>

namespace evsed::sessions {

namespace {

using core::ErrorFlag;
using station::StopReason;

bool fresh(const core::MeterStatus& m) {
  return m.configured && m.last && m.age_s && *m.age_s <= kFreshReading.count();
}

std::optional<std::int64_t> register_of(const core::MeterStatus& m) {
  if (!fresh(m) || !m.last->import_energy) return std::nullopt;
  return m.last->import_energy->value;
}

double watts(const std::array<core::DeciAmps, 3>& currents) {
  double w = 0;
  for (auto a : currents) w += a.value() / 10.0 * core::kNominalVolts;
  return w;
}

}  // namespace

TrackerStep Tracker::observe(const station::Snapshot& snap, const Instant& at) {
  TrackerStep step;
  const core::Status& s = snap.status;
  if (!record_) {
    if (!s.car_connected) {
      last_status_ = s;
      return step;
    }
    open(at);
    step.opened = true;
  } else {
    integrate(at);
  }
  if (!s.car_connected) {
    Cause why;
    if (rates_.charging) {
      why = {StopReason::Unplugged, {}};
    } else if (stopped_) {
      why = *stopped_;
    } else {
      why = cause(last_status_, false);
    }
    step.closed = finish(std::move(why), at);
    last_status_ = s;
    return step;
  }
  step.state_changed = take(snap, at) || step.opened;
  return step;
}

std::optional<station::SessionRecord> Tracker::close(StopReason reason, const Instant& at) {
  if (!record_) return std::nullopt;
  integrate(at);
  return finish({reason, {}}, at);
}

void Tracker::open(const Instant& at) {
  station::SessionRecord r;
  r.id = next_id_++;
  r.started_at = at.epoch_s;
  r.start_offset_s = at.utc_offset_s;
  r.updated_at = at.epoch_s;
  record_ = std::move(r);
  opened_at_ = at;
  last_ = at;
  rates_ = {};
  estimated_wh_ = 0;
  solar_wh_ = 0;
  solar_known_ = false;
  charging_s_ = 0;
  current_ds_ = 0;
  ev_meter_trusted_ = false;
  ever_charged_ = false;
  stopped_.reset();
  // access_cause_ stays: access switched off before the plug-in still explains a session that never charged.
}

// Piecewise constant: what the last snapshot showed held until now.
void Tracker::integrate(const Instant& at) {
  const double dt = std::max(0.0, std::chrono::duration<double>(at.steady - last_.steady).count());
  last_ = at;
  if (!rates_.charging) return;
  charging_s_ += dt;
  current_ds_ += rates_.peak_da * dt;
  estimated_wh_ += rates_.ev_w * dt / 3600.0;
  if (rates_.grid_w) {
    // What the house did not take from the grid came from local generation.
    const double from_grid = std::clamp(*rates_.grid_w, 0.0, rates_.ev_w);
    solar_wh_ += (rates_.ev_w - from_grid) * dt / 3600.0;
  }
}

bool Tracker::take(const station::Snapshot& snap, const Instant& at) {
  const core::Status& s = snap.status;
  station::SessionRecord& r = *record_;
  const bool charging = s.outputs.contactor1;
  bool moved = false;

  // The EV meter's register: the start only counts when taken before charging.
  if (const auto reg = register_of(s.ev)) {
    if (!r.meter_start_wh && !ever_charged_ && !charging) {
      r.meter_start_wh = *reg;
      ev_meter_trusted_ = true;
    }
    if (r.meter_start_wh) r.meter_end_wh = *reg;
    if (r.meter_end_wh && r.meter_start_wh && *r.meter_end_wh < *r.meter_start_wh) ev_meter_trusted_ = false;  // replaced
  } else if (charging && s.ev.configured) {
    ev_meter_trusted_ = false;  // a gap while charging: the register no longer tells this session alone
  }

  // Currents: the EV meter's when it reads, else what is offered on the phases in use.
  Rates next;
  next.charging = charging;
  if (charging) {
    std::array<core::DeciAmps, 3> currents{};
    int phases = 0;
    if (fresh(s.ev)) {
      currents = s.ev.last->currents;
      for (auto a : currents) phases += a >= kPhaseInUse ? 1 : 0;
    } else {
      phases = std::clamp(s.phases, 1, 3);
      for (int i = 0; i < phases; ++i) currents[static_cast<std::size_t>(i)] = s.offered_current;
    }
    for (auto a : currents) next.peak_da = std::max(next.peak_da, a.value());
    next.ev_w = watts(currents);
    if (fresh(s.mains)) {
      next.grid_w = watts(s.mains.last->currents);
      solar_known_ = true;
    }
    r.phases = std::max(r.phases, phases);
    r.max_current_da = std::max(r.max_current_da, next.peak_da);
  }
  if (s.mains.configured && fresh(s.mains)) solar_known_ = true;
  r.modes.add(s.mode);

  // Why access went off, seen at the moment it did.
  if (last_status_.access == core::AccessStatus::On && s.access != core::AccessStatus::On) {
    const auto& before = last_status_.settings.delayed;
    const auto& now = s.settings.delayed;
    access_cause_ = before.stop && before.stop != now.stop ? StopReason::Schedule : StopReason::AccessOff;
  }
  if (rates_.charging != charging) {
    moved = true;
    if (charging) {
      ever_charged_ = true;
      stopped_.reset();
    } else {
      stopped_ = cause(s, true);
    }
  }
  if (s.state != last_status_.state || s.access != last_status_.access) moved = true;
  rates_ = next;
  last_status_ = s;
  refresh_record(at);
  return moved;
}

Tracker::Cause Tracker::cause(const core::Status& s, bool charging_stopped) const {
  for (auto f : core::kAllErrorFlags) {
    if (f != ErrorFlag::Less6A && s.errors.has(f)) return {StopReason::Error, std::string{core::to_string(f)}};
  }
  if (s.errors.has(ErrorFlag::Less6A)) return {StopReason::Limit, {}};
  if (s.access != core::AccessStatus::On) {
    // A start time ahead holds access off: the schedule, not the user.
    if (s.settings.delayed.start) return {StopReason::Schedule, {}};
    return {access_cause_, {}};
  }
  if (!s.car_connected) return {StopReason::Unplugged, {}};
  return {charging_stopped ? StopReason::CarStopped : StopReason::Unplugged, {}};
}

void Tracker::refresh_record(const Instant& at) {
  station::SessionRecord& r = *record_;
  r.updated_at = at.epoch_s;
  r.connected_s = std::chrono::duration_cast<core::Seconds>(at.steady - opened_at_.steady).count();
  r.charging_s = static_cast<std::int64_t>(std::llround(charging_s_));
  r.mean_current_da = charging_s_ > 0 ? static_cast<std::int32_t>(std::lround(current_ds_ / charging_s_)) : 0;
  const bool metered = ev_meter_trusted_ && r.meter_start_wh && r.meter_end_wh;
  r.energy_source = metered ? station::EnergySource::EvMeter : station::EnergySource::Estimated;
  r.energy_wh = metered ? *r.meter_end_wh - *r.meter_start_wh : static_cast<std::int64_t>(std::llround(estimated_wh_));
  if (solar_known_) {
    r.solar_wh = std::min(r.energy_wh, static_cast<std::int64_t>(std::llround(solar_wh_)));
  } else {
    r.solar_wh.reset();
  }
}

station::SessionRecord Tracker::finish(Cause why, const Instant& at) {
  refresh_record(at);
  station::SessionRecord r = std::move(*record_);
  record_.reset();
  r.ended_at = at.epoch_s;
  r.end_offset_s = at.utc_offset_s;
  r.stop_reason = why.reason;
  r.stop_error = why.reason == StopReason::Error ? std::move(why.error) : std::string{};
  rates_ = {};
  return r;
}

}  // namespace evsed::sessions
