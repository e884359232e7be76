#pragma once
// The simulated charge point: board, car and site wired together. The car sees
// what the board drives; the site's mains meter sees what the car draws.

#include "evsed/core/meter_reading.hpp"
#include "evsed/hw/sim_board.hpp"
#include "evsed/sim/ev.hpp"
#include "evsed/sim/site.hpp"

namespace evsed::sim {

class World {
 public:
  explicit World(EvProfile car = {}) : car_(car), board_(car_) {}
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  [[nodiscard]] Ev& car() { return car_; }
  [[nodiscard]] Site& site() { return site_; }
  [[nodiscard]] hw::SimBoard& board() { return board_; }
  [[nodiscard]] const Ev& car() const { return car_; }
  [[nodiscard]] const Site& site() const { return site_; }

  // Advances car and site to `now` under the board's present outputs.
  void step(core::TimePoint now);

  // What a mains meter at the grid connection reads now.
  [[nodiscard]] core::MeterReading mains_reading(core::TimePoint now) const;
  // What an EV meter in the charger's supply reads now: the car's draw, and
  // its own energy count as the import register.
  [[nodiscard]] core::MeterReading ev_reading(core::TimePoint now) const;

 private:
  Ev car_;
  Site site_;
  hw::SimBoard board_;
};

}  // namespace evsed::sim
