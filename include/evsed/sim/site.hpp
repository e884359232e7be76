#pragma once
// A simulated site: house load per phase and solar production behind the grid
// connection. It produces what a mains meter would measure ("Sim" meter).

#include <array>
#include <optional>

#include "evsed/core/meter_reading.hpp"
#include "evsed/core/units.hpp"

namespace evsed::sim {

class Site {
 public:
  // House consumption per phase (+), without the car.
  void set_house_load(std::array<core::DeciAmps, 3> load) { house_ = load; }
  // Solar production, spread evenly over the three phases.
  void set_solar(core::DeciAmps total) { solar_ = total; }
  [[nodiscard]] std::array<core::DeciAmps, 3> house_load() const { return house_; }
  [[nodiscard]] core::DeciAmps solar() const { return solar_; }

  // Grid currents with the car drawing `ev`: + import, - export.
  [[nodiscard]] std::array<core::DeciAmps, 3> grid_currents(const std::array<core::DeciAmps, 3>& ev) const;

  // Integrates import and export energy up to `now`.
  void step(core::TimePoint now, const std::array<core::DeciAmps, 3>& ev);

  [[nodiscard]] core::MeterReading mains_reading(core::TimePoint now, const std::array<core::DeciAmps, 3>& ev) const;

 private:
  std::array<core::DeciAmps, 3> house_{core::DeciAmps{15}, core::DeciAmps{10}, core::DeciAmps{5}};
  core::DeciAmps solar_{0};
  std::optional<core::TimePoint> last_step_;
  double import_wh_ = 0.0;
  double export_wh_ = 0.0;
};

}  // namespace evsed::sim
