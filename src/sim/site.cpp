#include "evsed/sim/site.hpp"

namespace evsed::sim {

namespace {
constexpr double kVolts = 230.0;
}

std::array<core::DeciAmps, 3> Site::grid_currents(const std::array<core::DeciAmps, 3>& ev) const {
  std::array<core::DeciAmps, 3> grid{};
  for (std::size_t i = 0; i < 3; ++i) {
    // Spread the production evenly; the rounding remainder goes to L1.
    core::DeciAmps share = solar_ / 3;
    if (i == 0) share += solar_ - (solar_ / 3) * 3;
    grid[i] = house_[i] + ev[i] - share;
  }
  return grid;
}

void Site::step(core::TimePoint now, const std::array<core::DeciAmps, 3>& ev) {
  if (last_step_) {
    const double hours = std::chrono::duration<double>(now - *last_step_).count() / 3600.0;
    for (auto i : grid_currents(ev)) {
      const double wh = i.value() / 10.0 * kVolts * hours;
      if (wh > 0) {
        import_wh_ += wh;
      } else {
        export_wh_ -= wh;
      }
    }
  }
  last_step_ = now;
}

core::MeterReading Site::mains_reading(core::TimePoint now, const std::array<core::DeciAmps, 3>& ev) const {
  core::MeterReading r;
  r.role = core::MeterRole::Mains;
  r.currents = grid_currents(ev);
  std::int32_t watts = 0;
  for (auto i : r.currents) watts += static_cast<std::int32_t>(i.value() * kVolts / 10.0);
  r.power = core::Watts{watts};
  r.import_energy = core::WattHours{static_cast<std::int64_t>(import_wh_)};
  r.export_energy = core::WattHours{static_cast<std::int64_t>(export_wh_)};
  r.taken_at = now;
  return r;
}

}  // namespace evsed::sim
