// The worked examples E1..E26 of control-logic.md §3.9, one test each.
// Defaults: MaxMains 25, MaxCurrent 16, MinCurrent 6, MaxCircuit 16, StartCurrent 4,
// StopTime 10, ImportCurrent 0, fixed cable, standalone, C2 Always On, one EVSE in C
// past its solar start-up, a new measurement present.

#include <gtest/gtest.h>

#include <vector>

#include "controller_rig.hpp"
#include "evsed/core/balancing.hpp"
#include "evsed/core/pilot.hpp"

namespace evsed::core {
namespace {

struct Calc {
  Settings s;
  BalanceState state;
  std::vector<EvseSlot> slots;
  BalanceContext ctx;

  explicit Calc(ChargeMode mode = ChargeMode::Normal) {
    s.mode = mode;
    s.has_mains_meter = true;
    ctx.settings = &s;
    ctx.own_state_c = true;
    slots = {EvseSlot{true, DeciAmps{160}, DeciAmps{160}, false}};
  }
  void mains(int worst_phase_da, int sum_da) {
    ctx.grid.mains_worst_phase = DeciAmps{worst_phase_da};
    ctx.grid.mains_sum = DeciAmps{sum_da};
  }
  BalanceOutcome run(bool new_measurement = true, bool new_evse = false, std::int64_t solar_left = 0) {
    BalanceRequest req;
    req.new_measurement = new_measurement;
    req.new_evse = new_evse;
    req.solar_stop_left_s = solar_left;
    return calc_balanced_current(ctx, req, state, slots);
  }
  bool available() const { return is_current_available(ctx, slots); }
  int balanced(std::size_t n = 0) const { return slots[n].balanced.value(); }
};

TEST(WorkedExamples, E1_NormalOffersMaxCurrent) {
  Calc c;
  c.run(false);
  EXPECT_EQ(c.state.iset.value(), 160);
  EXPECT_EQ(c.balanced(), 160);
  EXPECT_EQ(duty_for_current(c.slots[0].balanced).value, 272);
}

TEST(WorkedExamples, E2_SocketCableOf13AmpsCapsTheCurrent) {
  Settings s = rig_defaults();
  s.cable = CableConfig::Socket;
  ControllerRig rig(s);
  rig.cable = Amps{13};
  rig.plug_in_and_charge();
  ASSERT_EQ(rig.c.state(), ChargeState::C);
  rig.run_for(Seconds{10});
  EXPECT_EQ(rig.status().charge_current.value(), 130);
  EXPECT_EQ(to_string(rig.status().limited_by), "cable");
}

TEST(WorkedExamples, E3_SmartWithOverrideCurrent80) {
  Settings s = rig_defaults();
  s.has_mains_meter = true;
  ControllerRig rig(s);
  rig.mains_base = {DeciAmps{20}, DeciAmps{20}, DeciAmps{20}};
  rig.feed_mains_automatically = true;
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Smart);
  p.set(Field::OverrideCurrent, 80);
  rig.feed_mains();
  rig.apply(p);
  rig.plug_in_and_charge();
  rig.run_for(Seconds{20});
  EXPECT_EQ(rig.status().charge_current.value(), 80);
  EXPECT_EQ(to_string(rig.status().limited_by), "override");
}

TEST(WorkedExamples, E4_NormalGridRelayOpenThreePhases) {
  Calc c;
  c.ctx.grid_relay_open = true;
  c.run(false);
  EXPECT_EQ(c.state.iset.value(), 60);
  EXPECT_EQ(c.balanced(), 60);
}

TEST(WorkedExamples, E5_SmartRisesByAQuarterOfTheHeadroom) {
  Calc c(ChargeMode::Smart);
  c.state.iset = DeciAmps{100};
  c.slots[0].balanced = DeciAmps{100};
  c.mains(230, 690);
  c.run();
  EXPECT_EQ(c.state.iset.value(), 105);
  EXPECT_EQ(c.balanced(), 105);
}

TEST(WorkedExamples, E6_SmartConvergesToMaxCurrent) {
  Calc c(ChargeMode::Smart);
  c.state.iset = DeciAmps{60};
  c.slots[0].balanced = DeciAmps{60};
  std::vector<int> seen;
  for (int i = 0; i < 5; ++i) {
    const int draw = c.balanced();
    c.mains(50 + draw, 3 * (50 + draw));
    c.run();
    seen.push_back(c.balanced());
  }
  EXPECT_EQ(seen, (std::vector<int>{95, 121, 140, 155, 160}));
}

TEST(WorkedExamples, E7_SmartDropsByTheWholeOvershoot) {
  Calc c(ChargeMode::Smart);
  c.state.iset = DeciAmps{160};
  c.mains(280, 840);
  c.run();
  EXPECT_EQ(c.state.iset.value(), 130);
  EXPECT_EQ(c.balanced(), 130);
}

TEST(WorkedExamples, E8_HardShortageRaisesLess6AOnTheThirdCycle) {
  Calc c(ChargeMode::Smart);
  c.state.iset = DeciAmps{60};
  c.slots[0].balanced = DeciAmps{60};
  c.mains(300, 900);
  auto o1 = c.run();
  EXPECT_EQ(c.state.iset.value(), 60);
  EXPECT_EQ(c.state.no_current, 1);
  EXPECT_FALSE(o1.raise_less_6a);
  auto o2 = c.run();
  EXPECT_EQ(c.state.no_current, 2);
  EXPECT_FALSE(o2.raise_less_6a);
  auto o3 = c.run();
  EXPECT_EQ(c.state.no_current, 3);
  EXPECT_TRUE(o3.raise_less_6a);
}

TEST(WorkedExamples, E9_SolarSurplusStepsUp) {
  for (auto [isum, expected] : {std::pair{-50, 65}, std::pair{-8, 61}}) {
    Calc c(ChargeMode::Solar);
    c.state.iset = DeciAmps{60};
    c.slots[0].balanced = DeciAmps{60};
    c.mains(20, isum);
    c.run();
    EXPECT_EQ(c.state.iset.value(), expected) << "Isum " << isum;
  }
}

TEST(WorkedExamples, E10_SolarImportStepsDown) {
  for (auto [isum, expected] : {std::pair{35, 63}, std::pair{15, 75}, std::pair{5, 79}, std::pair{3, 80}}) {
    Calc c(ChargeMode::Solar);
    c.state.iset = DeciAmps{80};
    c.slots[0].balanced = DeciAmps{80};
    c.mains(40, isum);
    c.run();
    EXPECT_EQ(c.state.iset.value(), expected) << "Isum " << isum;
  }
}

TEST(WorkedExamples, E11_SolarToleratedImport) {
  Calc c(ChargeMode::Solar);
  c.s.solar_max_import = Amps{3};
  c.state.iset = DeciAmps{80};
  c.slots[0].balanced = DeciAmps{80};
  c.mains(40, 25);
  c.run();
  EXPECT_EQ(c.state.iset.value(), 81);
}

TEST(WorkedExamples, E12_SolarShortageStartsTheStopTimer) {
  Calc c(ChargeMode::Solar);
  c.state.iset = DeciAmps{60};
  c.slots[0].balanced = DeciAmps{60};
  c.mains(60, 40);
  auto out = c.run();
  EXPECT_EQ(c.state.iset.value(), 60);
  ASSERT_EQ(out.solar_stop.kind, TimerChange::Kind::Start);
  EXPECT_EQ(out.solar_stop.duration, Seconds{600});
  EXPECT_EQ(out.solar_stop.purpose, TimerPurpose::StopCharging);
}

TEST(WorkedExamples, E13_SmallSolarShortageKeepsCharging) {
  Calc c(ChargeMode::Solar);
  c.state.iset = DeciAmps{60};
  c.slots[0].balanced = DeciAmps{60};
  c.mains(60, 15);
  auto out = c.run();
  EXPECT_EQ(c.balanced(), 60);
  EXPECT_EQ(out.solar_stop.kind, TimerChange::Kind::Clear);
}

TEST(WorkedExamples, E14_SolarStartUpPinsMinCurrent) {
  Calc c(ChargeMode::Solar);
  c.state.iset = DeciAmps{60};
  c.slots[0].balanced = DeciAmps{60};
  c.slots[0].solar_startup = true;
  c.mains(20, -50);
  c.run();
  EXPECT_EQ(c.balanced(), 60);
}

TEST(WorkedExamples, E15_SolarStartNeedsMoreExportThanStartCurrent) {
  Calc c(ChargeMode::Solar);
  c.slots[0].charging = false;
  c.mains(0, -40);
  EXPECT_FALSE(c.available());
  c.mains(0, -41);
  EXPECT_TRUE(c.available());
}

TEST(WorkedExamples, E16_SmartStartNeedsRoomForMinCurrent) {
  Calc c(ChargeMode::Smart);
  c.slots[0].charging = false;
  c.mains(191, 191);
  EXPECT_FALSE(c.available());
  c.mains(190, 190);
  EXPECT_TRUE(c.available());
}

TEST(WorkedExamples, E17_MasterNormalSharesMaxCircuit) {
  Calc c;
  c.ctx.role = Role::Master;
  c.s.max_circuit = Amps{32};
  c.slots = {EvseSlot{true, DeciAmps{0}, DeciAmps{160}, false}, EvseSlot{true, DeciAmps{0}, DeciAmps{100}, false},
             EvseSlot{true, DeciAmps{0}, DeciAmps{320}, false}};
  c.run(false);
  EXPECT_EQ(c.state.iset.value(), 320);
  EXPECT_EQ(c.balanced(0), 110);
  EXPECT_EQ(c.balanced(1), 100);
  EXPECT_EQ(c.balanced(2), 110);
}

TEST(WorkedExamples, E18_MasterNormalShortageKeepsCharging) {
  Calc c;
  c.ctx.role = Role::Master;
  c.s.max_circuit = Amps{10};
  c.slots = {EvseSlot{true, DeciAmps{60}, DeciAmps{160}, false}, EvseSlot{true, DeciAmps{60}, DeciAmps{160}, false}};
  auto out = c.run(false);
  EXPECT_EQ(c.balanced(0), 60);
  EXPECT_EQ(c.balanced(1), 60);
  EXPECT_EQ(c.state.no_current, 1);
  EXPECT_FALSE(out.raise_less_6a);
}

TEST(WorkedExamples, E19_MasterSmartSharesTheQuarterStep) {
  Calc c(ChargeMode::Smart);
  c.ctx.role = Role::Master;
  c.s.max_circuit = Amps{20};
  c.state.iset = DeciAmps{160};
  c.slots = {EvseSlot{true, DeciAmps{80}, DeciAmps{160}, false}, EvseSlot{true, DeciAmps{80}, DeciAmps{100}, false}};
  c.mains(220, 660);
  c.run();
  EXPECT_EQ(c.state.iset.value(), 167);
  EXPECT_EQ(c.balanced(0), 83);
  EXPECT_EQ(c.balanced(1), 84);
}

TEST(WorkedExamples, E20_MasterSmartNewEvseStartsFromTheBaseload) {
  Calc c(ChargeMode::Smart);
  c.ctx.role = Role::Master;
  c.s.max_circuit = Amps{40};
  c.slots = {EvseSlot{true, DeciAmps{100}, DeciAmps{160}, false}, EvseSlot{true, DeciAmps{0}, DeciAmps{160}, false}};
  c.mains(180, 540);
  c.run(true, true);
  EXPECT_EQ(c.state.iset.value(), 170);
  EXPECT_EQ(c.balanced(0), 85);
  EXPECT_EQ(c.balanced(1), 85);
}

TEST(WorkedExamples, E21_MaxSumMainsLimitsPerPhaseHeadroom) {
  Calc c(ChargeMode::Smart);
  c.ctx.max_sum_mains = Amps{30};
  c.state.iset = DeciAmps{100};
  c.slots[0].balanced = DeciAmps{100};
  c.mains(100, 250);
  c.run();
  EXPECT_EQ(c.state.iset.value(), 104);
}

TEST(WorkedExamples, E22_MaxSumMainsExceededWithoutShortage) {
  Calc c(ChargeMode::Smart);
  c.ctx.max_sum_mains = Amps{30};
  c.state.iset = DeciAmps{100};
  c.slots[0].balanced = DeciAmps{100};
  c.mains(100, 330);
  auto out = c.run();
  EXPECT_EQ(c.state.iset.value(), 90);
  EXPECT_EQ(out.max_sum_mains.kind, TimerChange::Kind::Clear);
  EXPECT_EQ(c.state.no_current, 0);
  EXPECT_FALSE(out.raise_less_6a);
}

TEST(WorkedExamples, E23_SolarAutoThreePhaseShortageHeadsForOnePhase) {
  for (auto [isum, seconds] : {std::pair{80, 30}, std::pair{30, 600}}) {
    Calc c(ChargeMode::Solar);
    c.s.enable_c2 = EnableC2::Auto;
    c.ctx.phases = 3;
    c.state.iset = DeciAmps{60};
    c.slots[0].balanced = DeciAmps{60};
    c.mains(60, isum);
    auto out = c.run();
    ASSERT_EQ(out.solar_stop.kind, TimerChange::Kind::Start) << "Isum " << isum;
    EXPECT_EQ(out.solar_stop.duration, Seconds{seconds});
    EXPECT_EQ(out.solar_stop.purpose, TimerPurpose::SwitchTo1P);
    EXPECT_FALSE(out.stop_for_phase_switch);
  }
  Calc c(ChargeMode::Solar);
  c.s.enable_c2 = EnableC2::Auto;
  c.state.iset = DeciAmps{60};
  c.slots[0].balanced = DeciAmps{60};
  c.mains(60, 80);
  auto out = c.run(true, false, 2);
  EXPECT_EQ(out.request_phases, 1);
  EXPECT_TRUE(out.stop_for_phase_switch);
}

TEST(WorkedExamples, E24_SolarAutoOnePhaseAtTheTopHeadsForThreePhases) {
  Calc c(ChargeMode::Solar);
  c.s.enable_c2 = EnableC2::Auto;
  c.ctx.phases = 1;
  c.ctx.single_phase_forced = true;
  c.state.iset = DeciAmps{160};
  c.mains(100, -60);
  auto out = c.run();
  ASSERT_EQ(out.solar_stop.kind, TimerChange::Kind::Start);
  EXPECT_EQ(out.solar_stop.duration, Seconds{63});
  EXPECT_EQ(out.solar_stop.purpose, TimerPurpose::SwitchTo3P);
  auto later = c.run(true, false, 3);
  EXPECT_EQ(later.request_phases, 3);
  EXPECT_TRUE(later.stop_for_phase_switch);
}

TEST(WorkedExamples, E25_SolarAutoPreselectsPhasesInStateB) {
  for (auto [isum, request] : {std::pair{-210, 0}, std::pair{-209, 1}}) {
    Calc c(ChargeMode::Solar);
    c.s.enable_c2 = EnableC2::Auto;
    c.ctx.phases = 3;
    c.ctx.own_state_b = true;
    c.ctx.own_state_c = false;
    c.slots[0].charging = false;
    c.mains(0, isum);
    auto out = c.run();
    EXPECT_EQ(out.request_phases, request) << "Isum " << isum;
  }
}

TEST(WorkedExamples, E26_MasterSolarTwoEvsesStopTimer) {
  for (auto [isum, timer] : {std::pair{30, 0}, std::pair{90, 600}}) {
    Calc c(ChargeMode::Solar);
    c.ctx.role = Role::Master;
    c.state.iset = DeciAmps{120};
    c.slots = {EvseSlot{true, DeciAmps{60}, DeciAmps{160}, false}, EvseSlot{true, DeciAmps{60}, DeciAmps{160}, false}};
    c.mains(120, isum);
    auto out = c.run();
    if (timer == 0) {
      EXPECT_EQ(out.solar_stop.kind, TimerChange::Kind::Clear) << "Isum " << isum;
    } else {
      ASSERT_EQ(out.solar_stop.kind, TimerChange::Kind::Start) << "Isum " << isum;
      EXPECT_EQ(out.solar_stop.duration, Seconds{timer});
    }
    EXPECT_EQ(c.balanced(0), 60);
    EXPECT_EQ(c.balanced(1), 60);
  }
}

}  // namespace
}  // namespace evsed::core
