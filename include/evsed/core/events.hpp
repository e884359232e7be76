#pragma once
// Everything that can happen to the controller. Adapters turn the outside world
// into these; the controller turns them into Outputs.

#include <optional>
#include <string>
#include <variant>

#include "evsed/core/meter_reading.hpp"
#include "evsed/core/pilot.hpp"
#include "evsed/core/schedule.hpp"
#include "evsed/core/settings.hpp"

namespace evsed::core {

// One pilot sample window, every 10 ms.
struct PilotSample {
  PilotWindow window;
  // Proximity pilot: rating of the plugged cable (sockets); empty if unknown.
  std::optional<Amps> cable_rating;
};

// The 1 s housekeeping tick; carries the local wall-clock time for delayed charging.
struct HousekeepingTick {
  LocalTime local_now{};
};

// The regulation cycle (about every 2 s), as SmartEVSE's Modbus cycle.
struct ControlCycle {};

struct HomeBatteryReading {
  DeciAmps current{0};  // + = battery charging
  TimePoint taken_at{};
};

struct TemperatureReading {
  int celsius = 25;
};

struct RcmInput {
  bool fault = false;
};

// The external switch input changed, after debouncing (InputDebouncer):
// closed = contacts closed / button held.
struct SwitchInput {
  bool closed = false;
};

// The cable lock's position switch changed: whether the lock reports locked.
// Boards without a feedback line never send this.
struct LockFeedback {
  bool locked = false;
};

// A read or write to the board failed (or works again).
struct BoardFault {
  bool active = false;
  std::string what;
};

// Clears latched faults (RCM_TRIPPED) when their cause is gone: the external
// button of the firmware.
struct AcknowledgeFaults {};

// SIGTERM: open everything, offer nothing, stay there.
struct Shutdown {};

using Event = std::variant<PilotSample, HousekeepingTick, ControlCycle, MeterReading, HomeBatteryReading,
                           TemperatureReading, RcmInput, SwitchInput, LockFeedback, BoardFault, AcknowledgeFaults,
                           Shutdown>;

}  // namespace evsed::core
