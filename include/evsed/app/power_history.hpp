#pragma once
// The last 24 hours of mains power in 15-minute slots (GET /power_day): the
// highest power seen in each slot of the local day.

#include <array>
#include <optional>
#include <vector>

#include "evsed/core/schedule.hpp"
#include "evsed/station/commands.hpp"

namespace evsed::app {

class PowerHistory {
 public:
  static constexpr int kSlots = 96;

  void record(core::LocalTime when, int watts);
  // 96 slots, oldest first, starting with the slot after the current one.
  [[nodiscard]] std::vector<station::PowerSlot> last_day(core::LocalTime now) const;

 private:
  struct Slot {
    std::optional<std::chrono::local_days> day;
    int max_w = 0;
  };
  std::array<Slot, kSlots> slots_{};
};

}  // namespace evsed::app
