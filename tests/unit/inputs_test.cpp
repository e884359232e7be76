// The external switch (all eight functions of control-logic.md §6.2), its
// debouncing, and the cable lock's feedback.

#include <gtest/gtest.h>

#include "controller_rig.hpp"
#include "evsed/core/input_debouncer.hpp"

namespace evsed::core {
namespace {

Settings with_switch(SwitchFunction f) {
  Settings s = rig_defaults();
  s.external_switch = f;
  s.has_mains_meter = true;
  return s;
}

Settings in_smart(Settings s) {
  s.mode = ChargeMode::Smart;
  return s;
}

// Presses the switch for `held`, then lets it go.
void press(ControllerRig& rig, Milliseconds held = Milliseconds{200}) {
  rig.handle(SwitchInput{true});
  rig.run_for(held);
  rig.handle(SwitchInput{false});
}

TEST(InputDebouncer, ALevelCountsAfterTwelveEqualReads) {
  InputDebouncer d;
  for (int i = 0; i < InputDebouncer::kStableReads - 1; ++i) EXPECT_FALSE(d.feed(false));
  EXPECT_EQ(d.feed(false), std::optional<bool>{false});  // the first stable level is reported
  EXPECT_FALSE(d.feed(false));                             // and only once
  for (int i = 0; i < InputDebouncer::kStableReads - 1; ++i) EXPECT_FALSE(d.feed(true));
  EXPECT_EQ(d.feed(true), std::optional<bool>{true});
}

TEST(InputDebouncer, BounceNeverToggles) {
  InputDebouncer d;
  for (int i = 0; i < InputDebouncer::kStableReads; ++i) (void)d.feed(false);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(d.feed(i % 5 == 0)) << "read " << i;
  // Eleven closed reads, one open one: the run starts again.
  for (int i = 0; i < InputDebouncer::kStableReads - 1; ++i) EXPECT_FALSE(d.feed(true));
  EXPECT_FALSE(d.feed(false));
  for (int i = 0; i < InputDebouncer::kStableReads - 1; ++i) EXPECT_FALSE(d.feed(true));
  EXPECT_EQ(d.feed(true), std::optional<bool>{true});
}

TEST(ExternalSwitch, DisabledPressWhileChargingStops) {
  ControllerRig rig(with_switch(SwitchFunction::Disabled));
  rig.handle(SwitchInput{false});
  rig.plug_in_and_charge();
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  press(rig);
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::On);  // a stop, not an access change
  ASSERT_FALSE(rig.status().timers.empty());
  EXPECT_EQ(rig.status().timers.front().name, "charge_delay");
}

TEST(ExternalSwitch, AccessButtonTogglesOnPress) {
  ControllerRig rig(with_switch(SwitchFunction::AccessButton));
  rig.handle(SwitchInput{false});
  rig.plug_in_and_charge();
  press(rig);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::Off);
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
  rig.run_for(Seconds{10});
  EXPECT_FALSE(rig.out.contactor1);
  press(rig);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::On);
}

TEST(ExternalSwitch, AccessButtonResumesFromPause) {
  ControllerRig rig(with_switch(SwitchFunction::AccessButton));
  rig.handle(SwitchInput{false});
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Pause);  // PAUSE
  rig.apply(p);
  ASSERT_EQ(rig.c.settings().access, AccessStatus::Pause);
  press(rig);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::On);
}

TEST(ExternalSwitch, AccessSwitchFollowsItsPositionFromTheFirstReading) {
  ControllerRig rig(with_switch(SwitchFunction::AccessSwitch));
  const Commands first = rig.c.handle(SwitchInput{false}, rig.now);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::Off);
  EXPECT_TRUE(first.settings_changed);
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  EXPECT_NE(rig.c.state(), ChargeState::B);
  rig.handle(SwitchInput{true});
  EXPECT_EQ(rig.c.settings().access, AccessStatus::On);
  ASSERT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::B; }, Seconds{10}));
  rig.car = PilotLevel::V6;
  EXPECT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::C; }, Seconds{10}));
  rig.handle(SwitchInput{false});
  EXPECT_EQ(rig.c.state(), ChargeState::C1);
}

TEST(ExternalSwitch, SmartSolarButtonShortPressTogglesTheMode) {
  ControllerRig rig(in_smart(with_switch(SwitchFunction::SmartSolarButton)));
  rig.handle(SwitchInput{false});
  press(rig, Milliseconds{300});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Solar);
  press(rig, Milliseconds{300});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart);
}

TEST(ExternalSwitch, SmartSolarButtonLeavesNormalModeAlone) {
  ControllerRig rig(with_switch(SwitchFunction::SmartSolarButton));
  rig.handle(SwitchInput{false});
  press(rig, Milliseconds{300});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Normal);
}

TEST(ExternalSwitch, SmartSolarButtonLongPressStopsChargingWhileHeld) {
  ControllerRig rig(in_smart(with_switch(SwitchFunction::SmartSolarButton)));
  rig.handle(SwitchInput{false});
  rig.settle_with_house_load(DeciAmps{10});
  rig.plug_in_and_charge();
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  rig.handle(SwitchInput{true});
  rig.run_for(Milliseconds{1400});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  rig.run_for(Milliseconds{200});
  EXPECT_EQ(rig.c.state(), ChargeState::C1);  // at 1.5 s, before the release
  rig.handle(SwitchInput{false});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart);  // a long press does not toggle
}

TEST(ExternalSwitch, SmartSolarButtonJudgesThePressByItsLengthNotByWhatHappenedMeanwhile) {
  ControllerRig rig(in_smart(with_switch(SwitchFunction::SmartSolarButton)));
  rig.handle(SwitchInput{false});
  rig.handle(SwitchInput{true});
  rig.now += Seconds{2};  // no event reached the controller while it was held
  rig.handle(SwitchInput{false});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart);
}

TEST(ExternalSwitch, AButtonAlreadyHeldAtStartIsNoPress) {
  ControllerRig rig(in_smart(with_switch(SwitchFunction::SmartSolarButton)));
  rig.handle(SwitchInput{true});  // the first reading
  rig.run_for(Milliseconds{200});
  rig.handle(SwitchInput{false});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart);
}

TEST(ExternalSwitch, SmartSolarSwitchSelectsByPosition) {
  ControllerRig rig(in_smart(with_switch(SwitchFunction::SmartSolarSwitch)));
  rig.handle(SwitchInput{false});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Solar);
  rig.handle(SwitchInput{true});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart);
}

TEST(ExternalSwitch, SmartSolarSwitchOnlyActsWithAccessOn) {
  Settings s = with_switch(SwitchFunction::SmartSolarSwitch);
  s.mode = ChargeMode::Smart;
  s.access = AccessStatus::Off;
  ControllerRig rig(s);
  rig.handle(SwitchInput{false});
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart);
}

TEST(ExternalSwitch, OpenGridRelayCapsTheSiteAtEighteenAmpsSummed) {
  ControllerRig rig(with_switch(SwitchFunction::GridRelay));
  rig.handle(SwitchInput{true});  // relay closed: no limit
  rig.plug_in_and_charge();
  rig.run_for(Seconds{30});
  EXPECT_EQ(rig.status().offered_current, DeciAmps{160});
  rig.handle(SwitchInput{false});  // the grid operator opens it
  EXPECT_EQ(rig.status().offered_current, DeciAmps{60});  // 18 A / 3 phases, at once
  EXPECT_EQ(to_string(rig.status().limited_by), "grid_relay");
  rig.handle(SwitchInput{true});
  rig.run_for(Seconds{30});
  EXPECT_EQ(rig.status().offered_current, DeciAmps{160});
}

TEST(ExternalSwitch, GridRelayCountsAsOpenUntilTheInputIsKnown) {
  ControllerRig rig(with_switch(SwitchFunction::GridRelay));
  rig.plug_in_and_charge();
  rig.run_for(Seconds{30});
  EXPECT_EQ(rig.status().offered_current, DeciAmps{60});
}

TEST(ExternalSwitch, CustomButtonTogglesAndCustomSwitchFollows) {
  ControllerRig button(with_switch(SwitchFunction::CustomButton));
  EXPECT_EQ(button.c.handle(SwitchInput{false}, button.now).custom_button, CustomButtonAction::None);
  EXPECT_EQ(button.c.handle(SwitchInput{true}, button.now).custom_button, CustomButtonAction::Toggle);
  EXPECT_EQ(button.c.handle(SwitchInput{false}, button.now).custom_button, CustomButtonAction::None);
  EXPECT_EQ(button.c.handle(ControlCycle{}, button.now).custom_button, CustomButtonAction::None);

  ControllerRig sw(with_switch(SwitchFunction::CustomSwitch));
  EXPECT_EQ(sw.c.handle(SwitchInput{true}, sw.now).custom_button, CustomButtonAction::On);
  EXPECT_EQ(sw.c.handle(SwitchInput{false}, sw.now).custom_button, CustomButtonAction::Off);
}

TEST(ExternalSwitch, APressClearsRcmTrippedOnceTheInputIsNormal) {
  Settings s = with_switch(SwitchFunction::Disabled);
  s.rcm_enabled = true;
  ControllerRig rig(s);
  rig.handle(SwitchInput{false});
  rig.handle(RcmInput{true});
  ASSERT_TRUE(rig.c.errors().has(ErrorFlag::RcmTripped));
  press(rig);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::RcmTripped));  // still faulty: stays latched
  rig.handle(RcmInput{false});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::RcmTripped));  // latched until acknowledged
  press(rig);
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::RcmTripped));
}

Settings socket_with_lock() {
  Settings s = rig_defaults();
  s.cable = CableConfig::Socket;
  s.lock = LockType::Solenoid;
  return s;
}

TEST(LockFeedback, NoContactorUntilTheLockReportsLocked) {
  ControllerRig rig(socket_with_lock());
  rig.cable = Amps{32};
  rig.handle(LockFeedback{false});
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{2});
  EXPECT_EQ(rig.out.lock, LockPosition::Locked);
  rig.car = PilotLevel::V6;
  rig.run_for(Seconds{5});
  EXPECT_EQ(rig.c.state(), ChargeState::B);
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_EQ(to_string(rig.status().limited_by), "lock");
  ASSERT_TRUE(rig.status().lock_locked.has_value());
  EXPECT_FALSE(*rig.status().lock_locked);
  rig.handle(LockFeedback{true});
  EXPECT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::C; }, Seconds{2}));
}

TEST(LockFeedback, ALockThatOpensWhileChargingStopsTheSession) {
  ControllerRig rig(socket_with_lock());
  rig.cable = Amps{32};
  rig.handle(LockFeedback{true});
  rig.plug_in_and_charge();
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  rig.handle(LockFeedback{false});
  EXPECT_FALSE(rig.out.contactor1);  // at once: the plug could be pulled under load
  EXPECT_FALSE(rig.out.contactor2);
  EXPECT_EQ(rig.c.state(), ChargeState::B1);
  EXPECT_EQ(rig.status().offered_current, DeciAmps{0});
  // Locked again: the session resumes once the car asks again (9 V, then 6 V).
  rig.handle(LockFeedback{true});
  rig.car = PilotLevel::V9;
  ASSERT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::B; }, Seconds{30}));
  rig.car = PilotLevel::V6;
  EXPECT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::C; }, Seconds{5}));
}

TEST(LockFeedback, ALockThatOpensWhileStoppingOpensTheContactorsAtOnce) {
  ControllerRig rig(socket_with_lock());
  rig.cable = Amps{32};
  rig.handle(LockFeedback{true});
  rig.plug_in_and_charge();
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Off);  // OFF: C1, the contactor stays closed until the car stops
  rig.apply(p);
  ASSERT_EQ(rig.c.state(), ChargeState::C1);
  ASSERT_TRUE(rig.out.contactor1);
  rig.handle(LockFeedback{false});
  EXPECT_FALSE(rig.out.contactor1);
}

TEST(LockFeedback, IgnoredWithoutALock) {
  ControllerRig rig;  // fixed cable, no lock
  rig.handle(LockFeedback{false});
  rig.plug_in_and_charge();
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  EXPECT_FALSE(rig.status().lock_locked.has_value());
}

}  // namespace
}  // namespace evsed::core
