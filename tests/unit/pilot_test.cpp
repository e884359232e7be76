// Duty table of control-logic.md §1.1 and the pilot window classification.

#include <gtest/gtest.h>

#include "evsed/core/pilot.hpp"

namespace evsed::core {
namespace {

struct DutyRow {
  int deci_amps;
  int duty;
};

TEST(Duty, TableOfControlLogicSection1_1) {
  const DutyRow rows[] = {{0, 102},   {59, 102},  {60, 102},  {80, 136},  {100, 169},
                          {130, 221}, {160, 272}, {200, 340}, {250, 425}, {320, 545},
                          {400, 681}, {510, 870}, {511, 864}, {630, 913}, {800, 983}, {801, 102}};
  for (const auto& r : rows) {
    EXPECT_EQ(duty_for_current(DeciAmps{r.deci_amps}).value, r.duty) << r.deci_amps << " dA";
  }
}

TEST(Duty, CarReadsBackAboutTheOfferedCurrent) {
  for (int da = 60; da <= 800; da += 10) {
    const auto back = current_for_duty(duty_for_current(DeciAmps{da})).value();
    EXPECT_NEAR(back, da, 15) << da << " dA";
  }
  EXPECT_EQ(current_for_duty(kDutySteadyHigh).value(), 0);
  EXPECT_EQ(current_for_duty(kDutySteadyLow).value(), 0);
}

TEST(Pilot, SteadyLevels) {
  EXPECT_EQ(classify_pilot({12.0, 12.0}).level, PilotLevel::V12);
  EXPECT_EQ(classify_pilot({9.0, 9.0}).level, PilotLevel::V9);
  EXPECT_EQ(classify_pilot({6.0, 6.0}).level, PilotLevel::V6);
  EXPECT_EQ(classify_pilot({3.0, 3.0}).level, PilotLevel::V3);
  EXPECT_EQ(classify_pilot({0.0, 0.0}).level, PilotLevel::Short);
  EXPECT_FALSE(classify_pilot({9.0, 9.0}).diode_seen);
}

TEST(Pilot, ThresholdsAreInclusiveAtTheBottomOfEachBand) {
  using T = PilotThresholds;
  EXPECT_EQ(classify_pilot({T::kLevel12Min, T::kLevel12Min}).level, PilotLevel::V12);
  EXPECT_EQ(classify_pilot({T::kLevel12Min - 0.01, T::kLevel12Min - 0.01}).level, PilotLevel::V9);
  EXPECT_EQ(classify_pilot({T::kLevel9Min, T::kLevel9Min}).level, PilotLevel::V9);
  EXPECT_EQ(classify_pilot({T::kLevel6Min, T::kLevel6Min}).level, PilotLevel::V6);
  EXPECT_EQ(classify_pilot({T::kLevel3Min, T::kLevel3Min}).level, PilotLevel::V3);
  EXPECT_EQ(classify_pilot({T::kShortMin, T::kShortMin}).level, PilotLevel::Short);
}

TEST(Pilot, PwmWithDiodeShowsMinusTwelve) {
  const auto r = classify_pilot({-12.0, 9.0});
  EXPECT_EQ(r.level, PilotLevel::V9);
  EXPECT_TRUE(r.diode_seen);
  EXPECT_FALSE(r.diode_missing);
  EXPECT_TRUE(classify_pilot({-11.3, 6.0}).diode_seen);
}

TEST(Pilot, PwmWithoutDiodeLoadsTheNegativeHalf) {
  const auto r = classify_pilot({-9.0, 9.0});
  EXPECT_EQ(r.level, PilotLevel::V9);
  EXPECT_FALSE(r.diode_seen);
  EXPECT_TRUE(r.diode_missing);
}

TEST(Pilot, MixedOrOutOfRangeWindowsAreInvalid) {
  EXPECT_EQ(classify_pilot({6.0, 9.0}).level, PilotLevel::Invalid);    // level changed mid-window
  EXPECT_EQ(classify_pilot({-12.0, -12.0}).level, PilotLevel::Invalid);  // state F
  EXPECT_EQ(classify_pilot({-15.0, 9.0}).level, PilotLevel::Invalid);
  EXPECT_EQ(classify_pilot({9.0, 14.0}).level, PilotLevel::Invalid);
  EXPECT_EQ(classify_pilot({9.0, 6.0}).level, PilotLevel::Invalid);      // min above max
}

}  // namespace
}  // namespace evsed::core
