#pragma once
// The system's local wall-clock time (TZ, /etc/localtime), for delayed charging.

#include <cstdint>
#include <ctime>

#include "evsed/core/schedule.hpp"

namespace evsed::app {

core::LocalTime to_local(std::time_t t);
core::LocalTime local_now();
// Unix time of a local time; the earlier one where a DST change makes it
// ambiguous, the first valid minute after it where it does not exist.
std::int64_t to_epoch(core::LocalTime t);

}  // namespace evsed::app
