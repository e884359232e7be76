#pragma once
// A clock the test sets: local time is UTC plus an offset, and one local hour
// can be declared skipped (a daylight-saving gap), as mktime treats it.

#include <chrono>
#include <optional>

#include "evsed/app/local_clock.hpp"

namespace evsed::app {

class FixedClock final : public LocalClock {
 public:
  core::LocalTime local = core::LocalTime{std::chrono::seconds{1'800'000'000}};
  core::TimePoint steady_now = core::TimePoint{} + std::chrono::hours{10};
  std::optional<core::LocalTime> gap_start;  // [gap_start, gap_start + 1 h) does not exist

  [[nodiscard]] core::LocalTime now() const override { return local; }
  [[nodiscard]] std::int64_t epoch_of(core::LocalTime t) const override {
    if (gap_start && t >= *gap_start && t < *gap_start + std::chrono::hours{1}) t += std::chrono::hours{1};
    return t.time_since_epoch().count();
  }
  [[nodiscard]] std::int64_t epoch_now() const override { return epoch_of(local); }
  [[nodiscard]] core::LocalTime local_of(std::int64_t epoch) const override {
    return core::LocalTime{std::chrono::seconds{epoch}};
  }
  [[nodiscard]] core::TimePoint steady() const override { return steady_now; }
};

}  // namespace evsed::app
