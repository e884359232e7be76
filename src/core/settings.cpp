#include "evsed/core/settings.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace evsed::core {

namespace {

constexpr std::array<std::string_view, 5> kEnableC2Names{"Not present", "Always Off", "Solar Off", "Always On",
                                                         "Auto"};
constexpr std::array<std::string_view, 2> kCableNames{"Socket", "Fixed"};
constexpr std::array<std::string_view, 3> kLockNames{"Disabled", "Solenoid", "Motor"};
constexpr std::array<std::string_view, 8> kSwitchNames{"Disabled",  "Access B",   "Access S", "Sma-Sol B",
                                                     "Sma-Sol S", "Grid Relay", "Custom B", "Custom S"};
constexpr std::array<std::string_view, 4> kCapacityNames{"Disabled", "Fixed", "Interval", "Flanders"};

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, E e) {
  auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : std::string_view{"N/A"};
}

template <typename E, std::size_t N>
std::optional<E> from_name(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& names) {
  std::string s = "one of ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i) s += ", ";
    s += '"';
    s += names[i];
    s += '"';
  }
  return s;
}

}  // namespace

std::string_view to_string(ChargeMode m) {
  switch (m) {
    case ChargeMode::Normal: return "Normal";
    case ChargeMode::Smart: return "Smart";
    case ChargeMode::Solar: return "Solar";
  }
  return "N/A";
}
std::string_view to_string(EnableC2 c) { return name_of(kEnableC2Names, c); }
std::string_view to_string(CableConfig c) { return name_of(kCableNames, c); }
std::string_view to_string(LockType l) { return name_of(kLockNames, l); }
std::string_view to_string(CapacityMode m) { return name_of(kCapacityNames, m); }
std::string_view to_string(SwitchFunction f) { return name_of(kSwitchNames, f); }
std::optional<SwitchFunction> switch_function_from_name(std::string_view n) {
  return from_name<SwitchFunction>(kSwitchNames, n);
}
std::optional<EnableC2> enable_c2_from_name(std::string_view n) { return from_name<EnableC2>(kEnableC2Names, n); }
std::optional<CableConfig> cable_config_from_name(std::string_view n) {
  return from_name<CableConfig>(kCableNames, n);
}
std::optional<LockType> lock_type_from_name(std::string_view n) { return from_name<LockType>(kLockNames, n); }

namespace {
template <std::size_t N>
std::vector<std::string_view> as_vector(const std::array<std::string_view, N>& a) {
  return {a.begin(), a.end()};
}
}  // namespace

std::vector<std::string_view> enable_c2_names() { return as_vector(kEnableC2Names); }
std::vector<std::string_view> cable_config_names() { return as_vector(kCableNames); }
std::vector<std::string_view> lock_type_names() { return as_vector(kLockNames); }
std::vector<std::string_view> switch_function_names() { return as_vector(kSwitchNames); }

std::string list_of(const std::vector<std::string_view>& names, bool quoted) {
  std::string s;
  for (const auto n : names) {
    if (!s.empty()) s += ", ";
    if (quoted) s += '"';
    s += n;
    if (quoted) s += '"';
  }
  return s;
}

std::string SettingError::message() const {
  return key + " = " + value + " is not allowed (allowed: " + allowed + ")";
}

std::optional<SettingError> check_range(const IntRange& r, long long value, bool zero_means_off) {
  if (r.contains(static_cast<int>(std::clamp<long long>(value, -1'000'000'000, 1'000'000'000))) ||
      (zero_means_off && value == 0)) {
    return std::nullopt;
  }
  std::string allowed = (zero_means_off ? "0 or " : "") + std::to_string(r.lo) + ".." + std::to_string(r.hi);
  return SettingError{std::string{r.name}, std::to_string(value), std::move(allowed)};
}

std::optional<SettingError> check_override_current(const Settings& s, DeciAmps value) {
  const auto lo = s.min_current.deci().value();
  const auto hi = s.max_current.deci().value();
  if (value.value() == 0 || (value.value() >= lo && value.value() <= hi)) return std::nullopt;
  return SettingError{"override_current", std::to_string(value.value()),
                      "0 or " + std::to_string(lo) + ".." + std::to_string(hi) + " (deci-amps)"};
}

std::optional<SettingError> validate_settings(const Settings& s) {
  if (auto e = check_range(ranges::kCurrentMin, s.min_current.value())) return e;
  if (auto e = check_range(ranges::kCurrentMax, s.max_current.value())) return e;
  if (auto e = check_range(ranges::kCurrentMain, s.max_mains.value())) return e;
  if (auto e = check_range(ranges::kCurrentMaxCircuit, s.max_circuit.value())) return e;
  if (auto e = check_range(ranges::kMaxTemp, s.max_temp_c)) return e;
  if (auto e = check_range(ranges::kSolarStartCurrent, s.solar_start_current.value())) return e;
  if (auto e = check_range(ranges::kSolarStopTime, static_cast<int>(s.solar_stop_time.count()))) return e;
  if (auto e = check_range(ranges::kSolarMaxImport, s.solar_max_import.value())) return e;
  if (auto e = check_range(ranges::kMaxSumMains, s.max_sum_mains.value(), true)) return e;
  if (auto e = check_range(ranges::kMaxSumMainsTime, static_cast<int>(s.max_sum_mains_time.count()))) return e;
  for (auto t : {s.mains_meter_timeout, s.ev_meter_timeout, s.circuit_meter_timeout}) {
    if (auto e = check_range(ranges::kMeterTimeout, t.count())) return e;
  }
  for (const auto& i : s.capacity_intervals) {
    if (auto e = check_range(ranges::kIntervalStart, i.start_minute)) return e;
    if (auto e = check_range(ranges::kIntervalPower, i.power_w)) return e;
  }
  if (s.min_current > s.max_current) {
    return SettingError{"current_min", std::to_string(s.min_current.value()),
                        "at most current_max (" + std::to_string(s.max_current.value()) + ")"};
  }
  if (static_cast<unsigned>(s.enable_c2) > static_cast<unsigned>(EnableC2::Auto)) {
    return SettingError{"enable_C2", std::to_string(static_cast<unsigned>(s.enable_c2)), one_of(kEnableC2Names)};
  }
  if (static_cast<unsigned>(s.cable) > static_cast<unsigned>(CableConfig::Fixed)) {
    return SettingError{"config", std::to_string(static_cast<unsigned>(s.cable)), one_of(kCableNames)};
  }
  if (static_cast<unsigned>(s.lock) > static_cast<unsigned>(LockType::Motor)) {
    return SettingError{"lock", std::to_string(static_cast<unsigned>(s.lock)), one_of(kLockNames)};
  }
  if (static_cast<unsigned>(s.external_switch) > static_cast<unsigned>(SwitchFunction::CustomSwitch)) {
    return SettingError{"switch", std::to_string(static_cast<unsigned>(s.external_switch)), one_of(kSwitchNames)};
  }
  // Flanders needs 15-minute energy accounting evsed does not do (yet).
  if (static_cast<unsigned>(s.capacity_mode) > static_cast<unsigned>(CapacityMode::Interval)) {
    return SettingError{"capacity_mode", std::to_string(static_cast<unsigned>(s.capacity_mode)),
                        "0 (Disabled), 1 (Fixed) or 2 (Interval)"};
  }
  if (static_cast<unsigned>(s.access) > static_cast<unsigned>(AccessStatus::Pause)) {
    return SettingError{"access", std::to_string(static_cast<unsigned>(s.access)), "0, 1 or 2"};
  }
  if (static_cast<unsigned>(s.mode) > static_cast<unsigned>(ChargeMode::Solar)) {
    return SettingError{"mode", std::to_string(static_cast<unsigned>(s.mode)), "0, 1 or 2"};
  }
  return std::nullopt;
}

Settings with_installer_values(const Settings& current, const Settings& installer) {
  Settings s = current;
  s.cable = installer.cable;
  s.max_current = installer.max_current;
  s.max_mains = installer.max_mains;
  s.max_circuit = installer.max_circuit;
  s.max_temp_c = installer.max_temp_c;
  s.rcm_enabled = installer.rcm_enabled;
  s.lock = installer.lock;
  s.external_switch = installer.external_switch;
  s.has_mains_meter = installer.has_mains_meter;
  s.has_ev_meter = installer.has_ev_meter;
  s.has_circuit_meter = installer.has_circuit_meter;
  s.mains_meter_timeout = installer.mains_meter_timeout;
  s.ev_meter_timeout = installer.ev_meter_timeout;
  s.circuit_meter_timeout = installer.circuit_meter_timeout;
  return s;
}

Amps effective_max_sum_mains(const Settings& s, LocalTime local_now) {
  switch (s.capacity_mode) {
    case CapacityMode::Disabled: return Amps{0};
    case CapacityMode::Fixed: return s.max_sum_mains;
    case CapacityMode::Interval: break;
    case CapacityMode::Flanders: return s.max_sum_mains;
  }
  if (s.capacity_intervals.empty()) return s.max_sum_mains;
  const auto since_midnight = local_now - std::chrono::floor<std::chrono::days>(local_now);
  const int minute = static_cast<int>(std::chrono::duration_cast<Minutes>(since_midnight).count());
  // The entry in force is the last one starting at or before now; before the
  // first entry of the day, the day's last entry still applies.
  const CapacityInterval* active = nullptr;
  const CapacityInterval* latest = nullptr;
  for (const auto& i : s.capacity_intervals) {
    if (!latest || i.start_minute > latest->start_minute) latest = &i;
    if (i.start_minute <= minute && (!active || i.start_minute > active->start_minute)) active = &i;
  }
  if (!active) active = latest;
  // SmartEVSE: (P - 100 W margin) / 230 V, never below 1 A (control-logic.md §3.6).
  return Amps{std::max(1, (active->power_w - kCapacityMarginW) / kNominalVolts)};
}

}  // namespace evsed::core
