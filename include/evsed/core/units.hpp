#pragma once
// Strong unit types. SmartEVSE mixes whole amperes (limits) and deci-amperes
// (measurements, offered current); keeping them apart in the type system makes
// a missing "* 10" a compile error instead of a 10x overcurrent.

#include <chrono>
#include <compare>
#include <cstdint>

namespace evsed::core {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Seconds = std::chrono::seconds;
using Minutes = std::chrono::minutes;
using Milliseconds = std::chrono::milliseconds;

// Current in units of 0.1 A, signed (+ import, - export on mains meters).
class DeciAmps {
 public:
  constexpr DeciAmps() = default;
  constexpr explicit DeciAmps(std::int32_t v) : value_(v) {}
  [[nodiscard]] constexpr std::int32_t value() const { return value_; }

  constexpr DeciAmps& operator+=(DeciAmps o) { value_ += o.value_; return *this; }
  constexpr DeciAmps& operator-=(DeciAmps o) { value_ -= o.value_; return *this; }
  friend constexpr DeciAmps operator+(DeciAmps a, DeciAmps b) { return DeciAmps{a.value_ + b.value_}; }
  friend constexpr DeciAmps operator-(DeciAmps a, DeciAmps b) { return DeciAmps{a.value_ - b.value_}; }
  friend constexpr DeciAmps operator-(DeciAmps a) { return DeciAmps{-a.value_}; }
  friend constexpr DeciAmps operator*(DeciAmps a, std::int32_t k) { return DeciAmps{a.value_ * k}; }
  friend constexpr DeciAmps operator*(std::int32_t k, DeciAmps a) { return DeciAmps{a.value_ * k}; }
  // Integer division truncating toward zero, as the firmware's C arithmetic does.
  friend constexpr DeciAmps operator/(DeciAmps a, std::int32_t k) { return DeciAmps{a.value_ / k}; }
  friend constexpr auto operator<=>(DeciAmps, DeciAmps) = default;

 private:
  std::int32_t value_ = 0;
};

// Whole amperes: installer limits and SmartEVSE "A" settings.
class Amps {
 public:
  constexpr Amps() = default;
  constexpr explicit Amps(std::int32_t v) : value_(v) {}
  [[nodiscard]] constexpr std::int32_t value() const { return value_; }
  [[nodiscard]] constexpr DeciAmps deci() const { return DeciAmps{value_ * 10}; }
  friend constexpr auto operator<=>(Amps, Amps) = default;

 private:
  std::int32_t value_ = 0;
};

struct Watts {
  std::int32_t value = 0;
  friend constexpr auto operator<=>(Watts, Watts) = default;
};

struct WattHours {
  std::int64_t value = 0;
  friend constexpr auto operator<=>(WattHours, WattHours) = default;
};

constexpr DeciAmps min(DeciAmps a, DeciAmps b) { return b < a ? b : a; }
constexpr DeciAmps max(DeciAmps a, DeciAmps b) { return a < b ? b : a; }

// Seconds left until a deadline, rounded up; 0 when passed.
constexpr std::int64_t seconds_left(TimePoint deadline, TimePoint now) {
  if (deadline <= now) return 0;
  auto left = std::chrono::ceil<Seconds>(deadline - now);
  return left.count();
}

}  // namespace evsed::core
