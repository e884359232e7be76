// Set and clear rules of every error flag (control-logic.md §2.5), and what a
// stale or missing meter does to the offered current.

#include <gtest/gtest.h>

#include "controller_rig.hpp"

namespace evsed::core {
namespace {

Settings smart_settings() {
  Settings s = rig_defaults();
  s.has_mains_meter = true;
  s.mode = ChargeMode::Smart;
  return s;
}

TEST(Errors, Less6ARefusesThePlugInWhenTheMainsAreFull) {
  ControllerRig rig(smart_settings());
  rig.mains_base = {DeciAmps{200}, DeciAmps{200}, DeciAmps{200}};  // 25 A - 20 A < 6 A
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{3});
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  EXPECT_EQ(rig.c.state(), ChargeState::B1);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  // Clears as soon as current is available again, then the 60 s charge delay runs.
  rig.mains_base = {DeciAmps{100}, DeciAmps{100}, DeciAmps{100}};
  rig.run_for(Seconds{4});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::Less6A));
  EXPECT_EQ(rig.c.state(), ChargeState::B1);
  ASSERT_FALSE(rig.status().timers.empty());
  EXPECT_EQ(rig.status().timers.front().name, "charge_delay");
  EXPECT_GT(rig.status().timers.front().seconds_left, 50);
  EXPECT_EQ(to_string(rig.status().limited_by), "charge_delay");
  rig.run_for(Seconds{58});
  EXPECT_EQ(rig.c.state(), ChargeState::B);
}

TEST(Errors, Less6AAfterThreeHardShortageReadingsStopsCharging) {
  ControllerRig rig(smart_settings());
  rig.settle_with_house_load(DeciAmps{50});
  rig.plug_in_and_charge();
  rig.run_for(Seconds{20});
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  rig.feed_mains_automatically = false;
  // The house suddenly takes 24 A per phase (40 A with the car): even 6 A is too much.
  const std::array<DeciAmps, 3> overload{DeciAmps{400}, DeciAmps{400}, DeciAmps{400}};
  rig.feed_mains(overload);
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{60}));  // down at once, to MinCurrent
  rig.feed_mains(overload);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::Less6A));
  rig.feed_mains(overload);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
}

TEST(Errors, MainsAboveTwiceMaxMainsRaisesLess6AAtOnce) {
  ControllerRig rig(smart_settings());
  rig.settle_with_house_load(DeciAmps{50});
  rig.plug_in_and_charge();
  rig.feed_mains({DeciAmps{510}, DeciAmps{50}, DeciAmps{50}});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
}

TEST(Errors, Less6AClearsOnUnplugAndOnSwitchingToSmart) {
  ControllerRig rig(smart_settings());
  rig.settle_with_house_load(DeciAmps{50});
  rig.plug_in_and_charge();
  rig.feed_mains({DeciAmps{510}, DeciAmps{50}, DeciAmps{50}});
  ASSERT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  // Unplugged: cleared on the way into A (the next cycle would raise it again
  // while the mains stay overloaded, as the firmware does).
  rig.car = PilotLevel::V12;
  rig.handle(PilotSample{rig.window(), rig.cable});
  ASSERT_EQ(rig.c.state(), ChargeState::A);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::Less6A));
  rig.run_for(Seconds{3});  // the overload has passed

  rig.plug_in_and_charge();
  rig.feed_mains({DeciAmps{510}, DeciAmps{50}, DeciAmps{50}});
  ASSERT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Solar);  // Solar: LESS_6A stays
  rig.apply(p);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  rig.feed_mains({DeciAmps{50}, DeciAmps{50}, DeciAmps{50}});  // the overload is over
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));            // a reading alone does not clear it
  p.set(Field::Mode, ModeChoice::Smart);  // Smart clears it
  rig.apply(p);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::Less6A));
}

TEST(Errors, BToCIsRefusedWhenNoCurrentIsAvailable) {
  ControllerRig rig(smart_settings());
  rig.settle_with_house_load(DeciAmps{50});
  rig.car = PilotLevel::V9;
  ASSERT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::B && rig.out.duty != kDutySteadyHigh; },
                            Seconds{5}));
  // The house fills the mains before the car asks for power.
  rig.mains_base = {DeciAmps{230}, DeciAmps{230}, DeciAmps{230}};
  rig.run_for(Seconds{4});
  rig.car = PilotLevel::V6;
  rig.run_for(Seconds{3});
  EXPECT_NE(rig.c.state(), ChargeState::C);
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
}

TEST(Errors, MaxSumMainsTimerStopsChargingWhenItRunsOut) {
  Settings s = smart_settings();
  s.capacity_mode = CapacityMode::Fixed;
  s.max_sum_mains = Amps{30};
  s.max_sum_mains_time = Minutes{1};
  ControllerRig rig(s);
  rig.settle_with_house_load(DeciAmps{20});
  rig.plug_in_and_charge();
  rig.run_for(Seconds{30});
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_EQ(rig.status().max_sum_mains_timer_s, 0);
  // The house takes 10 A per phase: 30 A summed before the car, no room for its 6 A on
  // three phases within the capacity limit; the per-phase fuse (25 A) is not at risk.
  rig.mains_base = {DeciAmps{100}, DeciAmps{100}, DeciAmps{100}};
  rig.run_for(Seconds{6});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_GT(rig.status().max_sum_mains_timer_s, 50);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::Less6A));
  rig.run_for(Seconds{60});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  EXPECT_NE(rig.c.state(), ChargeState::C);
}

TEST(Errors, CtNoCommAfterElevenSecondsWithoutMainsData) {
  ControllerRig rig(smart_settings());
  rig.settle_with_house_load(DeciAmps{50});
  rig.plug_in_and_charge();
  rig.run_for(Seconds{10});
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  rig.feed_mains_automatically = false;
  rig.run_for(Seconds{10});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::CtNoComm));
  rig.run_for(Seconds{3});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::CtNoComm));
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{1});
  EXPECT_FALSE(rig.out.contactor1);
  // Fresh data clears it.
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{3});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::CtNoComm));
}

TEST(Errors, NoMeterErrorsInNormalMode) {
  Settings s = rig_defaults();
  s.has_mains_meter = true;
  s.has_ev_meter = true;
  s.has_circuit_meter = true;
  ControllerRig rig(s);
  rig.run_for(Seconds{120});
  EXPECT_FALSE(rig.c.errors().any());
  rig.plug_in_and_charge();
  EXPECT_EQ(rig.c.state(), ChargeState::C);
}

TEST(Errors, EvNoCommAfterSixtyFourSeconds) {
  Settings s = smart_settings();
  s.has_ev_meter = true;
  ControllerRig rig(s);
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{63});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::EvNoComm));
  rig.run_for(Seconds{2});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::EvNoComm));
  MeterReading ev;
  ev.role = MeterRole::Ev;
  ev.taken_at = rig.now;
  rig.handle(ev);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::EvNoComm));
}

TEST(Errors, CircuitNoCommAfterTwentySeconds) {
  Settings s = smart_settings();
  s.has_circuit_meter = true;
  ControllerRig rig(s);
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{19});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::CircuitNoComm));
  rig.run_for(Seconds{2});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::CircuitNoComm));
  MeterReading circuit;
  circuit.role = MeterRole::Circuit;
  circuit.taken_at = rig.now;
  rig.handle(circuit);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::CircuitNoComm));
}

TEST(Errors, TempHighStopsAndClearsTenDegreesBelowTheLimit) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.handle(TemperatureReading{66});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::TempHigh));
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
  EXPECT_EQ(to_string(rig.status().limited_by), "temperature");
  rig.handle(TemperatureReading{56});
  rig.run_for(Seconds{2});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::TempHigh));
  rig.handle(TemperatureReading{54});
  rig.run_for(Seconds{2});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::TempHigh));
}

TEST(Errors, ImplausibleMeterReadingsAreDropped) {
  ControllerRig rig(smart_settings());
  rig.feed_mains({DeciAmps{50}, DeciAmps{50}, DeciAmps{50}});
  rig.feed_mains({DeciAmps{50000}, DeciAmps{50}, DeciAmps{50}});
  ASSERT_TRUE(rig.status().mains.last.has_value());
  EXPECT_EQ(rig.status().mains.last->currents[0].value(), 50);
}

TEST(StaleMeter, NoMainsDataIsNeverZeroLoad) {
  ControllerRig rig(smart_settings());
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{5});
  // SmartEVSE would see 0 A and start; evsed refuses without a reading.
  EXPECT_NE(rig.c.state(), ChargeState::B);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::Less6A));
  EXPECT_FALSE(rig.out.contactor1);
}

TEST(StaleMeter, AgeingDataOnlyLetsTheCurrentGoDown) {
  ControllerRig rig(smart_settings());
  rig.settle_with_house_load(DeciAmps{100});
  rig.plug_in_and_charge();
  rig.run_for(Seconds{30});
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  const DeciAmps before = rig.status().offered_current;
  // Readings stop; a lowered override must still apply, a raised one must wait for data.
  rig.feed_mains_automatically = false;
  rig.run_for(Seconds{6});
  SettingsPatch lower;
  lower.set(Field::OverrideCurrent, 70);
  rig.apply(lower);
  EXPECT_EQ(rig.status().offered_current.value(), 70);
  SettingsPatch higher;
  higher.set(Field::OverrideCurrent, 140);
  rig.apply(higher);
  rig.run_for(Seconds{3});
  EXPECT_EQ(rig.status().offered_current.value(), 70);
  EXPECT_LE(rig.status().offered_current, before);
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{8});
  EXPECT_GT(rig.status().offered_current.value(), 70);
}

TEST(StaleMeter, TheReadingsAgeIsReported) {
  ControllerRig rig(smart_settings());
  rig.feed_mains({DeciAmps{10}, DeciAmps{10}, DeciAmps{10}});
  rig.run_for(Seconds{4});
  ASSERT_TRUE(rig.status().mains.age_s.has_value());
  EXPECT_EQ(*rig.status().mains.age_s, 4);
}

}  // namespace
}  // namespace evsed::core
