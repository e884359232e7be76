#include "evsed/core/schedule.hpp"

namespace evsed::core {

namespace {

// Same local time on the first following day that lies after `now`.
LocalTime next_occurrence(LocalTime t, LocalTime now) {
  while (t <= now) t += std::chrono::days{1};
  return t;
}

}  // namespace

ScheduleAction advance_schedule(DelayedCharging& d, LocalTime now) {
  ScheduleAction action = ScheduleAction::None;
  if (d.start) {
    if (now >= *d.start) {
      action = ScheduleAction::Start;
      d.start = d.repeat ? std::optional{next_occurrence(*d.start, now)} : std::nullopt;
    } else if (!d.stop || *d.stop > *d.start) {
      action = ScheduleAction::HoldOff;
    }
  }
  if (d.stop && now >= *d.stop) {
    action = ScheduleAction::Stop;
    d.stop = d.repeat ? std::optional{next_occurrence(*d.stop, now)} : std::nullopt;
  }
  if (!d.start && !d.stop) d.repeat = false;
  return action;
}

DelayedCharging apply_delayed_request(const DelayedCharging& current, const DelayedChargingRequest& req,
                                      LocalTime now) {
  if (!req.start_given) {
    // A mode change without a start time cancels the pending start only.
    DelayedCharging d = current;
    d.start.reset();
    return d;
  }
  DelayedCharging d;
  if (!req.start || *req.start <= now) return d;  // invalid or past: charge now
  d.start = req.start;
  if (req.stop_given && req.stop && *req.stop > now && *req.stop > *req.start) {
    d.stop = req.stop;
    if (req.repeat && (*req.repeat == 0 || *req.repeat == 1)) d.repeat = *req.repeat == 1;
  }
  return d;
}

}  // namespace evsed::core
