#pragma once
// Everything the controller is configured with: the installer's limits (config
// file) and the values users change at run time (persisted in the state dir).
// Ranges live here and nowhere else; config, REST and MQTT all validate through
// validate_settings() and the range table.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evsed/core/schedule.hpp"
#include "evsed/core/units.hpp"

namespace evsed::core {

enum class ChargeMode : std::uint8_t { Normal = 0, Smart = 1, Solar = 2 };
enum class AccessStatus : std::uint8_t { Off = 0, On = 1, Pause = 2 };
// CONTACT 2: how the second contactor (L2/L3) is used.
enum class EnableC2 : std::uint8_t { NotPresent = 0, AlwaysOff = 1, SolarOff = 2, AlwaysOn = 3, Auto = 4 };
enum class CableConfig : std::uint8_t { Socket = 0, Fixed = 1 };
enum class LockType : std::uint8_t { Disabled = 0, Solenoid = 1, Motor = 2 };
enum class CapacityMode : std::uint8_t { Disabled = 0, Fixed = 1, Interval = 2, Flanders = 3 };
// What the external switch input (SmartEVSE's SW terminal) does; "button" is
// momentary, "switch" keeps its position.
enum class SwitchFunction : std::uint8_t {
  Disabled = 0,          // a press while charging stops the session
  AccessButton = 1,      // press toggles access ON <-> OFF
  AccessSwitch = 2,      // closed = ON, open = OFF
  SmartSolarButton = 3,  // short press toggles Smart <-> Solar; long press stops charging
  SmartSolarSwitch = 4,  // closed = Smart, open = Solar
  GridRelay = 5,         // open contacts: the grid operator limits the site (18 A summed)
  CustomButton = 6,      // press toggles the custom flag clients read
  CustomSwitch = 7,      // closed = custom flag on
};

std::string_view to_string(ChargeMode m);      // "Normal", "Smart", "Solar"
std::string_view to_string(EnableC2 c);        // "Not present", "Always Off", ...
std::string_view to_string(CableConfig c);     // "Socket", "Fixed"
std::string_view to_string(LockType l);        // "Disabled", "Solenoid", "Motor"
std::string_view to_string(CapacityMode m);    // "Disabled", "Fixed", "Interval", "Flanders"
std::string_view to_string(SwitchFunction f);  // SmartEVSE's menu names: "Access B", "Sma-Sol S", ...
std::optional<EnableC2> enable_c2_from_name(std::string_view name);
// Every name of a vocabulary in order, for choices, menus and messages.
std::vector<std::string_view> enable_c2_names();
std::vector<std::string_view> cable_config_names();
std::vector<std::string_view> lock_type_names();
std::vector<std::string_view> switch_function_names();
// "a", "b" or c  ->  a, b, c  (quoted: "a", "b", "c")
std::string list_of(const std::vector<std::string_view>& names, bool quoted = false);
std::optional<CableConfig> cable_config_from_name(std::string_view name);
std::optional<LockType> lock_type_from_name(std::string_view name);
std::optional<SwitchFunction> switch_function_from_name(std::string_view name);

// One entry of a capacity-tariff interval schedule: from this minute of the
// local day on, the site may draw this much power.
struct CapacityInterval {
  int start_minute = 0;  // 0..1439
  int power_w = 0;
  friend bool operator==(const CapacityInterval&, const CapacityInterval&) = default;
};

struct Settings {
  // Installer settings (config file).
  CableConfig cable = CableConfig::Fixed;
  Amps min_current{6};
  Amps max_current{16};
  Amps max_mains{25};
  Amps max_circuit{16};
  int max_temp_c = 65;
  bool rcm_enabled = false;
  LockType lock = LockType::Disabled;
  SwitchFunction external_switch = SwitchFunction::Disabled;
  bool has_mains_meter = false;
  bool has_ev_meter = false;
  bool has_circuit_meter = false;
  Seconds mains_meter_timeout{11};
  Seconds ev_meter_timeout{64};
  Seconds circuit_meter_timeout{20};

  // Run-time settings (persisted).
  AccessStatus access = AccessStatus::On;
  ChargeMode mode = ChargeMode::Normal;
  EnableC2 enable_c2 = EnableC2::AlwaysOn;
  Amps solar_start_current{4};
  Minutes solar_stop_time{10};
  Amps solar_max_import{0};
  CapacityMode capacity_mode = CapacityMode::Disabled;
  Amps max_sum_mains{0};
  Minutes max_sum_mains_time{0};
  std::vector<CapacityInterval> capacity_intervals;
  bool cable_lock = false;
  DelayedCharging delayed;

  friend bool operator==(const Settings&, const Settings&) = default;
};

// Nominal phase voltage where a power has to become a current (capacity
// intervals, estimated energy): SmartEVSE's 230 V.
inline constexpr std::int32_t kNominalVolts = 230;
// SmartEVSE keeps 100 W below a capacity-interval power.
inline constexpr std::int32_t kCapacityMarginW = 100;

// Allowed range of an integer setting, with the name users see (config key,
// REST parameter).
struct IntRange {
  std::string_view name;
  int lo;
  int hi;
  [[nodiscard]] constexpr bool contains(int v) const { return v >= lo && v <= hi; }
};

namespace ranges {
inline constexpr IntRange kCurrentMin{"current_min", 6, 16};
inline constexpr IntRange kCurrentMax{"current_max", 6, 80};
inline constexpr IntRange kCurrentMain{"current_main", 10, 200};
inline constexpr IntRange kCurrentMaxCircuit{"current_max_circuit", 10, 160};
inline constexpr IntRange kMaxTemp{"max_temp", 40, 75};
inline constexpr IntRange kSolarStartCurrent{"solar_start_current", 0, 48};
inline constexpr IntRange kSolarStopTime{"solar_stop_time", 0, 60};
inline constexpr IntRange kSolarMaxImport{"solar_max_import", 0, 48};
inline constexpr IntRange kMaxSumMains{"current_max_sum_mains", 10, 600};  // or 0 = off
inline constexpr IntRange kMaxSumMainsTime{"max_sum_mains_time", 0, 60};
inline constexpr IntRange kIntervalStart{"intervals.start", 0, 1439};
inline constexpr IntRange kIntervalPower{"intervals.power", 0, 1000000};
inline constexpr IntRange kMeterTimeout{"timeout", 2, 3600};
}  // namespace ranges

// Why a value was refused: which setting, what was given, what is allowed.
struct SettingError {
  std::string key;
  std::string value;
  std::string allowed;
  [[nodiscard]] std::string message() const;
};

// Checks every field and the relations between them (current_min <= current_max).
std::optional<SettingError> validate_settings(const Settings& s);

// Checks a single integer against its range; 0 is accepted where `zero_means_off`.
std::optional<SettingError> check_range(const IntRange& r, long long value, bool zero_means_off = false);

// Override current: 0 (none) or current_min..current_max, in deci-amps.
std::optional<SettingError> check_override_current(const Settings& s, DeciAmps value);

// The installer's values of `installer` (the configuration) with the run-time
// values of `current`: what a configuration reload puts in force.
Settings with_installer_values(const Settings& current, const Settings& installer);

// Maximum summed mains current for the capacity tariff right now (0 = no limit).
// Fixed: the setting; Interval: the entry in force at this minute of the local
// day, (P - 100 W) / 230 V.
Amps effective_max_sum_mains(const Settings& s, LocalTime local_now);

}  // namespace evsed::core
