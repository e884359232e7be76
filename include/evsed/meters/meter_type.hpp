#pragma once
// SmartEVSE's meter types (interfaces.md §1.5). The code is what the firmware
// stores; the name is what its API shows and what evsed's config file takes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evsed::meters {

enum class MeterType : std::uint8_t {
  Disabled = 0,
  Sensorbox = 1,
  PhoenixC = 2,
  Finder7E = 3,
  Eastron3P = 4,
  InvEastron = 5,
  Abb = 6,
  SolarEdge = 7,
  Wago = 8,
  Api = 9,
  Eastron1P = 10,
  Finder7M = 11,
  Sinotimer = 12,
  HomeWizard = 13,
  Schneider = 14,
  Chint3P = 15,
  CGavazzi = 16,
  Chint1P = 17,
  Unused4 = 18,
  Custom = 19,
  Sim = 100,  // evsed only: the simulated site's meter
};

// "Eastron3P", "API", "Sim" ...
std::string_view name(MeterType t);
std::optional<MeterType> meter_type_from_name(std::string_view name);
// Every accepted name, for error messages.
std::string meter_type_names();

// Meters polled over RS-485.
bool is_modbus(MeterType t);

// The meter's library version (libmodbus), for --version.
std::string libmodbus_version();

}  // namespace evsed::meters
