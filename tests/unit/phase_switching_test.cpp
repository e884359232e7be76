// 1/3-phase switching for every CONTACT 2 setting (control-logic.md §2.4, §3.6):
// a switch only ever happens with the contactors open, through C1 and B1.

#include <gtest/gtest.h>

#include "controller_rig.hpp"

namespace evsed::core {
namespace {

Settings with_c2(EnableC2 c2, ChargeMode mode = ChargeMode::Normal) {
  Settings s = rig_defaults();
  s.enable_c2 = c2;
  s.mode = mode;
  s.has_mains_meter = true;
  return s;
}

// The car follows the pilot: 6 V while it gets PWM, 9 V when it does not.
void follow_pilot(ControllerRig& rig, Seconds d) {
  const TimePoint end = rig.now + d;
  while (rig.now < end) {
    const bool offered = rig.out.duty != kDutySteadyHigh && rig.out.duty != kDutySteadyLow;
    rig.car = offered ? PilotLevel::V6 : PilotLevel::V9;
    rig.step();
  }
}

TEST(PhaseSwitching, AlwaysOnChargesOnThreePhases) {
  ControllerRig rig(with_c2(EnableC2::AlwaysOn));
  rig.plug_in_and_charge();
  EXPECT_TRUE(rig.out.contactor1);
  EXPECT_TRUE(rig.out.contactor2);
  EXPECT_EQ(rig.status().phases, 3);
}

TEST(PhaseSwitching, AlwaysOffChargesOnOnePhase) {
  ControllerRig rig(with_c2(EnableC2::AlwaysOff));
  rig.plug_in_and_charge();
  EXPECT_TRUE(rig.out.contactor1);
  EXPECT_FALSE(rig.out.contactor2);
  EXPECT_EQ(rig.status().phases, 1);
}

TEST(PhaseSwitching, NotPresentNeverDrivesC2AndAssumesThreePhases) {
  ControllerRig rig(with_c2(EnableC2::NotPresent));
  rig.plug_in_and_charge();
  EXPECT_TRUE(rig.out.contactor1);
  EXPECT_FALSE(rig.out.contactor2);
  EXPECT_EQ(rig.status().phases, 3);
}

TEST(PhaseSwitching, SolarOffSwitchesToOnePhaseWhenEnteringSolar) {
  ControllerRig rig(with_c2(EnableC2::SolarOff));
  rig.mains_base = {DeciAmps{-200}, DeciAmps{-200}, DeciAmps{-200}};  // plenty of export
  rig.feed_mains_automatically = true;
  rig.plug_in_and_charge();
  ASSERT_TRUE(rig.out.contactor2);
  SettingsPatch solar;
  solar.set(Field::Mode, ModeChoice::Solar);
  rig.apply(solar);
  EXPECT_EQ(rig.c.state(), ChargeState::C1);  // stop first
  EXPECT_EQ(rig.status().pending_phase_switch, 1);
  // The car stops, the contactors open, and after the charge delay it starts again on one phase.
  ASSERT_TRUE(rig.run_until(
      [&] {
        const bool offered = rig.out.duty != kDutySteadyHigh && rig.out.duty != kDutySteadyLow;
        rig.car = offered ? PilotLevel::V6 : PilotLevel::V9;
        return rig.c.state() == ChargeState::B1;
      },
      Seconds{7}));
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_FALSE(rig.out.contactor2);
  follow_pilot(rig, Seconds{30});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_TRUE(rig.out.contactor1);
  EXPECT_FALSE(rig.out.contactor2);
  EXPECT_EQ(rig.status().phases, 1);
  // And back to three phases when leaving Solar.
  SettingsPatch normal;
  normal.set(Field::Mode, ModeChoice::Normal);
  rig.apply(normal);
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
  follow_pilot(rig, Seconds{40});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_TRUE(rig.out.contactor2);
  EXPECT_EQ(rig.status().phases, 3);
}

TEST(PhaseSwitching, ChangingEnableC2WhileChargingRestartsOnTheNewPhases) {
  ControllerRig rig(with_c2(EnableC2::AlwaysOn));
  rig.plug_in_and_charge();
  SettingsPatch one_phase;
  one_phase.set(Field::EnableC2, 1);
  rig.apply(one_phase);
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
  follow_pilot(rig, Seconds{40});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_FALSE(rig.out.contactor2);
  EXPECT_EQ(rig.status().phases, 1);
}

TEST(PhaseSwitching, EnableC2ChangeInStateAAppliesDirectly) {
  ControllerRig rig(with_c2(EnableC2::AlwaysOn));
  SettingsPatch one_phase;
  one_phase.set(Field::EnableC2, 1);
  rig.apply(one_phase);
  EXPECT_EQ(rig.status().phases, 1);
  EXPECT_EQ(rig.status().pending_phase_switch, 0);
}

TEST(PhaseSwitching, AutoSolarShortageOnThreePhasesSwitchesToOnePhase) {
  ControllerRig rig(with_c2(EnableC2::Auto, ChargeMode::Solar));
  rig.mains_base = {DeciAmps{-70}, DeciAmps{-70}, DeciAmps{-70}};  // 21 A export: 3 x 6 A + 3 A
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{3});
  follow_pilot(rig, Seconds{60});
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  ASSERT_EQ(rig.status().phases, 3);
  // A cloud: export drops to 4 A per phase; at 6 A on three phases we import 6 A.
  rig.mains_base = {DeciAmps{-40}, DeciAmps{-40}, DeciAmps{-40}};
  ASSERT_TRUE(rig.run_until(
      [&] {
        for (const auto& t : rig.status().timers) {
          if (t.name == "switch_to_1p") return true;
        }
        return false;
      },
      Seconds{10}));
  // Deficit not below MinCurrent: the 30 s timer, then stop and come back on one phase.
  follow_pilot(rig, Seconds{35});
  EXPECT_NE(rig.c.state(), ChargeState::C);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::Less6A));
  follow_pilot(rig, Seconds{60});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_EQ(rig.status().phases, 1);
  EXPECT_FALSE(rig.out.contactor2);
}

TEST(PhaseSwitching, AutoSolarSurplusOnOnePhaseSwitchesToThreePhases) {
  Settings s = with_c2(EnableC2::Auto, ChargeMode::Solar);
  ControllerRig rig(s);
  // Start with little export: the car starts on one phase.
  rig.mains_base = {DeciAmps{-30}, DeciAmps{-30}, DeciAmps{-30}};
  rig.feed_mains_automatically = true;
  rig.run_for(Seconds{3});
  follow_pilot(rig, Seconds{60});
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  ASSERT_EQ(rig.status().phases, 1);
  // The sun comes out: 20 A export per phase.
  rig.mains_base = {DeciAmps{-200}, DeciAmps{-200}, DeciAmps{-200}};
  ASSERT_TRUE(rig.run_until(
      [&] {
        for (const auto& t : rig.status().timers) {
          if (t.name == "switch_to_3p") return true;
        }
        return false;
      },
      Seconds{120}));
  follow_pilot(rig, Seconds{70});
  ASSERT_TRUE(rig.run_until(
      [&] {
        const bool offered = rig.out.duty != kDutySteadyHigh && rig.out.duty != kDutySteadyLow;
        rig.car = offered ? PilotLevel::V6 : PilotLevel::V9;
        return rig.c.state() == ChargeState::C && rig.status().phases == 3;
      },
      Seconds{60}));
  EXPECT_TRUE(rig.out.contactor2);
}

}  // namespace
}  // namespace evsed::core
