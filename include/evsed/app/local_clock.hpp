#pragma once
// The system's local wall-clock time (TZ, /etc/localtime), for delayed charging
// and the power history.

#include <cstdint>
#include <ctime>
#include <string>

#include "evsed/core/schedule.hpp"
#include "evsed/core/units.hpp"

namespace evsed::app {

core::LocalTime to_local(std::time_t t);
core::LocalTime local_now();
// Unix time of a local time; the earlier one where a DST change makes it
// ambiguous, the first valid minute after it where it does not exist.
std::int64_t to_epoch(core::LocalTime t);

// "YYYY-MM-DDTHH:MM:SS" (or without the seconds), as the settings file and messages show it.
std::string format_local(core::LocalTime t, bool with_seconds = true);

// The same, as an object the Station is given (tests give it a fixed one).
class LocalClock {
 public:
  virtual ~LocalClock() = default;
  [[nodiscard]] virtual core::LocalTime now() const = 0;
  [[nodiscard]] virtual std::int64_t epoch_of(core::LocalTime t) const = 0;
  [[nodiscard]] virtual std::int64_t epoch_now() const = 0;
  // False for a local time a daylight-saving change skips.
  [[nodiscard]] bool exists(core::LocalTime t) const;
  [[nodiscard]] virtual core::LocalTime local_of(std::int64_t epoch) const = 0;
  // The monotonic clock the controller runs on.
  [[nodiscard]] virtual core::TimePoint steady() const { return core::Clock::now(); }
};

class SystemClock final : public LocalClock {
 public:
  [[nodiscard]] core::LocalTime now() const override { return local_now(); }
  [[nodiscard]] std::int64_t epoch_of(core::LocalTime t) const override { return to_epoch(t); }
  [[nodiscard]] std::int64_t epoch_now() const override { return static_cast<std::int64_t>(std::time(nullptr)); }
  [[nodiscard]] core::LocalTime local_of(std::int64_t epoch) const override {
    return to_local(static_cast<std::time_t>(epoch));
  }
};

}  // namespace evsed::app
