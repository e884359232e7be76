#pragma once
// One reading of an energy meter, stamped with the time it was taken. A reading
// is what the meter said then; how old it is decides what it may be used for.

#include <array>
#include <cstdint>
#include <optional>

#include "evsed/core/units.hpp"

namespace evsed::core {

enum class MeterRole : std::uint8_t {
  Mains,    // grid connection (MaxMains, Smart, Solar)
  Ev,       // the charger's own meter (energy per session)
  Circuit,  // the EVSE sub-circuit (MaxCircuit)
};

struct MeterReading {
  MeterRole role = MeterRole::Mains;
  std::array<DeciAmps, 3> currents{};  // L1..L3, + = import
  std::optional<Watts> power;
  std::optional<WattHours> import_energy;
  std::optional<WattHours> export_energy;
  TimePoint taken_at{};
  friend bool operator==(const MeterReading&, const MeterReading&) = default;
};

// Plausibility of a reading from any source (the firmware's API range, 200 A).
inline constexpr DeciAmps kMaxMeterCurrent{2000};

bool plausible(const MeterReading& r);

}  // namespace evsed::core
