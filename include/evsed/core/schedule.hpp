#pragma once
// Delayed charging (SmartEVSE starttime / stoptime / repeat). Times are local
// wall-clock times and are compared as such, so "every day at 23:00" stays at
// 23:00 across midnight and daylight-saving changes.

#include <chrono>
#include <optional>

namespace evsed::core {

using LocalTime = std::chrono::local_seconds;

struct DelayedCharging {
  std::optional<LocalTime> start;
  std::optional<LocalTime> stop;
  bool repeat = false;
  friend bool operator==(const DelayedCharging&, const DelayedCharging&) = default;
};

enum class ScheduleAction {
  None,
  HoldOff,  // a start lies ahead: access stays off
  Start,    // the start time passed: access on
  Stop,     // the stop time passed: access off
};

// Advances the schedule to `now`: passed times are cleared, or moved to the same
// local time on the next day when repeating.
ScheduleAction advance_schedule(DelayedCharging& d, LocalTime now);

// Request from a user (REST mode=…&starttime=…), validated against `now`:
// a start must lie in the future or everything is cleared; a stop is kept only
// after a valid start and later than it; repeat only together with a stop.
struct DelayedChargingRequest {
  bool start_given = false;
  std::optional<LocalTime> start;  // empty while start_given: unparsable
  bool stop_given = false;
  std::optional<LocalTime> stop;
  std::optional<int> repeat;
};

DelayedCharging apply_delayed_request(const DelayedCharging& current, const DelayedChargingRequest& req,
                                      LocalTime now);

}  // namespace evsed::core
