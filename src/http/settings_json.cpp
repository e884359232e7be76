#include "evsed/http/settings_json.hpp"

#include <nlohmann/json.hpp>

#include "evsed/core/charge_state.hpp"
#include "evsed/core/error_flags.hpp"
#include "evsed/core/limiter.hpp"

namespace evsed::http {

namespace {

using Json = nlohmann::ordered_json;
using core::DeciAmps;

Json currents(const std::array<DeciAmps, 3>& c) {
  Json j;
  j["TOTAL"] = c[0].value() + c[1].value() + c[2].value();
  j["L1"] = c[0].value();
  j["L2"] = c[1].value();
  j["L3"] = c[2].value();
  return j;
}

Json rgb(const station::Rgb& c) { return Json{{"R", c.r}, {"G", c.g}, {"B", c.b}}; }

std::int64_t epoch_of_age(const std::optional<std::int64_t>& age, std::int64_t now_epoch) {
  return age ? now_epoch - *age : 0;
}

Json meter_info(const core::MeterStatus& m, const station::MeterInfo& info) {
  Json j;
  j["type"] = info.type;
  j["configured"] = m.configured;
  j["age_s"] = m.age_s ? Json(*m.age_s) : Json(nullptr);
  if (info.poll) {
    const auto& poll = *info.poll;
    j["address"] = info.address;
    j["polls"] = poll.polls;
    j["good"] = poll.good;
    Json errors = Json::object();
    for (const auto& [kind, count] : poll.errors) errors[kind] = count;
    j["errors"] = errors;
    j["last_error"] = poll.last_error;
  }
  return j;
}

}  // namespace

const RestMode& rest_mode(core::ModeChoice m) {
  for (const auto& r : kRestModes) {
    if (r.choice == m) return r;
  }
  return kRestModes[1];
}

std::optional<core::ModeChoice> mode_choice_from_rest_id(long long id) {
  for (const auto& r : kRestModes) {
    if (r.id == id) return r.choice;
  }
  return std::nullopt;
}

std::string settings_json(const station::Snapshot& snap) {
  const core::Status& s = snap.status;
  const station::DeviceInfo& d = snap.device;
  const core::Settings& st = s.settings;
  Json j;
  const RestMode& mode = rest_mode(core::mode_choice(s.access, s.mode));
  j["version"] = d.version;
  j["serialnr"] = d.serial;
  j["mode"] = mode.name;
  j["mode_id"] = mode.id;
  j["car_connected"] = s.car_connected;

  if (d.network.wifi) {
    j["wifi"] = {{"status", "WL_CONNECTED"},
                 {"ssid", d.network.wifi->ssid},
                 {"rssi", d.network.wifi->rssi},
                 {"bssid", d.network.wifi->bssid}};
  }
  Json eth;
  eth["present"] = d.network.eth_present;
  eth["connected"] = d.network.eth_connected;
  eth["has_ip"] = d.network.eth_has_ip;
  if (d.network.eth_has_ip) eth["ip"] = d.network.eth_ip;
  if (d.network.eth_present) eth["mac"] = d.network.eth_mac;
  j["eth"] = eth;

  // With LESS_6A set SmartEVSE reports no error but appends it to the state.
  int err_id = core::error_id(s.errors);
  std::string state_name{core::web_name(s.state)};
  if (s.errors.has(core::ErrorFlag::Less6A)) {
    state_name += " - ";
    state_name += core::error_web_name(err_id);
    err_id = 0;
  }
  Json evse;
  evse["temp"] = s.temperature_c;
  evse["temp_max"] = st.max_temp_c;
  evse["connected"] = s.car_connected;
  evse["access"] = static_cast<int>(s.access);
  evse["mode"] = static_cast<int>(s.mode);
  evse["loadbl"] = 0;
  evse["pwm"] = s.outputs.duty.value;
  evse["custombutton"] = d.panel.custom_button;
  evse["solar_stop_timer"] = s.solar_stop_timer_s;
  evse["state"] = state_name;
  evse["state_id"] = static_cast<int>(s.state);
  evse["error"] = core::error_web_name(err_id);
  evse["error_id"] = err_id;
  evse["rfidreader"] = "Disabled";
  evse["nrofphases"] = s.phases;
  evse["rfid"] = "Not Installed";
  j["evse"] = evse;

  const bool offering = s.state == core::ChargeState::B || s.state == core::ChargeState::C;
  Json set;
  set["charge_current"] = offering ? s.charge_current.value() : 0;
  set["override_current"] = s.override_current.value();
  set["current_min"] = st.min_current.value();
  set["current_max"] = st.max_current.value();
  set["current_main"] = st.max_mains.value();
  set["current_max_circuit"] = st.max_circuit.value();
  set["current_max_sum_mains"] = s.effective_max_sum_mains.value();
  set["max_sum_mains_time"] = st.max_sum_mains_time.count();
  set["solar_max_import"] = st.solar_max_import.value();
  set["solar_start_current"] = st.solar_start_current.value();
  set["solar_stop_time"] = st.solar_stop_time.count();
  set["enable_C2"] = core::to_string(st.enable_c2);
  set["mains_meter"] = snap.meter(core::MeterRole::Mains).type;
  set["starttime"] = snap.starttime_epoch.value_or(0);
  set["stoptime"] = snap.stoptime_epoch.value_or(0);
  set["repeat"] = st.delayed.repeat ? 1 : 0;
  set["lcdlock"] = d.panel.lcd_lock;
  set["lock"] = static_cast<int>(st.lock);
  set["cablelock"] = st.cable_lock ? 1 : 0;
  set["ledmode"] = 0;
  set["capacity_mode"] = static_cast<int>(st.capacity_mode);
  Json intervals = Json::array();
  for (const auto& i : st.capacity_intervals) intervals.push_back({{"start", i.start_minute}, {"power", i.power_w}});
  set["intervals"] = intervals;
  set["modem"] = "Not present";  // legacy key from the REST page
  j["settings"] = set;

  j["mqtt"] = {{"host", d.mqtt.host},
               {"port", d.mqtt.port},
               {"topic_prefix", d.mqtt.topic_prefix},
               {"username", d.mqtt.username},
               {"password_set", d.mqtt.password_set},
               {"tls", d.mqtt.tls},
               {"status", d.mqtt.connected ? "Connected" : "Disconnected"},
               {"smartevse_server", false}};
  j["ocpp"] = {{"mode", "Disabled"}, {"backend_url", ""}, {"cb_id", ""}, {"auth_key", ""},
               {"auto_auth", "Disabled"}, {"auto_auth_idtag", ""}, {"status", "Disconnected"}};
  j["home_battery"] = {{"current", s.home_battery_current.value_or(DeciAmps{0}).value()},
                       {"last_update", s.home_battery_age_s ? snap.now_epoch - *s.home_battery_age_s : 0}};

  const auto& ev = s.ev.last;
  const std::int64_t ev_import = ev && ev->import_energy ? ev->import_energy->value : 0;
  const std::int64_t ev_export = ev && ev->export_energy ? ev->export_energy->value : 0;
  const std::int64_t charged = s.ev_session_energy ? s.ev_session_energy->value : 0;
  Json evm;
  evm["description"] = snap.meter(core::MeterRole::Ev).type;
  evm["address"] = snap.meter(core::MeterRole::Ev).address;
  evm["import_active_power"] = ev && ev->power ? ev->power->value : 0;
  evm["total_wh"] = ev_import - ev_export;
  evm["charged_wh"] = charged;
  evm["currents"] = currents(ev ? ev->currents : std::array<DeciAmps, 3>{});
  if (ev_import != 0) evm["import_active_energy"] = ev_import;
  if (ev_export != 0) evm["export_active_energy"] = ev_export;
  evm["total_kwh"] = static_cast<double>(ev_import - ev_export) / 1000.0;  // legacy, kWh
  evm["charged_kwh"] = static_cast<double>(charged) / 1000.0;             // legacy, kWh
  j["ev_meter"] = evm;

  const auto& mains = s.mains.last;
  Json mm = Json::object();
  if (mains && mains->import_energy && mains->import_energy->value != 0) {
    mm["import_active_energy"] = mains->import_energy->value;
  }
  if (mains && mains->export_energy && mains->export_energy->value != 0) {
    mm["export_active_energy"] = mains->export_energy->value;
  }
  if (!mm.empty()) j["mains_meter"] = mm;

  if (s.circuit.configured) {
    j["circuit_meter"] = {{"description", snap.meter(core::MeterRole::Circuit).type},
                          {"address", snap.meter(core::MeterRole::Circuit).address},
                          {"currents", currents(s.circuit.last ? s.circuit.last->currents
                                                               : std::array<DeciAmps, 3>{})}};
  }

  Json pc = currents(s.mains_corrected);
  pc["last_data_update"] = epoch_of_age(s.mains.age_s, snap.now_epoch);
  pc["charging_L1"] = s.outputs.contactor1;  // legacy keys from the REST page
  pc["charging_L2"] = s.outputs.contactor1 && s.outputs.contactor2;
  pc["charging_L3"] = s.outputs.contactor1 && s.outputs.contactor2;
  pc["original_data"] = currents(mains ? mains->currents : std::array<DeciAmps, 3>{});
  j["phase_currents"] = pc;

  j["backlight"] = {{"timer", d.panel.backlight_s}, {"status", d.panel.backlight_s > 0 ? "ON" : "OFF"}};
  j["color"] = {{"off", rgb(d.panel.colors.off)},
                {"normal", rgb(d.panel.colors.normal)},
                {"smart", rgb(d.panel.colors.smart)},
                {"solar", rgb(d.panel.colors.solar)},
                {"custom", rgb(d.panel.colors.custom)}};

  // What SmartEVSE does not tell.
  Json x;
  x["limited_by"] = core::to_string(s.limited_by);
  x["offered_current"] = s.offered_current.value();
  x["pilot"] = core::to_string(s.pilot);
  x["pilot_connected"] = s.outputs.pilot_connected;
  x["diode_checked"] = s.diode_checked;
  x["contactor1"] = s.outputs.contactor1;
  x["contactor2"] = s.outputs.contactor2;
  x["locked"] = s.outputs.lock == core::LockPosition::Locked;
  x["lock_feedback"] = s.lock_locked ? Json(*s.lock_locked) : Json(nullptr);
  x["switch"] = {{"function", core::to_string(s.settings.external_switch)},
                 {"closed", s.switch_closed ? Json(*s.switch_closed) : Json(nullptr)}};
  x["phases"] = s.phases;
  x["pending_phase_switch"] = s.pending_phase_switch;
  x["iset_balanced"] = s.iset_balanced.value();
  x["max_capacity"] = s.max_capacity.value();
  x["pwm_override"] = s.pwm_override ? Json(s.pwm_override->value) : Json(nullptr);
  x["led"] = {{"pattern", core::to_string(s.led.pattern)}, {"color", rgb(snap.led_rgb)}};
  Json errors = Json::array();
  for (auto f : core::kAllErrorFlags) {
    if (s.errors.has(f)) errors.push_back(core::to_string(f));
  }
  x["errors"] = errors;
  Json timers = Json::array();
  for (const auto& t : s.timers) timers.push_back({{"name", t.name}, {"seconds_left", t.seconds_left}});
  x["timers"] = timers;
  x["meters"] = {{"mains", meter_info(s.mains, snap.meter(core::MeterRole::Mains))},
                 {"ev", meter_info(s.ev, snap.meter(core::MeterRole::Ev))},
                 {"circuit", meter_info(s.circuit, snap.meter(core::MeterRole::Circuit))}};
  x["loop"] = {{"pilot_lag_max_ms", d.pilot_loop_lag_ms}};
  if (d.modbus) {
    x["modbus"] = {{"port", d.modbus->port}, {"open", d.modbus->open}, {"cycle_ms", d.modbus->cycle_ms}};
  }
  j["evsed"] = x;

  return j.dump(-1, ' ', false, Json::error_handler_t::replace);  // never throws on the loop
}

}  // namespace evsed::http
