#pragma once
// What the controller wants the board to do. Always the whole desired state:
// the shell writes what differs from what it wrote last.

#include <cstdint>

#include "evsed/core/pilot.hpp"

namespace evsed::core {

enum class LockPosition : std::uint8_t { Unlocked, Locked };

struct Outputs {
  PwmDuty duty = kDutySteadyHigh;
  bool pilot_connected = true;  // false: CP driver disconnected (car sees state E)
  bool contactor1 = false;      // main contactor
  bool contactor2 = false;      // L2/L3 contactor for 1/3-phase switching
  LockPosition lock = LockPosition::Unlocked;
  friend bool operator==(const Outputs&, const Outputs&) = default;
};

// The fail-safe state: no current offered, both contactors open.
inline constexpr Outputs kSafeOutputs{};

}  // namespace evsed::core
