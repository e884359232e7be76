#include "evsed/app/power_history.hpp"

#include <cstdio>

namespace evsed::app {

namespace {

int slot_of(core::LocalTime t) {
  const auto since_midnight = t - std::chrono::floor<std::chrono::days>(t);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(since_midnight).count() / 15);
}

}  // namespace

void PowerHistory::record(core::LocalTime when, int watts) {
  const auto day = std::chrono::floor<std::chrono::days>(when);
  Slot& s = slots_[static_cast<std::size_t>(slot_of(when))];
  if (s.day != day) {
    s.day = day;
    s.max_w = watts;
  } else if (watts > s.max_w) {
    s.max_w = watts;
  }
}

std::vector<station::PowerSlot> PowerHistory::last_day(core::LocalTime now) const {
  const auto today = std::chrono::floor<std::chrono::days>(now);
  const int current = slot_of(now);
  std::vector<station::PowerSlot> out;
  out.reserve(kSlots);
  for (int i = 1; i <= kSlots; ++i) {
    const int index = (current + i) % kSlots;
    // Slots after the current one belong to yesterday.
    const auto day = index > current ? today - std::chrono::days{1} : today;
    const Slot& s = slots_[static_cast<std::size_t>(index)];
    char label[8];
    std::snprintf(label, sizeof label, "%02d:%02d", index / 4, index % 4 * 15);
    out.push_back({label, s.day == day ? s.max_w : 0});
  }
  return out;
}

}  // namespace evsed::app
