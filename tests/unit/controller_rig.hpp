#pragma once
// A test rig around core::Controller: a scripted car that answers the pilot with
// exact voltages, a mains meter that adds the car's draw to a house load, and
// the daemon's three clocks (10 ms pilot, 1 s housekeeping, 2 s control) on a
// virtual time line.

#include <array>
#include <chrono>
#include <optional>

#include "evsed/core/controller.hpp"

namespace evsed::core {

inline Settings rig_defaults() {
  Settings s;  // built-in defaults are the worked examples' defaults
  s.cable = CableConfig::Fixed;
  s.max_current = Amps{16};
  return s;
}

inline LocalTime local_time(int y, unsigned mo, unsigned d, int h, int mi, int sec = 0) {
  using namespace std::chrono;
  return local_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{sec};
}

struct ControllerRig {
  static constexpr Milliseconds kPilotPeriod{10};

  TimePoint now = TimePoint{} + std::chrono::hours{100};
  LocalTime local = local_time(2026, 3, 10, 12, 0);
  Controller c;
  Outputs out;

  // The car
  PilotLevel car = PilotLevel::V12;
  bool diode = true;
  std::optional<Amps> cable;
  int car_phases = 3;

  // The site
  bool feed_mains_automatically = false;
  std::array<DeciAmps, 3> mains_base{};

  TimePoint next_tick = now;
  TimePoint next_cycle = now;

  explicit ControllerRig(Settings s = rig_defaults()) : c(std::move(s), now) { out = c.outputs(); }

  static double volts(PilotLevel l) {
    switch (l) {
      case PilotLevel::V12: return 12.0;
      case PilotLevel::V9: return 9.0;
      case PilotLevel::V6: return 6.0;
      case PilotLevel::V3: return 3.0;
      case PilotLevel::Short: return 0.0;
      case PilotLevel::Invalid: return -12.0;
    }
    return 0.0;
  }

  // What the pilot sense would read for the current outputs and car.
  PilotWindow window() const {
    if (!out.pilot_connected) return {0.0, 0.0};
    const double level = volts(car);
    if (out.duty == kDutySteadyHigh) return {level, level};
    if (out.duty == kDutySteadyLow) return {-12.0, -12.0};
    const bool blocks = diode || car == PilotLevel::V12;
    return {blocks ? -12.0 : -level, level};
  }

  DeciAmps car_draw() const {
    if (!out.contactor1 || out.duty == kDutySteadyHigh) return DeciAmps{0};
    return current_for_duty(out.duty);
  }

  void handle(const Event& e) { take(c.handle(e, now)); }
  void take(const Commands& cmd) { out = cmd.outputs; }

  PatchResult apply(SettingsPatch p) {
    p.local_now = local;
    PatchResult r = c.apply(p, now);
    out = r.commands.outputs;
    return r;
  }

  void feed_mains(std::array<DeciAmps, 3> currents) {
    MeterReading r;
    r.role = MeterRole::Mains;
    r.currents = currents;
    r.taken_at = now;
    handle(r);
  }

  // House load plus what the car draws on the phases it is connected to.
  void feed_mains() {
    auto currents = mains_base;
    const DeciAmps draw = car_draw();
    currents[0] += draw;
    if (out.contactor2 && car_phases == 3) {
      currents[1] += draw;
      currents[2] += draw;
    }
    feed_mains(currents);
  }

  void step() {
    handle(PilotSample{window(), cable});
    if (now >= next_tick) {
      handle(HousekeepingTick{local});
      next_tick += Seconds{1};
    }
    if (now >= next_cycle) {
      if (feed_mains_automatically) feed_mains();
      handle(ControlCycle{});
      next_cycle += Seconds{2};
    }
    now += kPilotPeriod;
    if ((now - TimePoint{}) % Seconds{1} == Milliseconds{0}) local += Seconds{1};
  }

  template <class Rep, class Period>
  void run_for(std::chrono::duration<Rep, Period> d) {
    const TimePoint end = now + d;
    while (now < end) step();
  }

  // Runs until `pred` holds or `limit` passes; returns whether it held.
  template <class Pred, class Rep, class Period>
  bool run_until(Pred pred, std::chrono::duration<Rep, Period> limit) {
    const TimePoint end = now + limit;
    while (now < end) {
      if (pred()) return true;
      step();
    }
    return pred();
  }

  // The same house load on every phase, fed with the car's draw every cycle,
  // and 3 s for a first reading to arrive.
  void settle_with_house_load(DeciAmps per_phase) {
    mains_base = {per_phase, per_phase, per_phase};
    feed_mains_automatically = true;
    run_for(Seconds{3});
  }

  // Plug in, wait for the PWM, request power, wait for the contactor.
  void plug_in_and_charge() {
    car = PilotLevel::V9;
    run_until([&] { return out.duty != kDutySteadyHigh && out.duty != kDutySteadyLow; }, Seconds{5});
    car = PilotLevel::V6;
    run_until([&] { return c.state() == ChargeState::C; }, Seconds{3});
  }

  Status status() const { return c.status(now); }
};

}  // namespace evsed::core
