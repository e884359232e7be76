#pragma once
// What caps the offered current right now (shown in evsed's status, so users
// see why the car charges slower than they expect).

#include <cstdint>
#include <string_view>

namespace evsed::core {

enum class CurrentLimiter : std::uint8_t {
  None,          // nothing offered: no car, or not charging yet
  MaxCurrent,    // the EVSE's own current_max
  Cable,         // the plugged cable's rating (socket)
  Override,      // override_current set by a user
  MaxMains,      // MaxMains headroom (Smart/Solar regulation)
  MaxCircuit,    // MaxCircuit of the EVSE sub-circuit
  MaxSumMains,   // capacity tariff (sum of phases)
  GridRelay,     // grid operator relay open
  SolarSurplus,  // solar regulation
  MinCurrent,    // shortage: everyone held at current_min
  RateLimit,     // an increase waits for the 5 s between steps
  Access,        // access off / paused
  Schedule,      // delayed charging: waiting for the start time
  Temperature,   // TEMP_HIGH
  Error,         // any other error flag
  ChargeDelay,   // waiting out the charge delay after a stop
  Lock,          // the cable lock has not reported locked yet
  PwmOverride,   // the expert duty override signals less than the regulation offers
};

// "max_current", "cable", "max_mains", ...
std::string_view to_string(CurrentLimiter l);

}  // namespace evsed::core
