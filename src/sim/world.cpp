#include "evsed/sim/world.hpp"

#include "evsed/core/settings.hpp"

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

core::MeterReading World::ev_reading(core::TimePoint now) const {
  core::MeterReading r;
  r.role = core::MeterRole::Ev;
  r.currents = car_.draw();
  std::int32_t deci = 0;
  for (auto a : r.currents) deci += a.value();
  r.power = core::Watts{deci * core::kNominalVolts / 10};
  r.import_energy = car_.energy();
  r.export_energy = core::WattHours{0};
  r.taken_at = now;
  return r;
}

}  // namespace evsed::sim
