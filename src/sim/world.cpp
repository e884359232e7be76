#include "evsed/sim/world.hpp"

namespace evsed::sim {

void World::step(core::TimePoint now) {
  Supply supply;
  supply.duty = board_.duty();
  supply.pilot_connected = board_.pilot_connected();
  supply.l1 = board_.contactor1();
  supply.l23 = board_.contactor1() && board_.contactor2();
  car_.step(now, supply);
  site_.step(now, car_.draw());
}

core::MeterReading World::mains_reading(core::TimePoint now) const { return site_.mains_reading(now, car_.draw()); }

}  // namespace evsed::sim
