// Every transition of control-logic.md §2.2, the contactor rules of §2.4 and the
// timers of §2.3, driven through the controller with exact pilot windows.

#include <gtest/gtest.h>

#include "controller_rig.hpp"

namespace evsed::core {
namespace {

const char* name(ChargeState s) { return short_name(s).data(); }

#define EXPECT_STATE(rig, s) EXPECT_STREQ(name((rig).c.state()), name(s))
#define ASSERT_STATE(rig, s) ASSERT_STREQ(name((rig).c.state()), name(s))

TEST(StateMachine, StartsInAWithNothingOffered) {
  ControllerRig rig;
  rig.run_for(Seconds{2});
  EXPECT_STATE(rig, ChargeState::A);
  EXPECT_EQ(rig.out, kSafeOutputs);
  EXPECT_FALSE(rig.status().car_connected);
}

TEST(StateMachine, AToBOnNineVoltsThenPwmOnTheNextControlCycle) {
  ControllerRig rig;
  rig.run_for(Milliseconds{500});
  rig.car = PilotLevel::V9;
  rig.step();
  ASSERT_STATE(rig, ChargeState::B);
  EXPECT_EQ(rig.out.duty, kDutySteadyHigh);  // [D]: the PWM starts with the next cycle
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_TRUE(rig.status().car_connected);
  rig.run_for(Seconds{2});
  // Fixed cable, MaxCurrent not above the cable: the first offer is MinCurrent.
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{60}));
}

TEST(StateMachine, BToCNeedsSixVoltsForMoreThanHalfASecondAndTheDiode) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  ASSERT_NE(rig.out.duty, kDutySteadyHigh);
  EXPECT_TRUE(rig.status().diode_checked);
  rig.car = PilotLevel::V6;
  rig.run_for(Milliseconds{400});
  EXPECT_STATE(rig, ChargeState::B);
  EXPECT_FALSE(rig.out.contactor1);
  rig.run_for(Milliseconds{200});
  EXPECT_STATE(rig, ChargeState::C);
  EXPECT_TRUE(rig.out.contactor1);
  EXPECT_TRUE(rig.out.contactor2);
}

TEST(StateMachine, NineVoltsResetsTheSixVoltDebounce) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  rig.car = PilotLevel::V6;
  rig.run_for(Milliseconds{400});
  rig.car = PilotLevel::V9;
  rig.step();
  rig.car = PilotLevel::V6;
  rig.run_for(Milliseconds{400});
  EXPECT_STATE(rig, ChargeState::B);
  rig.run_for(Milliseconds{200});
  EXPECT_STATE(rig, ChargeState::C);
}

TEST(StateMachine, NoContactorWithoutTheCarsDiode) {
  ControllerRig rig;
  rig.diode = false;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  EXPECT_FALSE(rig.status().diode_checked);
  rig.car = PilotLevel::V6;
  rig.run_for(Seconds{2});
  EXPECT_STATE(rig, ChargeState::B1);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::DiodeFault));
  EXPECT_FALSE(rig.out.contactor1);
  // Only unplugging clears it.
  rig.run_for(Seconds{30});
  EXPECT_STATE(rig, ChargeState::B1);
  rig.car = PilotLevel::V12;
  rig.run_for(Seconds{6});
  EXPECT_STATE(rig, ChargeState::A);
  EXPECT_FALSE(rig.c.errors().any());
}

TEST(StateMachine, BToAOnTwelveVolts) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  rig.car = PilotLevel::V12;
  rig.step();
  EXPECT_STATE(rig, ChargeState::A);
  EXPECT_EQ(rig.out.duty, kDutySteadyHigh);
}

TEST(StateMachine, ThirtySecondsInBWithoutChargingSendsTheActivationPulse) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  const TimePoint plugged = rig.now;
  rig.run_for(Seconds{29});
  EXPECT_STATE(rig, ChargeState::B);
  ASSERT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::ActStart; }, Seconds{2}));
  EXPECT_GE(rig.now - plugged, Seconds{30});
  rig.step();
  EXPECT_EQ(rig.out.duty, kDutySteadyLow);
  rig.run_for(Milliseconds{2800});
  EXPECT_STATE(rig, ChargeState::ActStart);
  rig.run_for(Milliseconds{200});
  EXPECT_STATE(rig, ChargeState::B);
  EXPECT_NE(rig.out.duty, kDutySteadyLow);
  EXPECT_NE(rig.out.duty, kDutySteadyHigh);
  // Only once per plug-in.
  rig.run_for(Seconds{60});
  EXPECT_STATE(rig, ChargeState::B);
}

TEST(StateMachine, CToBWhenTheCarStopsRequesting) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  ASSERT_STATE(rig, ChargeState::C);
  rig.car = PilotLevel::V9;
  rig.step();
  EXPECT_STATE(rig, ChargeState::B);
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_FALSE(rig.out.contactor2);
  EXPECT_NE(rig.out.duty, kDutySteadyHigh);  // still offering
}

TEST(StateMachine, CToAOnUnplugOpensBothContactorsAtOnce) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.car = PilotLevel::V12;
  rig.step();
  EXPECT_STATE(rig, ChargeState::A);
  EXPECT_EQ(rig.out, kSafeOutputs);
}

TEST(StateMachine, ShortInCForHalfASecondGoesToB) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.car = PilotLevel::Short;
  rig.run_for(Milliseconds{400});
  EXPECT_STATE(rig, ChargeState::C);
  rig.run_for(Milliseconds{200});
  EXPECT_STATE(rig, ChargeState::B);
  EXPECT_FALSE(rig.out.contactor1);
}

TEST(StateMachine, VentilationRequestStopsTheCharge) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.car = PilotLevel::V3;
  rig.run_for(Milliseconds{400});
  EXPECT_STATE(rig, ChargeState::C);
  rig.run_for(Milliseconds{200});
  EXPECT_STATE(rig, ChargeState::C1);
  EXPECT_EQ(rig.out.duty, kDutySteadyHigh);
}

TEST(StateMachine, VentilationIsNeverGrantedFromB) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  rig.car = PilotLevel::V3;
  rig.run_for(Seconds{5});
  EXPECT_STATE(rig, ChargeState::B);
  EXPECT_FALSE(rig.out.contactor1);
}

TEST(StateMachine, AccessOffWhileChargingGoesThroughC1ToB1) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  SettingsPatch off;
  off.set(Field::Mode, ModeChoice::Off);
  rig.apply(off);
  EXPECT_STATE(rig, ChargeState::C1);
  EXPECT_EQ(rig.out.duty, kDutySteadyHigh);
  EXPECT_TRUE(rig.out.contactor1);  // the car gets time to stop
  rig.car = PilotLevel::V9;          // it does
  rig.step();
  EXPECT_STATE(rig, ChargeState::B1);
  EXPECT_FALSE(rig.out.contactor1);
  // Access OFF: the pilot stays connected in B1.
  EXPECT_TRUE(rig.out.pilot_connected);
  rig.run_for(Seconds{60});
  EXPECT_STATE(rig, ChargeState::B1);
}

TEST(StateMachine, C1OpensTheContactorsAfterSixSecondsIfTheCarKeepsDrawing) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  SettingsPatch pause;
  pause.set(Field::Mode, ModeChoice::Pause);
  rig.apply(pause);
  ASSERT_STATE(rig, ChargeState::C1);
  rig.run_for(Milliseconds{5900});
  EXPECT_TRUE(rig.out.contactor1);
  rig.run_for(Milliseconds{200});
  EXPECT_STATE(rig, ChargeState::B1);
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::Pause);
}

TEST(StateMachine, C1ToAOnUnplug) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  SettingsPatch off;
  off.set(Field::Mode, ModeChoice::Off);
  rig.apply(off);
  rig.car = PilotLevel::V12;
  rig.step();
  EXPECT_STATE(rig, ChargeState::A);
}

TEST(StateMachine, AccessOffInBGoesToB1AndBackOnResumes) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  SettingsPatch off;
  off.set(Field::Mode, ModeChoice::Off);
  rig.apply(off);
  EXPECT_STATE(rig, ChargeState::B1);
  SettingsPatch on;
  on.set(Field::Mode, ModeChoice::Normal);
  rig.apply(on);
  // B1 holds for its charge delay (3 s), then B again.
  rig.run_for(Seconds{4});
  EXPECT_STATE(rig, ChargeState::B);
}

TEST(StateMachine, PlugInWithAccessOffStaysInA) {
  ControllerRig rig;
  SettingsPatch off;
  off.set(Field::Mode, ModeChoice::Off);
  rig.apply(off);
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{5});
  EXPECT_STATE(rig, ChargeState::A);
  EXPECT_TRUE(rig.status().car_connected);
}

TEST(StateMachine, PlugInWhileAnErrorIsSetGoesToB1AndDisconnectsThePilot) {
  ControllerRig rig;
  rig.handle(TemperatureReading{70});
  rig.car = PilotLevel::V9;
  rig.step();
  ASSERT_STATE(rig, ChargeState::B1);
  EXPECT_FALSE(rig.out.pilot_connected);
  rig.run_for(Milliseconds{4900});
  EXPECT_FALSE(rig.out.pilot_connected);
  rig.run_for(Milliseconds{200});
  EXPECT_TRUE(rig.out.pilot_connected);
  EXPECT_STATE(rig, ChargeState::B1);
}

TEST(StateMachine, B1ToAOnUnplug) {
  ControllerRig rig;
  rig.handle(TemperatureReading{70});
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{6});
  ASSERT_STATE(rig, ChargeState::B1);
  rig.car = PilotLevel::V12;
  rig.step();
  EXPECT_STATE(rig, ChargeState::A);
}

TEST(StateMachine, B1ToBOnceTheErrorClearsAndTheDelayPasses) {
  ControllerRig rig;
  rig.handle(TemperatureReading{70});
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{6});
  ASSERT_STATE(rig, ChargeState::B1);
  rig.handle(TemperatureReading{50});
  rig.run_for(Seconds{2});
  EXPECT_STATE(rig, ChargeState::B);
}

TEST(StateMachine, InvalidPilotForOneSecondIsAFaultThatOpensTheContactor) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  ASSERT_STATE(rig, ChargeState::C);
  // A window with 9 V and 6 V plateaus mixed, over and over: a sensing fault.
  const TimePoint end = rig.now + Milliseconds{900};
  while (rig.now < end) {
    rig.take(rig.c.handle(PilotSample{{6.0, 9.0}, std::nullopt}, rig.now));
    rig.now += Milliseconds{10};
  }
  EXPECT_STATE(rig, ChargeState::C);  // debounced, still charging
  const TimePoint end2 = rig.now + Milliseconds{200};
  while (rig.now < end2) {
    rig.take(rig.c.handle(PilotSample{{6.0, 9.0}, std::nullopt}, rig.now));
    rig.now += Milliseconds{10};
  }
  EXPECT_STATE(rig, ChargeState::B1);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::PilotFault));
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_EQ(rig.out.duty, kDutySteadyHigh);
  // A good pilot for a second clears the fault; the car may start again.
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{8});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::PilotFault));
  EXPECT_STATE(rig, ChargeState::B);
}

TEST(StateMachine, SteadyMinusTwelveVoltsIsStateFAndAFault) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{3});
  for (int i = 0; i < 120; ++i) {
    rig.take(rig.c.handle(PilotSample{{-12.0, -12.0}, std::nullopt}, rig.now));
    rig.now += Milliseconds{10};
  }
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::PilotFault));
  EXPECT_STATE(rig, ChargeState::B1);
}

TEST(StateMachine, RcmTripOpensTheContactorAndNeedsAnAcknowledge) {
  Settings s = rig_defaults();
  s.rcm_enabled = true;
  ControllerRig rig(s);
  rig.plug_in_and_charge();
  rig.handle(RcmInput{true});
  EXPECT_STATE(rig, ChargeState::B1);
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::RcmTripped));
  rig.handle(AcknowledgeFaults{});  // input still active: stays tripped
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::RcmTripped));
  rig.handle(RcmInput{false});
  rig.run_for(Seconds{10});
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::RcmTripped));  // latched
  rig.handle(AcknowledgeFaults{});
  EXPECT_FALSE(rig.c.errors().has(ErrorFlag::RcmTripped));
  rig.car = PilotLevel::V9;  // without PWM the car waits in B
  rig.run_for(Seconds{8});
  EXPECT_STATE(rig, ChargeState::B);
  rig.car = PilotLevel::V6;
  rig.run_for(Seconds{2});
  EXPECT_STATE(rig, ChargeState::C);
}

TEST(StateMachine, RcmInputIgnoredWhenMonitoringIsOff) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.handle(RcmInput{true});
  EXPECT_STATE(rig, ChargeState::C);
}

TEST(StateMachine, BoardFaultOpensTheContactorImmediately) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.handle(BoardFault{true, "pwm write failed"});
  EXPECT_STATE(rig, ChargeState::B1);
  EXPECT_FALSE(rig.out.contactor1);
  EXPECT_TRUE(rig.c.errors().has(ErrorFlag::HardwareFault));
  rig.run_for(Seconds{10});
  EXPECT_STATE(rig, ChargeState::B1);
  rig.handle(BoardFault{false, ""});
  rig.car = PilotLevel::V9;
  rig.run_for(Seconds{8});
  rig.car = PilotLevel::V6;
  rig.run_for(Seconds{2});
  EXPECT_STATE(rig, ChargeState::C);
}

TEST(StateMachine, ShutdownLeavesTheSafeStateForGood) {
  ControllerRig rig;
  rig.plug_in_and_charge();
  rig.handle(Shutdown{});
  EXPECT_EQ(rig.out, kSafeOutputs);
  rig.run_for(Seconds{5});
  EXPECT_EQ(rig.out, kSafeOutputs);
  EXPECT_EQ(rig.c.outputs(), kSafeOutputs);
}

TEST(StateMachine, OfferIncreasesAtMostEveryFiveSecondsButDecreasesAtOnce) {
  ControllerRig rig;
  rig.car = PilotLevel::V9;
  ASSERT_TRUE(rig.run_until([&] { return rig.out.duty != kDutySteadyHigh; }, Seconds{3}));
  const TimePoint pwm_start = rig.now;
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{60}));
  rig.car = PilotLevel::V6;
  ASSERT_TRUE(rig.run_until([&] { return rig.c.state() == ChargeState::C; }, Seconds{1}));
  // In C the increase to 16 A waits for 5 s since the PWM started, then comes with
  // the next control cycle.
  ASSERT_TRUE(rig.run_until([&] { return rig.out.duty == duty_for_current(DeciAmps{160}); }, Seconds{10}));
  EXPECT_GE(rig.now - pwm_start, Seconds{5});
  EXPECT_LE(rig.now - pwm_start, Seconds{7});
  SettingsPatch lower;
  lower.set(Field::OverrideCurrent, 80);
  rig.apply(lower);
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{80}));  // immediately
  SettingsPatch higher;
  higher.set(Field::OverrideCurrent, 120);
  rig.apply(higher);
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{80}));  // not yet
  EXPECT_EQ(to_string(rig.status().limited_by), "rate_limit");
  rig.run_for(Seconds{4});
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{80}));
  rig.run_for(Seconds{2});
  EXPECT_EQ(rig.out.duty, duty_for_current(DeciAmps{120}));
}

TEST(StateMachine, SocketLocksWhileConnected) {
  Settings s = rig_defaults();
  s.cable = CableConfig::Socket;
  s.lock = LockType::Solenoid;
  ControllerRig rig(s);
  rig.cable = Amps{32};
  EXPECT_EQ(rig.out.lock, LockPosition::Unlocked);
  rig.plug_in_and_charge();
  EXPECT_EQ(rig.out.lock, LockPosition::Locked);
  rig.car = PilotLevel::V12;
  rig.step();
  EXPECT_EQ(rig.out.lock, LockPosition::Unlocked);
}

}  // namespace
}  // namespace evsed::core

namespace evsed::core {
namespace {

TEST(EvMeter, SessionEnergyIsLatchedWhenChargingStarts) {
  Settings s = rig_defaults();
  s.has_ev_meter = true;
  ControllerRig rig(s);
  auto feed_ev = [&](std::int64_t import_wh) {
    MeterReading r;
    r.role = MeterRole::Ev;
    r.import_energy = WattHours{import_wh};
    r.export_energy = WattHours{0};
    r.taken_at = rig.now;
    rig.handle(r);
  };
  feed_ev(10'000);
  EXPECT_FALSE(rig.status().ev_session_energy.has_value());
  rig.plug_in_and_charge();
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  feed_ev(10'000);
  EXPECT_EQ(rig.status().ev_session_energy->value, 0);
  feed_ev(12'500);
  EXPECT_EQ(rig.status().ev_session_energy->value, 2'500);
  // The next session starts from the meter's reading at its own B->C.
  rig.car = PilotLevel::V12;
  rig.run_for(Seconds{2});
  feed_ev(13'000);
  rig.plug_in_and_charge();
  feed_ev(13'400);
  EXPECT_EQ(rig.status().ev_session_energy->value, 400);
}

}  // namespace
}  // namespace evsed::core
