// The session state machine over the snapshots the Station publishes: every
// stop reason, plug-out mid-charge, errors, the schedule, several sessions a
// day, a DST change inside a session, the EV meter and the solar share.

#include <gtest/gtest.h>

#include "evsed/sessions/tracker.hpp"

namespace evsed::sessions {
namespace {

using core::AccessStatus;
using core::ChargeState;
using core::DeciAmps;
using station::EnergySource;
using station::StopReason;

constexpr std::int64_t kStart = 1'790'000'000;  // 2026-09-21, a Monday

// A car and a charger as the snapshots show them, moved on by the test.
struct Drive {
  Tracker tracker{1};
  station::Snapshot snap;
  core::TimePoint steady{std::chrono::hours{100}};
  std::int64_t epoch = kStart;
  std::int32_t offset = 7200;
  std::vector<station::SessionRecord> closed;

  core::Status& s() { return snap.status; }
  Instant at() const { return {steady, epoch, offset}; }
  TrackerStep observe() {
    auto step = tracker.observe(snap, at());
    if (step.closed) closed.push_back(*step.closed);
    return step;
  }
  // Time passes; the tracker sees a snapshot each second, as the session log's tick does.
  void wait(std::chrono::seconds d) {
    for (auto left = d; left.count() > 0; left -= std::chrono::seconds{1}) {
      steady += std::chrono::seconds{1};
      epoch += 1;
      age_readings();
      observe();
    }
  }
  void age_readings() {
    for (auto* m : {&s().ev, &s().mains}) {
      if (m->age_s) *m->age_s += 1;
    }
  }
  void plug() {
    s().car_connected = true;
    s().state = ChargeState::B;
    observe();
  }
  void charge(int deci_amps = 160, int phases = 3) {
    s().state = ChargeState::C;
    s().outputs.contactor1 = true;
    s().offered_current = DeciAmps{deci_amps};
    s().phases = phases;
    observe();
  }
  void stop_charging(ChargeState to = ChargeState::B) {
    s().state = to;
    s().outputs.contactor1 = false;
    s().offered_current = DeciAmps{0};
    observe();
  }
  void unplug() {
    s().car_connected = false;
    s().state = ChargeState::A;
    s().outputs.contactor1 = false;
    s().offered_current = DeciAmps{0};
    observe();
  }
  void ev_meter(std::int64_t wh, std::array<int, 3> currents) {
    s().ev.configured = true;
    core::MeterReading r;
    r.role = core::MeterRole::Ev;
    r.currents = {DeciAmps{currents[0]}, DeciAmps{currents[1]}, DeciAmps{currents[2]}};
    r.import_energy = core::WattHours{wh};
    s().ev.last = r;
    s().ev.age_s = 0;
  }
  void mains_meter(std::array<int, 3> currents) {
    s().mains.configured = true;
    core::MeterReading r;
    r.currents = {DeciAmps{currents[0]}, DeciAmps{currents[1]}, DeciAmps{currents[2]}};
    s().mains.last = r;
    s().mains.age_s = 0;
  }
};

TEST(SessionTracker, NothingHappensWithoutACar) {
  Drive d;
  d.wait(std::chrono::seconds{30});
  EXPECT_FALSE(d.tracker.current());
  EXPECT_TRUE(d.closed.empty());
  EXPECT_EQ(d.tracker.next_id(), 1U);
}

TEST(SessionTracker, UnpluggedWhileChargingEstimatesTheEnergyFromTheOfferedCurrent) {
  Drive d;
  d.plug();
  ASSERT_TRUE(d.tracker.current());
  EXPECT_EQ(d.tracker.current()->id, 1U);
  EXPECT_EQ(d.tracker.current()->started_at, kStart);
  EXPECT_EQ(d.tracker.current()->start_offset_s, 7200);
  d.wait(std::chrono::seconds{60});
  d.charge(160, 3);
  d.wait(std::chrono::seconds{3600});
  d.unplug();
  ASSERT_EQ(d.closed.size(), 1U);
  const auto& r = d.closed[0];
  EXPECT_EQ(r.stop_reason, StopReason::Unplugged);
  EXPECT_EQ(r.energy_source, EnergySource::Estimated);
  EXPECT_EQ(r.energy_wh, 16 * 3 * 230);  // 16 A x 3 phases x 230 V for one hour
  EXPECT_EQ(r.charging_s, 3600);
  EXPECT_EQ(r.connected_s, 3660);
  EXPECT_EQ(r.max_current_da, 160);
  EXPECT_EQ(r.mean_current_da, 160);
  EXPECT_EQ(r.phases, 3);
  EXPECT_EQ(r.ended_at, kStart + 3660);
  EXPECT_FALSE(r.solar_wh) << "no mains meter: the solar share is unknown, not zero";
  EXPECT_FALSE(r.meter_start_wh);
  EXPECT_FALSE(d.tracker.current());
}

TEST(SessionTracker, TheCarStoppingByItselfIsCarStopped) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{600});
  d.stop_charging();  // full: back to B, no error, access on
  d.wait(std::chrono::seconds{600});
  d.unplug();
  ASSERT_EQ(d.closed.size(), 1U);
  EXPECT_EQ(d.closed[0].stop_reason, StopReason::CarStopped);
  EXPECT_EQ(d.closed[0].charging_s, 600);
  EXPECT_EQ(d.closed[0].connected_s, 1200);
}

TEST(SessionTracker, AccessOffIsAccessOff) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{10});
  d.s().access = AccessStatus::Off;
  d.stop_charging(ChargeState::B1);
  d.wait(std::chrono::seconds{10});
  d.unplug();
  EXPECT_EQ(d.closed.at(0).stop_reason, StopReason::AccessOff);
}

TEST(SessionTracker, PauseCountsAsAccessOff) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{10});
  d.s().access = AccessStatus::Pause;
  d.stop_charging(ChargeState::B1);
  d.unplug();
  EXPECT_EQ(d.closed.at(0).stop_reason, StopReason::AccessOff);
}

TEST(SessionTracker, TheDelayedStopTimeIsTheSchedule) {
  Drive d;
  d.s().settings.delayed.stop = core::LocalTime{std::chrono::seconds{kStart + 3600}};
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{3600});
  // The controller passes the stop time: access off, the stop cleared.
  d.s().access = AccessStatus::Off;
  d.s().settings.delayed.stop.reset();
  d.stop_charging(ChargeState::B1);
  d.wait(std::chrono::seconds{5});
  d.unplug();
  EXPECT_EQ(d.closed.at(0).stop_reason, StopReason::Schedule);
}

TEST(SessionTracker, AStartTimeNeverReachedIsTheSchedule) {
  Drive d;
  d.s().access = AccessStatus::Off;
  d.s().settings.delayed.start = core::LocalTime{std::chrono::seconds{kStart + 7200}};
  d.plug();
  d.wait(std::chrono::seconds{600});
  d.unplug();
  ASSERT_EQ(d.closed.size(), 1U);
  EXPECT_EQ(d.closed[0].stop_reason, StopReason::Schedule);
  EXPECT_EQ(d.closed[0].charging_s, 0);
  EXPECT_EQ(d.closed[0].energy_wh, 0);
  EXPECT_EQ(d.closed[0].phases, 0);
}

TEST(SessionTracker, NotEnoughCurrentIsTheLimit) {
  Drive d;
  d.plug();
  d.charge(60, 3);
  d.wait(std::chrono::seconds{60});
  d.s().errors.set(core::ErrorFlag::Less6A);
  d.stop_charging();
  d.unplug();
  EXPECT_EQ(d.closed.at(0).stop_reason, StopReason::Limit);
  EXPECT_TRUE(d.closed.at(0).stop_error.empty());
}

TEST(SessionTracker, AnErrorIsNamed) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{60});
  d.s().errors.set(core::ErrorFlag::TempHigh);
  d.s().errors.set(core::ErrorFlag::Less6A);  // an error outranks the limit
  d.stop_charging(ChargeState::B1);
  d.wait(std::chrono::seconds{60});
  d.s().errors = {};  // cleared before the car goes: the reason stays what stopped it
  d.unplug();
  EXPECT_EQ(d.closed.at(0).stop_reason, StopReason::Error);
  EXPECT_EQ(d.closed.at(0).stop_error, "temp_high");
}

TEST(SessionTracker, ResumedChargingForgetsTheEarlierStop) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{60});
  d.s().errors.set(core::ErrorFlag::Less6A);
  d.stop_charging();
  d.wait(std::chrono::seconds{60});
  d.s().errors = {};
  d.charge();
  d.wait(std::chrono::seconds{60});
  d.unplug();  // plugged out mid-charge
  EXPECT_EQ(d.closed.at(0).stop_reason, StopReason::Unplugged);
  EXPECT_EQ(d.closed.at(0).charging_s, 120);
  EXPECT_EQ(d.closed.at(0).connected_s, 180);
}

TEST(SessionTracker, TheEvMeterRegisterIsTheEnergyWhenReadBeforeCharging) {
  Drive d;
  d.ev_meter(12'000, {0, 0, 0});
  d.plug();
  d.charge(160, 1);
  for (int second = 1; second <= 3600; ++second) {
    d.wait(std::chrono::seconds{1});
    d.ev_meter(12'000 + second, {150, 0, 0});  // 3.45 kW measured, 1 Wh a second on its register
  }
  d.stop_charging();
  d.unplug();
  const auto& r = d.closed.at(0);
  EXPECT_EQ(r.energy_source, EnergySource::EvMeter);
  EXPECT_EQ(r.meter_start_wh, 12'000);
  EXPECT_EQ(r.meter_end_wh, 15'600);
  EXPECT_EQ(r.energy_wh, 3600);
  EXPECT_EQ(r.max_current_da, 150) << "measured currents, not the offer";
  EXPECT_EQ(r.phases, 1);
}

TEST(SessionTracker, AnEvMeterLostWhileChargingIsNotPresentedAsMetered) {
  Drive d;
  d.ev_meter(5'000, {0, 0, 0});
  d.plug();
  d.charge(100, 3);
  d.ev_meter(5'000, {100, 100, 100});
  d.wait(std::chrono::seconds{30});  // the reading ages past kFreshReading
  d.ev_meter(5'050, {100, 100, 100});
  d.wait(std::chrono::seconds{5});
  d.unplug();
  const auto& r = d.closed.at(0);
  EXPECT_EQ(r.energy_source, EnergySource::Estimated);
  EXPECT_GT(r.energy_wh, 0);
}

TEST(SessionTracker, AMeterThatFirstAnswersMidChargeIsNotTheSource) {
  Drive d;
  d.plug();
  d.charge(160, 3);
  d.wait(std::chrono::seconds{60});
  d.ev_meter(100, {160, 160, 160});
  d.wait(std::chrono::seconds{5});
  d.unplug();
  EXPECT_EQ(d.closed.at(0).energy_source, EnergySource::Estimated);
  EXPECT_FALSE(d.closed.at(0).meter_start_wh);
}

TEST(SessionTracker, TheSolarShareIsWhatTheGridDidNotDeliver) {
  Drive d;
  d.mains_meter({0, 0, 0});
  d.plug();
  d.charge(100, 1);
  // 10 A to the car on L1; the grid imports 4 A: 6 A came from the roof.
  d.mains_meter({40, 0, 0});
  for (int i = 0; i < 3600; ++i) {
    d.wait(std::chrono::seconds{1});
    d.s().mains.age_s = 0;
  }
  d.unplug();
  const auto& r = d.closed.at(0);
  EXPECT_EQ(r.energy_wh, 2300);
  ASSERT_TRUE(r.solar_wh);
  EXPECT_EQ(*r.solar_wh, 1380);  // 6 A x 230 V x 1 h
}

TEST(SessionTracker, ExportingWhileChargingIsAllSolar) {
  Drive d;
  d.mains_meter({-50, 0, 0});
  d.plug();
  d.charge(100, 1);
  for (int i = 0; i < 600; ++i) {
    d.wait(std::chrono::seconds{1});
    d.s().mains.age_s = 0;
  }
  d.unplug();
  EXPECT_EQ(d.closed.at(0).solar_wh, d.closed.at(0).energy_wh);
}

TEST(SessionTracker, ADayWithSeveralSessions) {
  Drive d;
  for (int i = 0; i < 3; ++i) {
    d.plug();
    d.charge(60 + 20 * i, 3);
    d.wait(std::chrono::seconds{1800});
    d.unplug();
    d.wait(std::chrono::seconds{3600});
  }
  ASSERT_EQ(d.closed.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d.closed[i].id, i + 1);
    EXPECT_EQ(d.closed[i].charging_s, 1800);
    EXPECT_EQ(d.closed[i].max_current_da, 60 + 20 * static_cast<int>(i));
    EXPECT_EQ(d.closed[i].started_at, kStart + static_cast<std::int64_t>(i) * 5400);
  }
  EXPECT_EQ(d.tracker.next_id(), 4U);
}

TEST(SessionTracker, ADstChangeInsideASessionKeepsItsLength) {
  Drive d;
  d.offset = 7200;  // CEST
  d.plug();
  d.charge(160, 3);
  d.wait(std::chrono::seconds{3600});
  d.offset = 3600;  // 03:00 CEST becomes 02:00 CET: the wall clock goes back an hour
  d.wait(std::chrono::seconds{3600});
  d.unplug();
  const auto& r = d.closed.at(0);
  EXPECT_EQ(r.connected_s, 7200) << "two hours connected, though the wall clock moved one";
  EXPECT_EQ(r.charging_s, 7200);
  EXPECT_EQ(r.start_offset_s, 7200);
  EXPECT_EQ(r.end_offset_s, 3600);
  EXPECT_EQ(*r.ended_at - r.started_at, 7200);
  EXPECT_EQ(station::iso8601(r.started_at, r.start_offset_s), "2026-09-21T16:13:20+02:00");
  EXPECT_EQ(station::iso8601(*r.ended_at, *r.end_offset_s), "2026-09-21T17:13:20+01:00");
}

TEST(SessionTracker, TheModesItRanIn) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{10});
  d.s().mode = core::ChargeMode::Solar;
  d.wait(std::chrono::seconds{10});
  d.unplug();
  EXPECT_EQ(station::to_string(d.closed.at(0).modes), "normal,solar");
}

TEST(SessionTracker, StateChangesAskForAWrite) {
  Drive e;
  e.s().car_connected = true;
  e.s().state = ChargeState::B;
  auto first = e.tracker.observe(e.snap, e.at());
  EXPECT_TRUE(first.opened);
  EXPECT_TRUE(first.state_changed);
  e.steady += std::chrono::seconds{1};
  EXPECT_FALSE(e.tracker.observe(e.snap, e.at()).state_changed) << "nothing moved";
  e.s().state = ChargeState::C;
  e.s().outputs.contactor1 = true;
  EXPECT_TRUE(e.tracker.observe(e.snap, e.at()).state_changed);
}

TEST(SessionTracker, ClosingAtShutdown) {
  Drive d;
  d.plug();
  d.charge();
  d.wait(std::chrono::seconds{100});
  auto r = d.tracker.close(StopReason::Shutdown, d.at());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stop_reason, StopReason::Shutdown);
  EXPECT_EQ(r->charging_s, 100);
  EXPECT_FALSE(d.tracker.current());
  EXPECT_FALSE(d.tracker.close(StopReason::Shutdown, d.at())) << "nothing left to close";
}

}  // namespace
}  // namespace evsed::sessions
