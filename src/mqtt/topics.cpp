#include "evsed/mqtt/topics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

namespace evsed::mqtt {

namespace {

using Json = nlohmann::ordered_json;
using core::DeciAmps;

std::string num(long long v) { return std::to_string(v); }

std::string rgb(const hw::Rgb& c) { return num(c.r) + "," + num(c.g) + "," + num(c.b); }

std::string mode_name(const core::Status& s) {
  switch (s.access) {
    case core::AccessStatus::Off: return "Off";
    case core::AccessStatus::Pause: return "Pause";
    case core::AccessStatus::On: break;
  }
  return std::string{core::to_string(s.mode)};
}

std::string access_name(core::AccessStatus a) {
  switch (a) {
    case core::AccessStatus::Off: return "Deny";
    case core::AccessStatus::On: return "Allow";
    case core::AccessStatus::Pause: return "Pause";
  }
  return "N/A";
}

// Integer as the firmware reads it (atol), but refusing payloads that are not a number at all.
std::optional<long long> to_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "a:b:c" or "a,b,c" into integers; empty on any bad field.
std::optional<std::vector<long long>> fields(std::string_view s, char sep) {
  std::vector<long long> out;
  while (true) {
    const auto at = s.find(sep);
    auto v = to_int(s.substr(0, at));
    if (!v) return std::nullopt;
    out.push_back(*v);
    if (at == std::string_view::npos) break;
    s = s.substr(at + 1);
  }
  return out;
}

struct Entity {
  const char* name;    // as shown; the topic suffix is the name without spaces
  const char* domain;  // sensor, select, number, text
};

std::string without_spaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') out += c;
  }
  return out;
}

std::string entity_id(std::string_view domain, const std::string& prefix, const std::string& object) {
  std::string id = std::string{domain} + "." + prefix + "_" + object;
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return c == '-' ? '_' : std::tolower(c); });
  return id;
}

}  // namespace

std::vector<Publication> state_publications(const core::Status& s, const StateContext& c) {
  std::vector<Publication> out;
  auto pub = [&](std::string suffix, std::string payload, bool retain) {
    out.push_back({std::move(suffix), std::move(payload), retain});
  };
  using meters::MeterType;
  if (c.mains_meter != MeterType::Disabled) {
    for (std::size_t i = 0; i < 3; ++i) pub("MainsCurrentL" + num(i + 1), num(s.mains_corrected[i].value()), false);
    if (s.mains.last && s.mains.last->import_energy && s.mains.last->import_energy->value != 0) {
      pub("MainsImportActiveEnergy", num(s.mains.last->import_energy->value), false);
    }
    if (s.mains.last && s.mains.last->export_energy && s.mains.last->export_energy->value != 0) {
      pub("MainsExportActiveEnergy", num(s.mains.last->export_energy->value), false);
    }
  }
  if (c.ev_meter != MeterType::Disabled) {
    const auto& ev = s.ev.last;
    for (std::size_t i = 0; i < 3; ++i) pub("EVCurrentL" + num(i + 1), num(ev ? ev->currents[i].value() : 0), false);
    const long long imp = ev && ev->import_energy ? ev->import_energy->value : 0;
    const long long exp = ev && ev->export_energy ? ev->export_energy->value : 0;
    if (imp != 0) pub("EVImportActiveEnergy", num(imp), false);
    if (exp != 0) pub("EVExportActiveEnergy", num(exp), false);
    pub("EVChargePower", num(ev && ev->power ? ev->power->value : 0), false);
    pub("EVEnergyCharged", num(s.ev_session_energy ? s.ev_session_energy->value : 0), true);
    pub("EVTotalEnergyCharged", num(imp - exp), false);
  }
  if (c.circuit_meter != MeterType::Disabled) {
    for (std::size_t i = 0; i < 3; ++i) {
      pub("CircuitCurrentL" + num(i + 1), num(s.circuit.last ? s.circuit.last->currents[i].value() : 0), false);
    }
  }
  pub("ESPTemp", num(s.temperature_c), false);
  pub("Mode", mode_name(s), true);
  pub("MaxCurrent", num(s.settings.max_current.deci().value()), true);
  pub("MaxSumMains", num(s.effective_max_sum_mains.value()), true);
  pub("MaxSumMainsTime", num(s.settings.max_sum_mains_time.count()), true);
  pub("CustomButton", c.panel.custom_button ? "On" : "Off", false);
  const bool offering = s.state == core::ChargeState::B || s.state == core::ChargeState::C;
  pub("ChargeCurrent", num(offering ? s.charge_current.value() : 0), true);
  pub("ChargeCurrentOverride", num(s.override_current.value()), true);
  pub("NrOfPhases", num(s.phases), true);
  pub("Access", access_name(s.access), true);
  pub("RFID", "Not Installed", true);
  pub("EnableC2", std::string{core::to_string(s.settings.enable_c2)}, true);
  pub("State", std::string{core::web_name(s.state)}, true);
  pub("StateID", std::string{core::short_name(s.state)}, true);  // a name, as the firmware sends
  pub("Error", std::string{core::error_web_name(core::error_id(s.errors))}, true);
  pub("EVPlugState", s.car_connected ? "Connected" : "Disconnected", true);
  if (c.wifi_ssid) pub("WiFiSSID", *c.wifi_ssid, true);
  if (c.wifi_bssid) pub("WiFiBSSID", *c.wifi_bssid, true);
  if (c.wifi_rssi) pub("WiFiRSSI", num(*c.wifi_rssi), false);
  if (s.home_battery_current) pub("HomeBatteryCurrent", num(s.home_battery_current->value()), false);
  pub("OCPP", "Disabled", true);
  pub("OCPPConnection", "Disconnected", false);
  pub("LEDColorOff", rgb(c.panel.colors.off), true);
  pub("LEDColorNormal", rgb(c.panel.colors.normal), true);
  pub("LEDColorSmart", rgb(c.panel.colors.smart), true);
  pub("LEDColorSolar", rgb(c.panel.colors.solar), true);
  pub("LEDColorCustom", rgb(c.panel.colors.custom), true);
  if (s.settings.lock != core::LockType::Disabled) pub("CableLock", s.settings.cable_lock ? "1" : "0", true);
  pub("ESPUptime", num(c.uptime_s), false);
  pub("LoadBl", "0", true);
  pub("SolarStopTimer", num(s.solar_stop_timer_s), false);
  return out;
}

std::vector<DiscoveryMessage> discovery_messages(const DiscoveryContext& c) {
  std::vector<DiscoveryMessage> out;
  const std::string& p = c.prefix;
  auto announce = [&](std::string_view name, std::string_view domain, Json extra) {
    const std::string object = without_spaces(name);
    Json j;
    j["name"] = name;
    j["object_id"] = p + "-" + object;
    j["default_entity_id"] = entity_id(domain, p, object);
    j["unique_id"] = p + "-" + object;
    j["state_topic"] = p + "/" + object;
    j["availability_topic"] = p + "/connected";
    j["device"] = {{"model", "evsed"},
                   {"identifiers", p},
                   {"name", p},
                   {"manufacturer", "evsed"},
                   {"configuration_url", c.configuration_url},
                   {"sw_version", c.version}};
    for (auto& [k, v] : extra.items()) j[k] = v;
    out.push_back({"homeassistant/" + std::string{domain} + "/" + p + "-" + object + "/config", j.dump()});
  };
  const Json current = {{"device_class", "current"}, {"state_class", "measurement"},
                        {"unit_of_measurement", "A"}, {"value_template", "{{ value | int / 10 }}"}};
  const Json energy = {{"device_class", "energy"}, {"unit_of_measurement", "Wh"}, {"state_class", "total_increasing"}};
  const Json plain = Json::object();

  announce("Charge Current", "sensor", current);
  announce("Max Current", "sensor", current);
  if (c.mains_meter) {
    for (const char* n : {"Mains Current L1", "Mains Current L2", "Mains Current L3"}) announce(n, "sensor", current);
    announce("Mains Import Active Energy", "sensor", energy);
    announce("Mains Export Active Energy", "sensor", energy);
  }
  if (c.ev_meter) {
    for (const char* n : {"EV Current L1", "EV Current L2", "EV Current L3"}) announce(n, "sensor", current);
    for (const char* n : {"EV Import Active Energy", "EV Export Active Energy", "EV Energy Charged",
                          "EV Total Energy Charged"}) {
      announce(n, "sensor", energy);
    }
    announce("EV Charge Power", "sensor",
             {{"device_class", "power"}, {"unit_of_measurement", "W"}, {"state_class", "measurement"}});
  }
  if (c.circuit_meter) {
    for (const char* n : {"Circuit Current L1", "Circuit Current L2", "Circuit Current L3"}) {
      announce(n, "sensor", current);
    }
  }
  if (c.home_battery) announce("Home Battery Current", "sensor", current);
  announce("Max Sum Mains", "sensor",
           {{"device_class", "current"}, {"state_class", "measurement"}, {"unit_of_measurement", "A"}});
  for (const char* n : {"EV Plug State", "Access", "State", "StateID", "RFID", "NrOfPhases", "OCPP", "OCPPConnection"}) {
    announce(n, "sensor", plain);
  }
  for (const char* color : {"Off", "Normal", "Smart", "Solar", "Custom"}) {
    announce(std::string{"LED Color "} + color, "text", {{"command_topic", p + "/Set/Color" + color}});
  }
  announce("Custom Button", "select",
           {{"command_topic", p + "/Set/CustomButton"}, {"options", Json::array({"On", "Off"})}});
  announce("SolarStopTimer", "sensor", {{"device_class", "duration"}, {"unit_of_measurement", "s"}});
  announce("Max Sum Mains Time", "sensor", {{"device_class", "duration"}, {"unit_of_measurement", "min"}});
  announce("Error", "sensor", {{"entity_category", "diagnostic"}});
  if (c.wifi) {
    announce("WiFi SSID", "sensor", {{"entity_category", "diagnostic"}});
    announce("WiFi BSSID", "sensor", {{"entity_category", "diagnostic"}});
    announce("WiFi RSSI", "sensor",
             {{"entity_category", "diagnostic"}, {"device_class", "signal_strength"},
              {"unit_of_measurement", "dBm"}, {"state_class", "measurement"}});
  }
  announce("ESP Temp", "sensor",
           {{"entity_category", "diagnostic"}, {"device_class", "temperature"}, {"unit_of_measurement", "°C"},
            {"state_class", "measurement"}});
  announce("ESP Uptime", "sensor",
           {{"entity_category", "diagnostic"}, {"device_class", "duration"}, {"unit_of_measurement", "s"},
            {"state_class", "measurement"}, {"entity_registry_enabled_default", "False"}});
  announce("Mode", "select",
           {{"command_topic", p + "/Set/Mode"}, {"options", Json::array({"Off", "Normal", "Smart", "Solar", "Pause"})}});
  announce("EnableC2", "select",
           {{"command_topic", p + "/Set/EnableC2"},
            {"options", Json::array({"Not present", "Always Off", "Solar Off", "Always On", "Auto"})}});
  announce("Charge Current Override", "number",
           {{"command_topic", p + "/Set/CurrentOverride"},
            {"min", "0"},
            {"max", std::to_string(c.max_current_a)},
            {"mode", "slider"},
            {"value_template", "{{ value | int / 10 if value | is_number else none }}"},
            {"command_template", "{{ value | int * 10 }}"}});
  if (c.cable_lock) {
    announce("Cable Lock", "select",
             {{"cablelock_topic", p + "/CableLock"},
              {"command_topic", p + "/Set/CableLock"},
              {"options", Json::array({"0", "1"})}});
  }
  return out;
}

std::vector<std::string> all_discovery_topics(const std::string& prefix) {
  DiscoveryContext all;
  all.prefix = prefix;
  all.mains_meter = all.ev_meter = all.circuit_meter = all.home_battery = all.cable_lock = all.wifi = true;
  std::vector<std::string> topics;
  for (auto& m : discovery_messages(all)) topics.push_back(std::move(m.topic));
  return topics;
}

std::variant<SetCommand, std::string> parse_set(std::string_view name, std::string_view payload, const SetContext& c) {
  using meters::MeterType;
  const std::string topic = "Set/" + std::string{name};
  auto patch = [](auto mutate) {
    core::SettingsPatch p;
    mutate(p);
    return SetCommand{p};
  };
  if (name == "Mode") {
    constexpr std::array<std::pair<std::string_view, int>, 5> kModes{
        {{"Off", 0}, {"Normal", 1}, {"Solar", 2}, {"Smart", 3}, {"Pause", 4}}};
    for (const auto& mode : kModes) {
      if (payload == mode.first) return patch([&](core::SettingsPatch& p) { p.mode = mode.second; });
    }
    return topic + ": '" + std::string{payload} + "' is not one of Off, Normal, Smart, Solar, Pause";
  }
  // The firmware takes anything but "On" as off; a typo should not silently switch.
  if (name == "CustomButton") {
    if (payload != "On" && payload != "Off") return topic + ": '" + std::string{payload} + "' is not On or Off";
    return SetCommand{PanelChange{payload == "On", std::nullopt}};
  }
  if (name == "CurrentOverride" || name == "CurrentMaxSumMains" || name == "CPPWMOverride" ||
      name == "HomeBatteryCurrent") {
    const auto v = to_int(payload);
    if (!v) return topic + ": '" + std::string{payload} + "' is not a whole number";
    if (name == "CurrentOverride") return patch([&](core::SettingsPatch& p) { p.override_current = *v; });
    if (name == "CurrentMaxSumMains") return patch([&](core::SettingsPatch& p) { p.max_sum_mains = *v; });
    if (name == "CPPWMOverride") return patch([&](core::SettingsPatch& p) { p.override_pwm = *v; });
    if (*v < -2000 || *v > 2000) return topic + ": " + std::to_string(*v) + " dA is outside -2000..2000";
    return SetCommand{core::HomeBatteryReading{DeciAmps{static_cast<std::int32_t>(*v)}, c.now}};
  }
  if (name == "MainsMeter" || name == "CircuitMeter" || name == "EVMeter") {
    const bool mains = name == "MainsMeter";
    const bool ev = name == "EVMeter";
    const MeterType type = mains ? c.mains_meter : ev ? c.ev_meter : c.circuit_meter;
    if (type != MeterType::Api) {
      return topic + ": the " + (mains ? "mains" : ev ? "EV" : "circuit") + " meter is not API (it is " +
             std::string{meters::name(type)} + ")";
    }
    const auto f = fields(payload, ':');
    const bool counts_ok = ev ? f && f->size() == 5 : f && (f->size() == 3 || (mains && f->size() == 5));
    if (!counts_ok) {
      return topic + ": expected " + (ev ? "L1:L2:L3:W:Wh" : mains ? "L1:L2:L3 or L1:L2:L3:W:Wh" : "L1:L2:L3") +
             " (whole numbers, dA, W, Wh)";
    }
    core::MeterReading r = ev && c.last_ev_reading ? *c.last_ev_reading : core::MeterReading{};
    r.role = mains ? core::MeterRole::Mains : ev ? core::MeterRole::Ev : core::MeterRole::Circuit;
    r.taken_at = c.now;
    for (std::size_t i = 0; i < 3; ++i) {
      if ((*f)[i] <= -2000 || (*f)[i] >= 2000) return topic + ": each current must be within -2000..2000 dA";
      r.currents[i] = DeciAmps{static_cast<std::int32_t>((*f)[i])};
    }
    if (f->size() == 5) {
      // -1 means "not known"; anything else below is nonsense.
      if ((*f)[3] < -1 || (*f)[4] < -1) return topic + ": W and Wh must be >= 0, or -1 for unknown";
      if ((*f)[3] > -1) r.power = core::Watts{static_cast<std::int32_t>(std::min((*f)[3], 2'000'000LL))};
      if ((*f)[4] > -1) {
        r.import_energy = core::WattHours{(*f)[4]};
        r.export_energy = core::WattHours{0};
      }
    }
    return SetCommand{r};
  }
  if (name.starts_with("Color")) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kColors{
        {{"ColorOff", "off"}, {"ColorNormal", "normal"}, {"ColorSmart", "smart"}, {"ColorSolar", "solar"},
         {"ColorCustom", "custom"}}};
    for (const auto& [topic_name, key] : kColors) {
      if (name != topic_name) continue;
      const auto f = fields(payload, ',');
      if (!f || f->size() != 3 || std::any_of(f->begin(), f->end(), [](long long v) { return v < 0 || v > 255; })) {
        return topic + ": expected R,G,B with each 0..255";
      }
      return SetCommand{PanelChange{std::nullopt, std::pair{std::string{key}, hw::Rgb{static_cast<int>((*f)[0]),
                                                                                    static_cast<int>((*f)[1]),
                                                                                    static_cast<int>((*f)[2])}}}};
    }
  }
  if (name == "CableLock") {
    if (payload != "0" && payload != "1") return topic + ": '" + std::string{payload} + "' is not 0 or 1";
    return patch([&](core::SettingsPatch& p) { p.cable_lock = payload == "1"; });
  }
  if (name == "EnableC2") {
    if (!payload.empty() && std::isdigit(static_cast<unsigned char>(payload.front()))) {
      const auto v = to_int(payload);
      if (!v || *v > 4) return topic + ": '" + std::string{payload} + "' is not 0..4";
      return patch([&](core::SettingsPatch& p) { p.enable_c2 = *v; });
    }
    if (auto c2 = core::enable_c2_from_name(payload)) {
      return patch([&](core::SettingsPatch& p) { p.enable_c2 = static_cast<long long>(*c2); });
    }
    return topic + ": '" + std::string{payload} +
           "' is not 0..4 or one of Not present, Always Off, Solar Off, Always On, Auto";
  }
  if (name == "RFID") return topic + ": RFID reader not enabled";
  return topic + ": unknown command";
}

}  // namespace evsed::mqtt
