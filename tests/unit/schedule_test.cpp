// Delayed charging (control-logic.md §6.1) in local time: requests, daily repeat,
// midnight and daylight-saving changes.

#include <gtest/gtest.h>

#include "controller_rig.hpp"
#include "evsed/core/schedule.hpp"

namespace evsed::core {
namespace {

DelayedChargingRequest request(std::optional<LocalTime> start, std::optional<LocalTime> stop = std::nullopt,
                               std::optional<int> repeat = std::nullopt) {
  DelayedChargingRequest r;
  r.start_given = true;
  r.start = start;
  r.stop_given = stop.has_value();
  r.stop = stop;
  r.repeat = repeat;
  return r;
}

TEST(DelayedRequest, FutureStartIsArmed) {
  const LocalTime now = local_time(2026, 5, 1, 12, 0);
  auto d = apply_delayed_request({}, request(local_time(2026, 5, 1, 22, 0)), now);
  ASSERT_TRUE(d.start);
  EXPECT_EQ(*d.start, local_time(2026, 5, 1, 22, 0));
  EXPECT_FALSE(d.stop);
}

TEST(DelayedRequest, PastOrUnparsableStartClearsEverything) {
  const LocalTime now = local_time(2026, 5, 1, 12, 0);
  DelayedCharging armed{local_time(2026, 5, 1, 22, 0), local_time(2026, 5, 2, 6, 0), true};
  EXPECT_EQ(apply_delayed_request(armed, request(local_time(2026, 5, 1, 11, 0)), now), DelayedCharging{});
  EXPECT_EQ(apply_delayed_request(armed, request(std::nullopt), now), DelayedCharging{});
}

TEST(DelayedRequest, StopMustFollowTheStartAndRepeatNeedsAStop) {
  const LocalTime now = local_time(2026, 5, 1, 12, 0);
  auto bad = apply_delayed_request({}, request(local_time(2026, 5, 1, 22, 0), local_time(2026, 5, 1, 21, 0), 1), now);
  EXPECT_TRUE(bad.start);
  EXPECT_FALSE(bad.stop);
  EXPECT_FALSE(bad.repeat);
  auto good = apply_delayed_request({}, request(local_time(2026, 5, 1, 22, 0), local_time(2026, 5, 2, 6, 0), 1), now);
  ASSERT_TRUE(good.stop);
  EXPECT_TRUE(good.repeat);
  auto odd_repeat =
      apply_delayed_request({}, request(local_time(2026, 5, 1, 22, 0), local_time(2026, 5, 2, 6, 0), 7), now);
  EXPECT_FALSE(odd_repeat.repeat);
}

TEST(DelayedRequest, ModeWithoutStartCancelsOnlyTheStart) {
  DelayedCharging armed{local_time(2026, 5, 1, 22, 0), local_time(2026, 5, 2, 6, 0), true};
  auto d = apply_delayed_request(armed, DelayedChargingRequest{}, local_time(2026, 5, 1, 12, 0));
  EXPECT_FALSE(d.start);
  EXPECT_TRUE(d.stop);
  EXPECT_TRUE(d.repeat);
}

TEST(DelayedSchedule, RepeatsAcrossMidnight) {
  DelayedCharging d{local_time(2026, 5, 1, 23, 30), local_time(2026, 5, 2, 0, 30), true};
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 1, 23, 0)), ScheduleAction::HoldOff);
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 1, 23, 30)), ScheduleAction::Start);
  EXPECT_EQ(*d.start, local_time(2026, 5, 2, 23, 30));
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 1, 23, 59, 59)), ScheduleAction::None);
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 2, 0, 30)), ScheduleAction::Stop);
  EXPECT_EQ(*d.stop, local_time(2026, 5, 3, 0, 30));
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 2, 12, 0)), ScheduleAction::HoldOff);
}

TEST(DelayedSchedule, WithoutRepeatEverythingIsUsedOnce) {
  DelayedCharging d{local_time(2026, 5, 1, 23, 30), local_time(2026, 5, 2, 0, 30), false};
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 1, 23, 31)), ScheduleAction::Start);
  EXPECT_FALSE(d.start);
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 2, 0, 31)), ScheduleAction::Stop);
  EXPECT_EQ(d, DelayedCharging{});
  EXPECT_EQ(advance_schedule(d, local_time(2026, 5, 3, 0, 31)), ScheduleAction::None);
}

// Europe: on 2026-03-29 local time jumps from 02:00 to 03:00.
TEST(DelayedSchedule, SpringForwardStartsAtTheFirstExistingMinute) {
  DelayedCharging d{local_time(2026, 3, 29, 2, 30), std::nullopt, false};
  EXPECT_EQ(advance_schedule(d, local_time(2026, 3, 29, 1, 59, 59)), ScheduleAction::HoldOff);
  EXPECT_EQ(advance_schedule(d, local_time(2026, 3, 29, 3, 0, 0)), ScheduleAction::Start);
}

TEST(DelayedSchedule, RepeatKeepsTheWallClockTimeAcrossDst) {
  // 22:00 every day, across the night of the spring change: still 22:00 the day after.
  DelayedCharging d{local_time(2026, 3, 28, 22, 0), local_time(2026, 3, 29, 6, 0), true};
  EXPECT_EQ(advance_schedule(d, local_time(2026, 3, 28, 22, 0)), ScheduleAction::Start);
  EXPECT_EQ(*d.start, local_time(2026, 3, 29, 22, 0));
  EXPECT_EQ(advance_schedule(d, local_time(2026, 3, 29, 6, 0)), ScheduleAction::Stop);
  EXPECT_EQ(*d.stop, local_time(2026, 3, 30, 6, 0));
}

// On 2026-10-25 local time runs 02:00..02:59 twice.
TEST(DelayedSchedule, FallBackDoesNotStartTwice) {
  DelayedCharging d{local_time(2026, 10, 25, 2, 30), local_time(2026, 10, 25, 5, 0), true};
  EXPECT_EQ(advance_schedule(d, local_time(2026, 10, 25, 2, 30)), ScheduleAction::Start);
  // The clock goes back to 02:00 and passes 02:30 again: nothing new happens.
  EXPECT_EQ(advance_schedule(d, local_time(2026, 10, 25, 2, 0)), ScheduleAction::None);
  EXPECT_EQ(advance_schedule(d, local_time(2026, 10, 25, 2, 31)), ScheduleAction::None);
  EXPECT_EQ(*d.start, local_time(2026, 10, 26, 2, 30));
}

TEST(DelayedCharging, ControllerWaitsForTheStartAndStopsAtTheStop) {
  ControllerRig rig;
  rig.local = local_time(2026, 5, 1, 21, 59, 0);
  rig.car = PilotLevel::V9;
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Normal);
  p.delayed = request(local_time(2026, 5, 1, 22, 0), local_time(2026, 5, 1, 22, 2));
  auto r = rig.apply(p);
  EXPECT_EQ(rig.c.settings().access, AccessStatus::Off);
  rig.run_for(Seconds{30});
  EXPECT_EQ(rig.c.state(), ChargeState::A);
  EXPECT_EQ(to_string(rig.status().limited_by), "schedule");
  rig.run_for(Seconds{35});
  EXPECT_EQ(rig.c.settings().access, AccessStatus::On);
  EXPECT_EQ(rig.c.state(), ChargeState::B);
  rig.car = PilotLevel::V6;
  rig.run_for(Seconds{5});
  EXPECT_EQ(rig.c.state(), ChargeState::C);
  rig.run_for(Minutes{2});
  EXPECT_EQ(rig.c.settings().access, AccessStatus::Off);
  EXPECT_NE(rig.c.state(), ChargeState::C);
  EXPECT_FALSE(rig.c.settings().delayed.start);
  EXPECT_FALSE(rig.c.settings().delayed.stop);
}

}  // namespace
}  // namespace evsed::core
