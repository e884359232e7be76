#include "evsed/mqtt/topics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "evsed/core/outside_text.hpp"

namespace evsed::mqtt {

namespace {

using Json = nlohmann::ordered_json;
using core::DeciAmps;

std::string num(long long v) { return std::to_string(v); }

std::string rgb(const station::Rgb& c) { return num(c.r) + "," + num(c.g) + "," + num(c.b); }

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

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

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

std::vector<Publication> state_publications(const station::Snapshot& snap) {
  const core::Status& s = snap.status;
  const station::PanelState& panel = snap.device.panel;
  std::vector<Publication> out;
  auto pub = [&](std::string suffix, std::string payload, bool retain) {
    out.push_back({std::move(suffix), std::move(payload), retain});
  };
  if (s.mains.configured) {
    for (std::size_t i = 0; i < 3; ++i) pub("MainsCurrentL" + num(i + 1), num(s.mains_corrected[i].value()), false);
    if (s.mains.last && s.mains.last->import_energy && s.mains.last->import_energy->value != 0) {
      pub("MainsImportActiveEnergy", num(s.mains.last->import_energy->value), false);
    }
    if (s.mains.last && s.mains.last->export_energy && s.mains.last->export_energy->value != 0) {
      pub("MainsExportActiveEnergy", num(s.mains.last->export_energy->value), false);
    }
  }
  if (s.ev.configured) {
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
  if (s.circuit.configured) {
    for (std::size_t i = 0; i < 3; ++i) {
      pub("CircuitCurrentL" + num(i + 1), num(s.circuit.last ? s.circuit.last->currents[i].value() : 0), false);
    }
  }
  pub("ESPTemp", num(s.temperature_c), false);
  pub("Mode", std::string{core::to_string(core::mode_choice(s.access, s.mode))}, true);
  pub("MaxCurrent", num(s.settings.max_current.deci().value()), true);
  pub("MaxSumMains", num(s.effective_max_sum_mains.value()), true);
  pub("MaxSumMainsTime", num(s.settings.max_sum_mains_time.count()), true);
  pub("CustomButton", panel.custom_button ? "On" : "Off", false);
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
  if (const auto& wifi = snap.device.network.wifi) {
    pub("WiFiSSID", wifi->ssid, true);
    pub("WiFiBSSID", wifi->bssid, true);
    pub("WiFiRSSI", num(wifi->rssi), false);
  }
  if (s.home_battery_current) pub("HomeBatteryCurrent", num(s.home_battery_current->value()), false);
  pub("OCPP", "Disabled", true);
  pub("OCPPConnection", "Disconnected", false);
  pub("LEDColorOff", rgb(panel.colors.off), true);
  pub("LEDColorNormal", rgb(panel.colors.normal), true);
  pub("LEDColorSmart", rgb(panel.colors.smart), true);
  pub("LEDColorSolar", rgb(panel.colors.solar), true);
  pub("LEDColorCustom", rgb(panel.colors.custom), true);
  if (s.settings.lock != core::LockType::Disabled) pub("CableLock", s.settings.cable_lock ? "1" : "0", true);
  pub("ESPUptime", num(snap.uptime_s), false);
  pub("LoadBl", "0", true);
  pub("SolarStopTimer", num(s.solar_stop_timer_s), false);
  return out;
}

Publication session_energy_publication(const std::optional<station::SessionRecord>& current) {
  return {"SessionEnergy", num(current ? current->energy_wh : 0), true};
}

DiscoveryContext discovery_context(const station::Snapshot& snap, const std::string& prefix) {
  DiscoveryContext c;
  const auto& s = snap.status;
  const auto& net = snap.device.network;
  c.prefix = prefix;
  c.version = snap.device.version;
  c.configuration_url = "http://" + (net.eth_has_ip ? net.eth_ip : std::string{"0.0.0.0"});
  c.mains_meter = s.mains.configured;
  c.ev_meter = s.ev.configured;
  c.circuit_meter = s.circuit.configured;
  c.home_battery = s.home_battery_current.has_value();
  c.cable_lock = snap.device.cable_lock_fitted;
  c.wifi = net.wifi.has_value();
  c.max_current_a = s.settings.max_current.value();
  return c;
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
  // The session log's: every charger has them, with or without an EV meter.
  announce("Session Energy", "sensor", energy);
  if (c.last_session) {
    announce("Last Session Energy", "sensor",
             {{"device_class", "energy"}, {"unit_of_measurement", "Wh"}, {"state_class", "total"},
              {"state_topic", p + "/LastSession"}, {"value_template", "{{ value_json.energy_wh }}"},
              {"json_attributes_topic", p + "/LastSession"}});
  }
  announce("Max Sum Mains", "sensor",
           {{"device_class", "current"}, {"state_class", "measurement"}, {"unit_of_measurement", "A"}});
  for (const char* n : {"EV Plug State", "Access", "State", "StateID", "RFID", "NrOfPhases", "OCPP", "OCPPConnection"}) {
    announce(n, "sensor", plain);
  }
  for (const auto name : station::kColorSettingNames) {
    std::string color{name};
    color[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(color[0])));
    announce("LED Color " + color, "text", {{"command_topic", p + "/Set/Color" + color}});
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
           {{"command_topic", p + "/Set/Mode"}, {"options", core::mode_choice_names()}});
  announce("EnableC2", "select",
           {{"command_topic", p + "/Set/EnableC2"},
            {"options", core::enable_c2_names()}});
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
  all.last_session = true;
  std::vector<std::string> topics;
  for (auto& m : discovery_messages(all)) topics.push_back(std::move(m.topic));
  return topics;
}

std::variant<SetCommand, std::string> parse_set(std::string_view name, std::string_view payload) {
  using core::Field;
  const std::string topic = "Set/" + core::shown(name, 40);
  std::string quoted = "'";  // built up: GCC 12 warns falsely on "x" + std::string&&
  quoted += core::shown(payload, 60);
  quoted += '\'';
  auto setting = [](Field f, std::int64_t v) {
    station::SettingsChange c;
    c.patch.set(f, v);
    return SetCommand{c};
  };
  if (name == "Mode") {
    if (auto m = core::mode_choice_from_name(payload)) return setting(Field::Mode, static_cast<std::int64_t>(*m));
    return topic + ": " + quoted + " is not one of " + core::list_of(core::mode_choice_names());
  }
  // The firmware takes anything but "On" as off; a typo should not silently switch.
  if (name == "CustomButton") {
    if (payload != "On" && payload != "Off") return topic + ": " + quoted + " is not On or Off";
    station::SettingsChange c;
    c.panel.custom_button = payload == "On";
    return SetCommand{c};
  }
  if (name == "CurrentOverride" || name == "CurrentMaxSumMains" || name == "CPPWMOverride" ||
      name == "HomeBatteryCurrent") {
    const auto v = to_int(payload);
    if (!v) return topic + ": " + quoted + " is not a whole number";
    if (name == "CurrentOverride") return setting(Field::OverrideCurrent, *v);
    if (name == "CurrentMaxSumMains") return setting(Field::MaxSumMains, *v);
    if (name == "CPPWMOverride") return setting(Field::OverridePwm, *v);
    return SetCommand{HomeBatteryFeed{*v}};
  }
  if (name == "MainsMeter" || name == "CircuitMeter" || name == "EVMeter") {
    const bool mains = name == "MainsMeter";
    const bool ev = name == "EVMeter";
    const auto f = fields(payload, ':');
    const bool counts_ok = ev ? f && f->size() == 5 : f && (f->size() == 3 || (mains && f->size() == 5));
    if (!counts_ok) {
      return topic + ": expected " + (ev ? "L1:L2:L3:W:Wh" : mains ? "L1:L2:L3 or L1:L2:L3:W:Wh" : "L1:L2:L3") +
             " (whole numbers, dA, W, Wh)";
    }
    station::MeterFeed feed;
    feed.role = mains ? core::MeterRole::Mains : ev ? core::MeterRole::Ev : core::MeterRole::Circuit;
    feed.currents = std::array<std::int64_t, 3>{(*f)[0], (*f)[1], (*f)[2]};
    if (f->size() == 5) {
      // -1 means "not known"; anything else below is nonsense.
      if ((*f)[3] < -1 || (*f)[4] < -1) return topic + ": W and Wh must be >= 0, or -1 for unknown";
      if ((*f)[3] > -1) feed.power_w = (*f)[3];
      if ((*f)[4] > -1) {
        feed.import_wh = (*f)[4];
        feed.export_wh = 0;
      }
    }
    return SetCommand{feed};
  }
  if (name.starts_with("Color") && name.size() > 5 && std::isupper(static_cast<unsigned char>(name[5]))) {
    if (auto which = station::color_setting_from_name(lower_ascii(name.substr(5)));
        which && name.substr(6) == station::kColorSettingNames[static_cast<std::size_t>(*which)].substr(1)) {
      const auto f = fields(payload, ',');
      if (!f || f->size() != 3) return topic + ": expected R,G,B with each 0..255";
      station::SettingsChange c;
      c.panel.color = {*which, {(*f)[0], (*f)[1], (*f)[2]}};
      return SetCommand{c};
    }
  }
  if (name == "CableLock") {
    if (payload != "0" && payload != "1") return topic + ": " + quoted + " is not 0 or 1";
    return setting(Field::CableLock, payload == "1" ? 1 : 0);
  }
  if (name == "EnableC2") {
    if (!payload.empty() && std::isdigit(static_cast<unsigned char>(payload.front()))) {
      const auto v = to_int(payload);
      if (!v) return topic + ": " + quoted + " is not a number";
      return setting(Field::EnableC2, *v);
    }
    if (auto c2 = core::enable_c2_from_name(payload)) return setting(Field::EnableC2, static_cast<std::int64_t>(*c2));
    return topic + ": " + quoted + " is not 0..4 or one of " + core::list_of(core::enable_c2_names());
  }
  if (name == "RFID") return topic + ": RFID reader not enabled";
  return topic + ": unknown command";
}

}  // namespace evsed::mqtt
