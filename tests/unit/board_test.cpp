// hw::Board: the order of writes, and what a failed write does to the rest.

#include <gtest/gtest.h>

#include <cerrno>

#include "evsed/hw/board.hpp"

namespace evsed::hw {
namespace {

struct RecordingOut final : DigitalOut {
  bool value = false;
  int writes = 0;
  HwResult set(bool active) override {
    ++writes;
    value = active;
    return std::nullopt;
  }
};

struct Pwm final : PilotPwm {
  bool fail = false;
  core::PwmDuty duty = core::kDutySteadyHigh;
  HwResult set_duty(core::PwmDuty d) override {
    if (fail) return HwError{"write duty_cycle", EIO};
    duty = d;
    return std::nullopt;
  }
};

core::Outputs charging() {
  core::Outputs o;
  o.duty = core::duty_for_current(core::DeciAmps{160});
  o.contactor1 = true;
  o.contactor2 = true;
  o.lock = core::LockPosition::Locked;
  return o;
}

struct Rig {
  Pwm pwm;
  RecordingOut c1, c2, lock;
  Board board{[this] {
    BoardIo io;
    io.pwm = &pwm;
    io.contactor1 = &c1;
    io.contactor2 = &c2;
    io.lock = &lock;
    return io;
  }()};
};

TEST(Board, NoContactorClosesWhenThePilotWriteFailed) {
  Rig r;
  ASSERT_FALSE(r.board.apply_all(core::kSafeOutputs));
  r.pwm.fail = true;
  EXPECT_TRUE(r.board.apply(charging()).has_value());
  EXPECT_FALSE(r.c1.value);
  EXPECT_FALSE(r.c2.value);
  r.pwm.fail = false;  // works again: the next write does everything
  EXPECT_FALSE(r.board.apply(charging()));
  EXPECT_TRUE(r.c1.value);
  EXPECT_EQ(r.pwm.duty, charging().duty);
}

TEST(Board, OpeningStillHappensWhenThePilotWriteFails) {
  Rig r;
  ASSERT_FALSE(r.board.apply_all(charging()));
  ASSERT_TRUE(r.c1.value);
  r.pwm.fail = true;
  EXPECT_TRUE(r.board.apply(core::kSafeOutputs).has_value());
  EXPECT_FALSE(r.c1.value);
  EXPECT_FALSE(r.c2.value);
}

TEST(Board, MakeSafeLeavesTheLockAlone) {
  Rig r;
  ASSERT_FALSE(r.board.apply_all(charging()));
  const int lock_writes = r.lock.writes;
  EXPECT_FALSE(r.board.make_safe());
  EXPECT_FALSE(r.c1.value);
  EXPECT_EQ(r.pwm.duty, core::kDutySteadyHigh);
  EXPECT_EQ(r.lock.writes, lock_writes);
  EXPECT_TRUE(r.lock.value);
}

}  // namespace
}  // namespace evsed::hw
