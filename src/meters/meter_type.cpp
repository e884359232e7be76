#include "evsed/meters/meter_type.hpp"

#include <modbus.h>

#include <array>
#include <utility>

namespace evsed::meters {

namespace {

constexpr std::array<std::pair<MeterType, std::string_view>, 21> kNames{{
    {MeterType::Disabled, "Disabled"},   {MeterType::Sensorbox, "Sensorbox"}, {MeterType::PhoenixC, "Phoenix C"},
    {MeterType::Finder7E, "Finder 7E"},  {MeterType::Eastron3P, "Eastron3P"}, {MeterType::InvEastron, "InvEastrn"},
    {MeterType::Abb, "ABB"},             {MeterType::SolarEdge, "SolarEdge"}, {MeterType::Wago, "WAGO"},
    {MeterType::Api, "API"},             {MeterType::Eastron1P, "Eastron1P"}, {MeterType::Finder7M, "Finder 7M"},
    {MeterType::Sinotimer, "Sinotimer"}, {MeterType::HomeWizard, "Homewizrd"}, {MeterType::Schneider, "Schneider"},
    {MeterType::Chint3P, "Chint 3P"},    {MeterType::CGavazzi, "C.Gavazzi"},  {MeterType::Chint1P, "Chint 1P"},
    {MeterType::Unused4, "Unused 4"},    {MeterType::Custom, "Custom"},       {MeterType::Sim, "Sim"},
}};

}  // namespace

std::string_view name(MeterType t) {
  for (const auto& [type, n] : kNames) {
    if (type == t) return n;
  }
  return "N/A";
}

std::optional<MeterType> meter_type_from_name(std::string_view n) {
  for (const auto& [type, candidate] : kNames) {
    if (candidate == n) return type;
  }
  return std::nullopt;
}

std::string meter_type_names() {
  std::string s;
  for (const auto& [type, n] : kNames) {
    if (type == MeterType::Unused4) continue;
    if (!s.empty()) s += ", ";
    s += '"';
    s += n;
    s += '"';
  }
  return s;
}

bool is_modbus(MeterType t) {
  switch (t) {
    case MeterType::Disabled:
    case MeterType::Api:
    case MeterType::HomeWizard:
    case MeterType::Unused4:
    case MeterType::Sim:
      return false;
    default:
      return true;
  }
}

std::string libmodbus_version() {
  return std::to_string(libmodbus_version_major) + "." + std::to_string(libmodbus_version_minor) + "." +
         std::to_string(libmodbus_version_micro);
}

}  // namespace evsed::meters
