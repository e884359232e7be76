// Core + simulated board, car and site for a simulated hour, through the same
// ChargePoint the daemon runs, on a virtual clock (10 ms pilot, 1 s housekeeping,
// 2 s control cycle with a site meter reading).

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "controller_rig.hpp"
#include "evsed/app/charge_point.hpp"
#include "evsed/sim/world.hpp"

namespace evsed {
namespace {

using core::DeciAmps;
using namespace std::chrono_literals;

class SimulatedChargePoint {
 public:
  explicit SimulatedChargePoint(core::Settings s)
      : board_(world_.board().io()),
        cp_(std::move(s), board_, &world_, true, now_, std::make_shared<spdlog::logger>("sim", std::make_shared<spdlog::sinks::null_sink_mt>())) {}

  void step() {
    cp_.pilot_period(now_);
    if (now_ >= next_housekeeping_) {
      cp_.housekeeping(now_, local_ + std::chrono::duration_cast<core::Seconds>(now_ - start_));
      next_housekeeping_ += 1s;
    }
    if (now_ >= next_control_) {
      cp_.control_cycle(now_);
      ++control_cycles_;
      next_control_ += 2s;
    }
    now_ += 10ms;
  }

  void run_for(core::Milliseconds d) {
    const auto end = now_ + d;
    while (now_ < end) step();
  }

  // Runs until `pred` holds, checking after every step; false if `limit` passes first.
  bool run_until(const std::function<bool()>& pred, core::Milliseconds limit) {
    const auto end = now_ + limit;
    while (now_ < end) {
      if (pred()) return true;
      step();
    }
    return pred();
  }

  core::PatchResult apply(core::SettingsPatch p) {
    p.local_now = local_;
    return cp_.apply(p, now_);
  }

  void set_mode(core::ModeChoice mode) {
    core::SettingsPatch p;
    p.set(core::Field::Mode, mode);
    apply(p);
  }

  core::Status status() const { return cp_.status(now_); }
  core::ChargeState state() const { return status().state; }
  sim::World& world() { return world_; }
  core::TimePoint now() const { return now_; }
  core::Seconds elapsed() const { return std::chrono::duration_cast<core::Seconds>(now_ - start_); }
  long control_cycles() const { return control_cycles_; }

 private:
  core::TimePoint start_ = core::TimePoint{} + 1000h;
  core::TimePoint now_ = start_;
  core::LocalTime local_ = core::local_time(2026, 6, 21, 9, 0);
  core::TimePoint next_housekeeping_ = start_;
  core::TimePoint next_control_ = start_;
  long control_cycles_ = 0;
  sim::World world_;
  hw::Board board_;
  app::ChargePoint cp_;
};

core::Settings site_settings() {
  core::Settings s;
  s.cable = core::CableConfig::Fixed;
  s.max_current = core::Amps{16};
  s.max_mains = core::Amps{25};
  s.has_mains_meter = true;
  return s;
}

int total(const std::array<DeciAmps, 3>& a) { return a[0].value() + a[1].value() + a[2].value(); }

TEST(Simulation, OneHourOfNormalSmartAndSolarCharging) {
  const auto wall_start = std::chrono::steady_clock::now();
  SimulatedChargePoint sim(site_settings());
  auto& car = sim.world().car();
  auto& site = sim.world().site();
  site.set_house_load({DeciAmps{50}, DeciAmps{50}, DeciAmps{50}});

  // NORMAL: plug in -> B -> C at MaxCurrent on three phases.
  sim.run_for(10s);
  ASSERT_EQ(sim.state(), core::ChargeState::A);
  car.plug_in();
  ASSERT_TRUE(sim.run_until([&] { return sim.state() == core::ChargeState::B; }, 1s));
  ASSERT_TRUE(sim.run_until([&] { return sim.state() == core::ChargeState::C; }, 10s));
  EXPECT_TRUE(sim.world().board().contactor1());
  EXPECT_TRUE(sim.world().board().contactor2());
  ASSERT_TRUE(sim.run_until([&] { return car.draw()[2].value() == 160; }, 15s));
  EXPECT_EQ(sim.status().offered_current.value(), 160);
  EXPECT_EQ(total(car.draw()), 480);

  // SMART: 16 A car + 5 A house stays under MaxMains 25 A.
  sim.run_for(5min);
  sim.set_mode(core::ModeChoice::Smart);
  sim.run_for(1min);
  EXPECT_EQ(sim.state(), core::ChargeState::C);
  EXPECT_EQ(sim.status().offered_current.value(), 160);
  // The house switches on 15 A per phase: the first reading above MaxMains cuts the offer.
  site.set_house_load({DeciAmps{150}, DeciAmps{150}, DeciAmps{150}});
  const long cycles_before = sim.control_cycles();
  ASSERT_TRUE(sim.run_until([&] { return sim.control_cycles() > cycles_before; }, 3s));
  const auto offer_after_first_reading = sim.status().offered_current;
  EXPECT_LT(offer_after_first_reading.value(), 160);
  EXPECT_LE(offer_after_first_reading.value(), 100);  // 25 A - 15 A house
  sim.run_for(2min);
  EXPECT_EQ(sim.state(), core::ChargeState::C);
  const auto mains = sim.world().mains_reading(sim.now()).currents;
  for (auto phase : mains) EXPECT_LE(phase.value(), 250);
  EXPECT_EQ(core::to_string(sim.status().limited_by), "max_mains");

  // SOLAR: unplug, no surplus yet -> the car waits.
  car.unplug();
  sim.run_for(2s);
  EXPECT_EQ(sim.state(), core::ChargeState::A);
  EXPECT_FALSE(sim.world().board().contactor1());
  EXPECT_FALSE(sim.world().board().contactor2());
  site.set_house_load({DeciAmps{30}, DeciAmps{30}, DeciAmps{30}});
  site.set_solar(DeciAmps{120});  // 12 A produced, 9 A used: 3 A export, below StartCurrent 4 A
  sim.set_mode(core::ModeChoice::Solar);
  sim.run_for(10s);
  car.plug_in();
  sim.run_for(3min);
  EXPECT_NE(sim.state(), core::ChargeState::C);
  EXPECT_FALSE(sim.world().board().contactor1());
  // The sun comes out: 30 A produced, 21 A export: start (after the 60 s charge delay).
  site.set_solar(DeciAmps{300});
  ASSERT_TRUE(sim.run_until([&] { return sim.state() == core::ChargeState::C; }, 90s));
  sim.run_for(2min);
  EXPECT_EQ(sim.state(), core::ChargeState::C);
  EXPECT_GE(sim.status().offered_current.value(), 60);
  // Regulated toward zero import.
  sim.run_for(3min);
  EXPECT_LE(sim.world().mains_reading(sim.now()).currents[0].value() +
                sim.world().mains_reading(sim.now()).currents[1].value() +
                sim.world().mains_reading(sim.now()).currents[2].value(),
            10);
  EXPECT_EQ(core::to_string(sim.status().limited_by), "solar_surplus");

  // Clouds: no surplus; at MinCurrent with import the stop timer runs StopTime (10 min).
  site.set_solar(DeciAmps{90});
  const auto clouds = sim.elapsed();
  ASSERT_TRUE(sim.run_until([&] { return sim.status().solar_stop_timer_s > 0; }, 2min));
  sim.run_for(9min);
  EXPECT_EQ(sim.state(), core::ChargeState::C);
  ASSERT_TRUE(sim.run_until([&] { return sim.state() != core::ChargeState::C; }, 2min));
  const auto stopped_after = sim.elapsed() - clouds;
  EXPECT_GE(stopped_after, core::Seconds{600});
  EXPECT_LE(stopped_after, core::Seconds{600 + 60});
  EXPECT_TRUE(sim.status().errors.has(core::ErrorFlag::Less6A));
  sim.run_for(10s);
  EXPECT_FALSE(sim.world().board().contactor1());

  // Unplug: A with both contactors open, for the rest of the hour.
  car.unplug();
  const auto rest = core::Seconds{3600} - sim.elapsed();
  ASSERT_GT(rest.count(), 0);
  sim.run_for(rest);
  EXPECT_EQ(sim.state(), core::ChargeState::A);
  EXPECT_FALSE(sim.world().board().contactor1());
  EXPECT_FALSE(sim.world().board().contactor2());
  EXPECT_GE(sim.elapsed(), core::Seconds{3600});
  EXPECT_GT(car.energy().value, 1500);  // charged something worth having

  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  // The speed is reported, not asserted: timings belong to benchmarks, and this
  // test also runs under the sanitizers and under qemu. bench/simulation.sh
  // checks the >= 1000x of the issue on an optimised build.
  std::printf("simulated %lld s in %.3f s of wall time (%.0fx real time)\n",
              static_cast<long long>(sim.elapsed().count()), wall_s, sim.elapsed().count() / wall_s);
}

TEST(Simulation, BrokenDiodeNeverClosesTheContactor) {
  SimulatedChargePoint sim(site_settings());
  sim.world().car().set_diode_ok(false);
  sim.world().car().plug_in();
  sim.run_for(2min);
  EXPECT_FALSE(sim.world().board().contactor1());
  EXPECT_TRUE(sim.status().errors.has(core::ErrorFlag::DiodeFault));
}

TEST(Simulation, FailingBoardWritesOpenTheContactor) {
  SimulatedChargePoint sim(site_settings());
  sim.world().car().plug_in();
  ASSERT_TRUE(sim.run_until([&] { return sim.state() == core::ChargeState::C; }, 10s));
  ASSERT_TRUE(sim.run_until([&] { return sim.status().offered_current.value() == 160; }, 10s));
  sim.world().board().fail_writes(true);
  // A duty change must be written: lower the offer.
  core::SettingsPatch p;
  p.set(core::Field::OverrideCurrent, 80);
  sim.apply(p);
  EXPECT_TRUE(sim.status().errors.has(core::ErrorFlag::HardwareFault));
  EXPECT_FALSE(sim.world().board().contactor1());
  sim.run_for(30s);
  EXPECT_FALSE(sim.world().board().contactor1());
  EXPECT_NE(sim.state(), core::ChargeState::C);
}

}  // namespace
}  // namespace evsed
