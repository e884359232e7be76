#pragma once
// The run-time settings users change (REST, MQTT, the dashboard): one row each,
// in SmartEVSE's processing order (interfaces.md §2.3). The controller applies a
// patch by walking this table; adapters map their own wire names onto `Field`;
// the configuration and the docs take ranges and units from here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "evsed/core/settings.hpp"

namespace evsed::core {

enum class Field : std::uint8_t {
  CurrentMin,
  CapacityMode,
  CapacityIntervals,
  MaxSumMains,
  MaxSumMainsTime,
  DisableOverrideCurrent,
  Mode,
  EnableC2,
  SolarStopTime,
  OverrideCurrent,
  SolarStartCurrent,
  SolarMaxImport,
  CableLock,
  OverridePwm,
};
inline constexpr std::size_t kFieldCount = 14;

// What a field's integer value means.
enum class FieldUnit : std::uint8_t {
  Amps,      // whole amperes
  DeciAmps,  // 0.1 A (SmartEVSE's current unit on the wire)
  Minutes,
  Choice,    // an enumeration: EnableC2, CapacityMode, ModeChoice
  Flag,      // 0 or 1
  Duty,      // pilot duty in 1/1024
  List,      // not an integer: the capacity intervals
};

struct FieldSpec {
  Field field;
  std::string_view name;  // canonical name: logs, docs, the settings file where the key is the same
  FieldUnit unit;
  IntRange range;          // allowed values (for Choice: the enum's numbering)
  bool zero_means_off;     // 0 is allowed besides the range
  bool persisted;          // kept in the state directory across restarts
  std::string_view summary;
};

inline constexpr std::array<FieldSpec, kFieldCount> kFields{{
    {Field::CurrentMin, "current_min", FieldUnit::Amps, ranges::kCurrentMin, false, true,
     "lowest current the car is offered (A per phase)"},
    {Field::CapacityMode, "capacity_mode", FieldUnit::Choice, {"capacity_mode", 0, 2}, false, true,
     "capacity tariff: 0 Disabled, 1 Fixed, 2 Interval"},
    {Field::CapacityIntervals, "intervals", FieldUnit::List, {"intervals", 0, 96}, false, true,
     "capacity-tariff schedule: [{start minute, power W}], up to 96 entries"},
    {Field::MaxSumMains, "current_max_sum_mains", FieldUnit::Amps, ranges::kMaxSumMains, true, true,
     "capacity limit: the sum of the three mains phases (A), 0 = off"},
    {Field::MaxSumMainsTime, "max_sum_mains_time", FieldUnit::Minutes, ranges::kMaxSumMainsTime, false, true,
     "minutes above the capacity limit before charging stops, 0 = at once"},
    {Field::DisableOverrideCurrent, "disable_override_current", FieldUnit::Flag, {"disable_override_current", 0, 1},
     false, false, "ends an override current"},
    {Field::Mode, "mode", FieldUnit::Choice, {"mode", 0, 4}, false, true,
     "Off, Normal, Smart, Solar or Pause, with an optional delayed start"},
    {Field::EnableC2, "enable_C2", FieldUnit::Choice, {"enable_C2", 0, 4}, false, true,
     "second contactor: Not present, Always Off, Solar Off, Always On, Auto"},
    {Field::SolarStopTime, "solar_stop_time", FieldUnit::Minutes, ranges::kSolarStopTime, false, true,
     "minutes without enough sun before a solar session stops"},
    {Field::OverrideCurrent, "override_current", FieldUnit::DeciAmps, {"override_current", 0, 800}, false, false,
     "a fixed charge current (dA, current_min..current_max), 0 = none; not in Solar"},
    {Field::SolarStartCurrent, "solar_start_current", FieldUnit::Amps, ranges::kSolarStartCurrent, false, true,
     "export (A, summed) needed before a solar session starts"},
    {Field::SolarMaxImport, "solar_max_import", FieldUnit::Amps, ranges::kSolarMaxImport, false, true,
     "import (A, summed) tolerated while solar charging"},
    {Field::CableLock, "cablelock", FieldUnit::Flag, {"cablelock", 0, 1}, false, true,
     "keep the socket locked also without a car"},
    {Field::OverridePwm, "override_pwm", FieldUnit::Duty, {"override_pwm", -1, 1024}, false, false,
     "expert: a lower pilot duty (1/1024); 0 disconnects the pilot, -1 ends the override"},
}};

constexpr const FieldSpec& spec(Field f) { return kFields[static_cast<std::size_t>(f)]; }

// What users choose on the front of a charger: SmartEVSE's mode buttons, which
// set access and mode together.
enum class ModeChoice : std::uint8_t { Off = 0, Normal = 1, Smart = 2, Solar = 3, Pause = 4 };
inline constexpr std::array<ModeChoice, 5> kModeChoices{ModeChoice::Off, ModeChoice::Normal, ModeChoice::Smart,
                                                        ModeChoice::Solar, ModeChoice::Pause};
// "Off", "Normal", "Smart", "Solar", "Pause" (MQTT /Mode, the dashboard's buttons).
std::string_view to_string(ModeChoice m);
std::optional<ModeChoice> mode_choice_from_name(std::string_view name);
std::vector<std::string_view> mode_choice_names();
// The choice in force: access decides Off and Pause, the mode the rest.
ModeChoice mode_choice(AccessStatus access, ChargeMode mode);

// A change of some fields, raw as an adapter parsed it; the controller checks
// every value against kFields and the settings' relations.
struct SettingsPatch {
  std::array<std::optional<std::int64_t>, kFieldCount> values{};
  std::vector<CapacityInterval> intervals;  // with Field::CapacityIntervals set (its value: the count)
  DelayedChargingRequest delayed;           // only used with Field::Mode
  LocalTime local_now{};                    // to judge a start time "in the future"

  void set(Field f, std::int64_t v) { values[static_cast<std::size_t>(f)] = v; }
  template <class E>
    requires std::is_enum_v<E>
  void set(Field f, E v) {
    set(f, static_cast<std::int64_t>(v));
  }
  void set_intervals(std::vector<CapacityInterval> list) {
    set(Field::CapacityIntervals, static_cast<std::int64_t>(list.size()));
    intervals = std::move(list);
  }
  [[nodiscard]] std::optional<std::int64_t> get(Field f) const { return values[static_cast<std::size_t>(f)]; }
  [[nodiscard]] bool has(Field f) const { return get(f).has_value(); }
  [[nodiscard]] bool empty() const {
    for (const auto& v : values) {
      if (v) return false;
    }
    return true;
  }
};

// The outcome of one field of a patch.
struct FieldResult {
  enum class Outcome : std::uint8_t {
    Applied,   // `value` is what is in force now, in the field's unit
    Rejected,  // out of range or against a relation: `reason`
    Ignored,   // valid but not applicable now (Solar without a mains meter, ...): `reason`
  };
  Field field{};
  Outcome outcome = Outcome::Applied;
  std::int64_t value = 0;
  std::string reason;
  [[nodiscard]] bool applied() const { return outcome == Outcome::Applied; }
};

}  // namespace evsed::core
