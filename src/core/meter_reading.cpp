#include "evsed/core/meter_reading.hpp"

namespace evsed::core {

bool plausible(const MeterReading& r) {
  for (auto c : r.currents) {
    if (c > kMaxMeterCurrent || c < -kMaxMeterCurrent) return false;
  }
  if (r.import_energy && r.import_energy->value < 0) return false;
  if (r.export_energy && r.export_energy->value < 0) return false;
  return true;
}

}  // namespace evsed::core
