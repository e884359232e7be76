#include "evsed/http/rest_api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "evsed/http/params.hpp"
#include "evsed/http/settings_json.hpp"
#include "evsed/sim/world.hpp"

namespace evsed::http {

namespace {

using Json = nlohmann::ordered_json;
using core::FieldResult;

constexpr const char* kNotAllowed = "Value not allowed!";
constexpr long long kMaxDeciAmps = 2000;  // the firmware's API range, 200 A per phase

HttpResponse json_reply(const Json& j, int status = 200) {
  HttpResponse r;
  r.status = status;
  // ArduinoJson serialises an empty document as null: so does SmartEVSE.
  r.body = j.is_null() || (j.is_object() && j.empty()) ? "null" : j.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse text_reply(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

HttpResponse not_found() { return text_reply(404, "Not found\n"); }

HttpResponse wrong_method(std::string allow) {
  HttpResponse r = text_reply(405, "Method not allowed; use " + allow + "\n");
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

HttpResponse bad_request(const std::string& param, const std::string& why) {
  Json j;
  j["error"] = why;
  j["parameter"] = param;
  return json_reply(j, 400);
}

const FieldResult* find(const std::vector<FieldResult>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.field == name) return &f;
  }
  return nullptr;
}

// Strict integer for evsed's own endpoints (the simulator): all digits, in range.
std::optional<long long> strict_int(const std::string& s, long long lo, long long hi) {
  long long v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc{} || ptr != end || v < lo || v > hi) return std::nullopt;
  return v;
}

// "YYYY-MM-DDTHH:MM", also inside the double quotes the REST page shows.
std::optional<core::LocalTime> parse_start_time(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s.size() != 16 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, v);
    if (ec != std::errc{} || p != s.data() + pos + len) return std::nullopt;
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2);
  if (!y || !mo || !d || !h || !mi || *h > 23 || *mi > 59) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return local_days{ymd} + hours{*h} + minutes{*mi};
}

// Reply value of a field the core handled: the number, SmartEVSE's rejection
// string, or evsed's reason where the firmware stays silent.
Json field_value(const FieldResult& f, const Json& applied) {
  switch (f.outcome) {
    case FieldResult::Outcome::Applied: return applied;
    case FieldResult::Outcome::Rejected: return kNotAllowed;
    case FieldResult::Outcome::Ignored: return f.detail;
  }
  return nullptr;
}

Json sim_state(sim::World& w) {
  const auto& car = w.car();
  Json j;
  j["ev"] = !car.plugged() ? "A" : (car.wants_charge() ? "C" : "B");
  j["ev_requesting"] = car.requesting();
  j["diode"] = car.diode_blocks() ? 1 : 0;
  j["phases"] = car.profile().phases;
  j["ev_max"] = car.profile().max_current.value();
  const auto draw = car.draw();
  j["ev_draw"] = {{"L1", draw[0].value()}, {"L2", draw[1].value()}, {"L3", draw[2].value()}};
  j["ev_energy_wh"] = car.energy().value;
  const auto house = w.site().house_load();
  j["house"] = {{"L1", house[0].value()}, {"L2", house[1].value()}, {"L3", house[2].value()}};
  j["solar"] = w.site().solar().value();
  const auto grid = w.site().grid_currents(draw);
  j["grid"] = {{"L1", grid[0].value()}, {"L2", grid[1].value()}, {"L3", grid[2].value()}};
  j["temp"] = w.board().temperature();
  j["rcm"] = w.board().rcm_fault() ? 1 : 0;
  j["switch"] = w.board().switch_closed() ? 1 : 0;
  j["lock_jammed"] = w.board().lock_jammed() ? 1 : 0;
  j["cable"] = w.board().cable_rating() ? w.board().cable_rating()->value() : 0;
  j["contactor1"] = w.board().contactor1();
  j["contactor2"] = w.board().contactor2();
  j["pwm"] = w.board().duty().value;
  return j;
}

}  // namespace

HttpResponse RestApi::handle(const HttpRequest& req) {
  const auto [path, query] = split_target(req.target);
  const bool form = req.content_type.starts_with("application/x-www-form-urlencoded");
  const Params p = Params::parse(query, form ? std::string_view{req.body} : std::string_view{});
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";

  if (path == "/settings") {
    if (get) return get_settings();
    if (post) return post_settings(p);
    return wrong_method("GET, POST");
  }
  if (path == "/currents" || path == "/ev_meter" || path == "/modem" || path == "/cablelock" || path == "/rfid" ||
      path.starts_with("/color_")) {
    if (!post) return wrong_method("POST");
    if (path == "/currents") return post_currents(p);
    if (path == "/ev_meter") return post_ev_meter(p);
    if (path == "/modem") return post_modem(p);
    if (path == "/cablelock") return post_cablelock(p);
    if (path == "/rfid") return json_reply(Json{{"rfid_status", "RFID reader not enabled"}});
    const std::string_view which = path.substr(std::string_view{"/color_"}.size());
    constexpr std::array<std::string_view, 5> kColors{"off", "normal", "smart", "solar", "custom"};
    if (std::find(kColors.begin(), kColors.end(), which) == kColors.end()) return not_found();
    return post_color(which, p);
  }
  if (path == "/power_day") return get ? get_power_day() : wrong_method("GET");
  if (path == "/reboot") return reboot();
  if (path == "/erasesettings") return erase_settings();
  if (path == "/update" || path == "/autoupdate") {
    return text_reply(501, "evsed is updated through apt: apt install ./evsed_<version>_<arch>.deb\n");
  }
  if (path == "/lcd" || path == "/lcd-verify-password" || path == "/ws/lcd") {
    return text_reply(404, "evsed has no LCD\n");
  }
  if (path == "/simulator") {
    if (!backend_.simulator()) return text_reply(404, "Not found: the simulator runs only with --simulate\n");
    if (get) return simulator(false, p);
    if (post) return simulator(true, p);
    return wrong_method("GET, POST");
  }
  return not_found();
}

HttpResponse RestApi::get_settings() {
  DeviceView d = backend_.device();
  d.panel = panel_;
  HttpResponse r;
  r.body = settings_json(backend_.status(), d);
  return r;
}

HttpResponse RestApi::post_settings(const Params& p) {
  if (p.has("mqtt_update")) return post_mqtt(p);

  core::SettingsPatch patch;
  Json reply = Json::object();
  patch.current_min = p.number("current_min");
  patch.capacity_mode = p.number("capacity_mode");
  std::optional<std::string> intervals_error;
  if (auto text = p.get("intervals")) {
    // Entries with bad types or a start beyond the day are skipped, as the firmware does.
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      intervals_error = "intervals must be a JSON array of {\"start\": minute, \"power\": watts}";
    } else {
      std::vector<core::CapacityInterval> list;
      for (const auto& e : j) {
        if (!e.is_object() || !e.contains("start") || !e.contains("power") || !e["start"].is_number_integer() ||
            !e["power"].is_number_integer())
          continue;
        const auto start = e["start"].get<long long>();
        const auto power = e["power"].get<long long>();
        if (start < 0 || start > 1439 || power < 0 || power > 1'000'000) continue;
        list.push_back({static_cast<int>(start), static_cast<int>(power)});
      }
      patch.capacity_intervals = list;
    }
  }
  patch.max_sum_mains = p.number("current_max_sum_mains");
  patch.max_sum_mains_time = p.number("max_sum_mains_timer");
  patch.disable_override_current = p.has("disable_override_current");
  patch.mode = p.number("mode");
  const auto starttime = p.get("starttime");
  if (patch.mode && starttime) {
    patch.delayed.start_given = true;
    patch.delayed.start = parse_start_time(*starttime);
    if (auto stop = p.get("stoptime")) {
      patch.delayed.stop_given = true;
      patch.delayed.stop = parse_start_time(*stop);
    }
    if (auto repeat = p.number("repeat")) patch.delayed.repeat = static_cast<int>(std::clamp(*repeat, -1LL, 2LL));
  }
  patch.enable_c2 = p.number("enable_C2");
  patch.solar_stop_time = p.number("stop_timer");
  patch.override_current = p.number("override_current");
  patch.solar_start_current = p.number("solar_start_current");
  patch.solar_max_import = p.number("solar_max_import");
  patch.override_pwm = p.number("override_pwm");
  std::optional<std::string> cablelock_error;
  if (auto v = p.number("cablelock")) {
    if (*v == 0 || *v == 1) {
      patch.cable_lock = *v == 1;
    } else {
      cablelock_error = "cablelock must be 0 or 1";
    }
  }

  const core::PatchResult result = backend_.apply(patch);
  const auto& fields = result.fields;

  // The reply, in SmartEVSE's processing order.
  if (auto v = p.number("backlight")) {
    panel_.backlight_s = static_cast<int>(std::clamp(*v, 0LL, 1000LL)) * 120;
    reply["Backlight"] = *v;
  }
  if (auto f = find(fields, "current_min")) reply["current_min"] = field_value(*f, *patch.current_min);
  if (auto f = find(fields, "capacity_mode")) {
    reply["capacity_mode"] = f->outcome == FieldResult::Outcome::Applied ? Json(*patch.capacity_mode)
                                                                         : Json(f->detail);
  }
  if (intervals_error) {
    reply["intervals"] = *intervals_error;
  } else if (auto f = find(fields, "intervals"); f && f->outcome != FieldResult::Outcome::Applied) {
    reply["intervals"] = f->detail;
  }
  if (auto f = find(fields, "current_max_sum_mains")) {
    reply["current_max_sum_mains"] = field_value(*f, *patch.max_sum_mains);
  }
  if (auto f = find(fields, "max_sum_mains_time")) reply["max_sum_mains_time"] = field_value(*f, *patch.max_sum_mains_time);
  if (find(fields, "disable_override_current")) reply["disable_override_current"] = "OK";
  if (auto v = p.number("custombutton")) {
    panel_.custom_button = *v > 0;
    reply["custombutton"] = panel_.custom_button;
  }
  if (auto f = find(fields, "mode")) {
    if (f->outcome == FieldResult::Outcome::Applied && patch.delayed.start_given) {
      const auto& d = backend_.status().settings.delayed;
      if (patch.delayed.stop_given) reply["stoptime"] = d.stop ? backend_.to_epoch(*d.stop) : 0;
      if (patch.delayed.stop_given && patch.delayed.repeat) reply["repeat"] = d.repeat ? 1 : 0;
      reply["starttime"] = d.start ? backend_.to_epoch(*d.start) : 0;
    }
    reply["mode"] = f->outcome == FieldResult::Outcome::Rejected ? Json(kNotAllowed)
                    : f->outcome == FieldResult::Outcome::Ignored ? Json(f->detail)
                                                                  : Json(*p.get("mode"));
  }
  if (auto f = find(fields, "enable_C2")) {
    reply["settings"] = {{"enable_C2", f->detail}};
  }
  if (auto f = find(fields, "stop_timer")) reply["stop_timer"] = f->outcome == FieldResult::Outcome::Applied;
  if (auto f = find(fields, "override_current")) reply["override_current"] = field_value(*f, *patch.override_current);
  if (auto f = find(fields, "solar_start_current")) {
    reply["solar_start_current"] = field_value(*f, *patch.solar_start_current);
  }
  if (auto f = find(fields, "solar_max_import")) reply["solar_max_import"] = field_value(*f, *patch.solar_max_import);
  if (auto f = find(fields, "override_pwm")) {
    reply["override_pwm"] = f->outcome == FieldResult::Outcome::Applied ? Json(std::stoi(f->detail)) : Json(f->detail);
  }
  if (auto v = p.number("lcdlock")) {
    if (*v == 0 || *v == 1) {
      panel_.lcd_lock = static_cast<int>(*v);
      reply["lcdlock"] = *v;
    } else {
      reply["lcdlock"] = "lcdlock must be 0 or 1";
    }
  }
  if (cablelock_error) {
    reply["cablelock"] = *cablelock_error;
  } else if (find(fields, "cablelock")) {
    reply["cablelock"] = *patch.cable_lock ? 1 : 0;
  }
  if (p.has("ocpp_update")) reply["ocpp_update"] = "OCPP is not supported by evsed";
  return json_reply(reply);
}

HttpResponse RestApi::post_mqtt(const Params& p) {
  if (p.number("mqtt_update") != 1) return json_reply(nullptr);
  mqtt::MqttSettings s = backend_.mqtt_settings();
  Json reply = Json::object();
  std::optional<std::string> error;
  auto valid_text = [](const std::string& v) {
    return std::none_of(v.begin(), v.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  };
  if (auto v = p.get("mqtt_host")) {
    if (!valid_text(*v) || v->find(' ') != std::string::npos || v->size() > 253) {
      error = "mqtt_host must be a host name or address";
    }
    s.host = *v;
    reply["mqtt_host"] = *v;
  }
  if (auto v = p.number("mqtt_port")) {
    if (*v > 65535 || *v < 0) error = "mqtt_port must be 1..65535";
    s.port = *v == 0 ? 1883 : static_cast<int>(std::clamp(*v, 1LL, 65535LL));
    reply["mqtt_port"] = s.port;
  }
  if (auto v = p.get("mqtt_topic_prefix")) {
    // Empty means SmartEVSE-<serial>, as the firmware stores it from its web page.
    s.topic_prefix = v->empty() ? "SmartEVSE-" + std::to_string(backend_.device().serial) : *v;
    if (!valid_text(s.topic_prefix) || s.topic_prefix.find_first_of("#+") != std::string::npos ||
        s.topic_prefix.front() == '/' || s.topic_prefix.back() == '/') {
      error = "mqtt_topic_prefix may not contain # or +, nor start or end with /";
    }
    reply["mqtt_topic_prefix"] = s.topic_prefix;
  }
  if (auto v = p.get("mqtt_username")) {
    if (!valid_text(*v)) error = "mqtt_username may not contain control characters";
    s.username = *v;
    reply["mqtt_username"] = *v;
  }
  if (auto v = p.get("mqtt_password")) {
    s.password = *v;
    reply["mqtt_password_set"] = !v->empty();
  }
  if (auto v = p.get("mqtt_tls")) {
    s.tls = *v == "1";
    reply["mqtt_tls"] = s.tls;
  }
  if (auto v = p.get("mqtt_ca_cert")) {
    if (!v->empty() && v->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      error = "mqtt_ca_cert must be a PEM certificate";
    }
    s.ca_cert = *v;
    reply["mqtt_ca_cert_set"] = !v->empty();
  }
  if (error) return json_reply(Json{{"mqtt_update", *error}});
  if (auto e = backend_.save_mqtt(s)) return json_reply(Json{{"mqtt_update", "not saved: " + *e}});
  return json_reply(reply);
}

HttpResponse RestApi::post_currents(const Params& p) {
  Json reply = Json::object();
  if (auto b = p.number("battery_current")) {
    if (*b < -kMaxDeciAmps || *b > kMaxDeciAmps) {
      reply["battery_current"] = kNotAllowed;
    } else {
      backend_.feed(core::HomeBatteryReading{core::DeciAmps{static_cast<std::int32_t>(*b)}, backend_.now()});
      reply["battery_current"] = *b;
    }
  }
  const auto l1 = p.number("L1"), l2 = p.number("L2"), l3 = p.number("L3");
  if (l1 || l2 || l3) {
    if (backend_.mains_meter_type() != meters::MeterType::Api) {
      reply["TOTAL"] = "the mains meter is not API (it is " + std::string{meters::name(backend_.mains_meter_type())} + ")";
    } else if (!l1 || !l2 || !l3) {
      reply["TOTAL"] = "L1, L2 and L3 must be sent together";
    } else if (std::max({*l1, *l2, *l3}) > kMaxDeciAmps || std::min({*l1, *l2, *l3}) < -kMaxDeciAmps) {
      reply["TOTAL"] = kNotAllowed;
    } else {
      core::MeterReading r;
      r.role = core::MeterRole::Mains;
      r.currents = {core::DeciAmps{static_cast<std::int32_t>(*l1)}, core::DeciAmps{static_cast<std::int32_t>(*l2)},
                    core::DeciAmps{static_cast<std::int32_t>(*l3)}};
      r.taken_at = backend_.now();
      backend_.feed(r);
      const auto s = backend_.status();
      reply["original"] = {{"L1", *l1}, {"L2", *l2}, {"L3", *l3}};
      reply["L1"] = s.mains_corrected[0].value();
      reply["L2"] = s.mains_corrected[1].value();
      reply["L3"] = s.mains_corrected[2].value();
      reply["TOTAL"] = s.mains_sum.value();
    }
  }
  return json_reply(reply);
}

HttpResponse RestApi::post_ev_meter(const Params& p) {
  const auto l1 = p.number("L1"), l2 = p.number("L2"), l3 = p.number("L3");
  const auto imp = p.number("import_active_energy"), exp = p.number("export_active_energy"),
             pow = p.number("import_active_power");
  if (!l1 && !l2 && !l3 && !imp && !exp && !pow) return json_reply(nullptr);
  if (backend_.ev_meter_type() != meters::MeterType::Api) {
    return json_reply(Json{{"ev_meter", "the EV meter is not API (it is " +
                                            std::string{meters::name(backend_.ev_meter_type())} + ")"}});
  }
  const auto status = backend_.status();
  core::MeterReading r = status.ev.last.value_or(core::MeterReading{});
  r.role = core::MeterRole::Ev;
  Json ev = Json::object();
  bool changed = false;
  if (l1 || l2 || l3) {
    if (!l1 || !l2 || !l3) {
      ev["currents"] = "L1, L2 and L3 must be sent together";
    } else if (std::max({*l1, *l2, *l3}) > kMaxDeciAmps || std::min({*l1, *l2, *l3}) < -kMaxDeciAmps) {
      ev["currents"] = kNotAllowed;
    } else {
      r.currents = {core::DeciAmps{static_cast<std::int32_t>(*l1)}, core::DeciAmps{static_cast<std::int32_t>(*l2)},
                    core::DeciAmps{static_cast<std::int32_t>(*l3)}};
      ev["currents"] = {{"L1", *l1}, {"L2", *l2}, {"L3", *l3}, {"TOTAL", *l1 + *l2 + *l3}};
      changed = true;
    }
  }
  if (imp || exp || pow) {
    constexpr long long kMaxWh = 1'000'000'000'000LL;
    if (!imp || !exp || !pow) {
      ev["import_active_energy"] = "import_active_energy, export_active_energy and import_active_power must be sent together";
    } else if (*imp < 0 || *imp > kMaxWh || *exp < 0 || *exp > kMaxWh || *pow < -1'000'000 || *pow > 1'000'000) {
      ev["import_active_energy"] = kNotAllowed;
    } else {
      r.import_energy = core::WattHours{*imp};
      r.export_energy = core::WattHours{*exp};
      r.power = core::Watts{static_cast<std::int32_t>(*pow)};
      changed = true;
    }
  }
  if (changed) {
    r.taken_at = backend_.now();
    backend_.feed(r);
    if (imp && exp && pow && !ev.contains("import_active_energy")) {
      const auto after = backend_.status();
      const auto charged = after.ev_session_energy ? after.ev_session_energy->value : 0;
      ev["import_active_power"] = *pow;
      ev["import_active_energy"] = *imp;
      ev["export_active_energy"] = *exp;
      ev["total_kwh"] = static_cast<double>(*imp - *exp) / 1000.0;
      ev["charged_kwh"] = static_cast<double>(charged) / 1000.0;
    }
  }
  return json_reply(Json{{"ev_meter", ev}});
}

HttpResponse RestApi::post_modem(const Params& p) {
  // The REST page's /modem?pwm= takes the duty in per mille; SmartEVSE's code
  // path is /settings?override_pwm= in 1/1024.
  auto v = p.number("pwm");
  if (!v) return json_reply(nullptr);
  if (*v > 1000) return json_reply(Json{{"pwm", kNotAllowed}});
  core::SettingsPatch patch;
  patch.override_pwm = *v < 0 ? -1 : *v * 1024 / 1000;
  const auto result = backend_.apply(patch);
  const auto* f = find(result.fields, "override_pwm");
  if (!f || f->outcome != FieldResult::Outcome::Applied) return json_reply(Json{{"pwm", f ? f->detail : kNotAllowed}});
  return json_reply(Json{{"pwm", *v}, {"override_pwm", std::stoi(f->detail)}});
}

HttpResponse RestApi::post_color(std::string_view which, const Params& p) {
  const auto r = p.number("R"), g = p.number("G"), b = p.number("B");
  auto ok = [](const std::optional<long long>& c) { return c && *c >= 0 && *c <= 255; };
  if (!ok(r) || !ok(g) || !ok(b)) return json_reply(Json{{"color", "R, G and B must all be given, each 0..255"}});
  hw::Rgb c{static_cast<int>(*r), static_cast<int>(*g), static_cast<int>(*b)};
  hw::LedColors& colors = panel_.colors;
  hw::Rgb& target = which == "off"      ? colors.off
                : which == "normal" ? colors.normal
                : which == "smart"  ? colors.smart
                : which == "solar"  ? colors.solar
                                    : colors.custom;
  target = c;
  return json_reply(Json{{"color", {{std::string{which}, {{"R", c.r}, {"G", c.g}, {"B", c.b}}}}}});
}

HttpResponse RestApi::post_cablelock(const Params& p) {
  core::SettingsPatch patch;
  patch.cable_lock = p.has("1");
  backend_.apply(patch);
  return json_reply(Json{{"cablelock", *patch.cable_lock ? 1 : 0}});
}

HttpResponse RestApi::get_power_day() {
  Json list = Json::array();
  for (const auto& slot : backend_.power_day()) list.push_back({{"time", slot.time}, {"power", slot.power_w}});
  return json_reply(Json{{"power_day", list}});
}

HttpResponse RestApi::reboot() {
  const bool charging = backend_.status().state == core::ChargeState::C;
  backend_.restart(charging);
  if (charging) return text_reply(202, "Reboot scheduled: Device will reboot 5 seconds after the EV stops charging...");
  return text_reply(200, "Device will reboot in 5 seconds...");
}

HttpResponse RestApi::erase_settings() {
  if (auto e = backend_.erase_settings()) return text_reply(500, "Erasing settings failed: " + *e + "\n");
  backend_.restart(false);
  return text_reply(200, "Erasing settings, rebooting");
}

HttpResponse RestApi::simulator(bool write, const Params& p) {
  sim::World& w = *backend_.simulator();
  if (!write) return json_reply(sim_state(w));

  // Validate everything first: a bad value changes nothing.
  struct Change {
    std::optional<char> ev;
    std::optional<bool> diode;
    std::optional<int> phases;
    std::optional<int> ev_max;
    std::array<std::optional<int>, 3> house;
    std::optional<int> solar;
    std::optional<int> temp;
    std::optional<bool> rcm;
    std::optional<bool> switch_closed;
    std::optional<bool> lock_jammed;
    std::optional<int> cable;
  } c;
  // The on/off knobs: 1 = diode ok, RCM fault, switch closed, lock jammed.
  const std::array<std::pair<std::string_view, std::optional<bool>*>, 4> flags{
      {{"diode", &c.diode}, {"rcm", &c.rcm}, {"switch", &c.switch_closed}, {"lock_jammed", &c.lock_jammed}}};
  for (const auto& item : p.items()) {
    const std::string& name = item.first;
    const std::string& value = item.second;
    auto need = [&](long long lo, long long hi) -> std::optional<long long> { return strict_int(value, lo, hi); };
    if (auto f = std::find_if(flags.begin(), flags.end(), [&](const auto& f) { return f.first == name; });
        f != flags.end()) {
      auto v = need(0, 1);
      if (!v) return bad_request(name, name + " must be 0 or 1");
      *f->second = *v == 1;
    } else if (name == "ev") {
      if (value != "A" && value != "B" && value != "C") return bad_request("ev", "ev must be A, B or C");
      c.ev = value[0];
    } else if (name == "phases") {
      auto v = need(1, 3);
      if (!v || *v == 2) return bad_request("phases", "phases must be 1 or 3");
      c.phases = static_cast<int>(*v);
    } else if (name == "ev_max") {
      auto v = need(1, 80);
      if (!v) return bad_request("ev_max", "ev_max must be 1..80 (A)");
      c.ev_max = static_cast<int>(*v);
    } else if (name == "house_l1" || name == "house_l2" || name == "house_l3") {
      auto v = need(0, kMaxDeciAmps);
      if (!v) return bad_request(name, name + " must be 0..2000 (dA)");
      c.house[static_cast<std::size_t>(name.back() - '1')] = static_cast<int>(*v);
    } else if (name == "solar") {
      auto v = need(0, 3 * kMaxDeciAmps);
      if (!v) return bad_request("solar", "solar must be 0..6000 (dA, total over three phases)");
      c.solar = static_cast<int>(*v);
    } else if (name == "temp") {
      auto v = need(-40, 150);
      if (!v) return bad_request("temp", "temp must be -40..150 (°C)");
      c.temp = static_cast<int>(*v);
    } else if (name == "cable") {
      auto v = need(0, 63);
      if (!v || (*v != 0 && *v != 13 && *v != 16 && *v != 32 && *v != 63)) {
        return bad_request("cable", "cable must be 0 (none), 13, 16, 32 or 63 (A)");
      }
      c.cable = static_cast<int>(*v);
    } else {
      return bad_request(name, "unknown parameter " + name +
                                   " (known: ev, diode, phases, ev_max, house_L1..3, solar, temp, rcm, switch, lock_jammed, cable)");
    }
  }

  auto& car = w.car();
  if (c.ev) {
    if (*c.ev == 'A') {
      car.unplug();
    } else {
      if (!car.plugged()) car.plug_in();
      car.set_charge_wanted(*c.ev == 'C');
    }
  }
  if (c.diode) car.set_diode_ok(*c.diode);
  if (c.phases || c.ev_max) {
    auto profile = car.profile();
    if (c.phases) profile.phases = *c.phases;
    if (c.ev_max) profile.max_current = core::Amps{*c.ev_max};
    car.set_profile(profile);
  }
  auto house = w.site().house_load();
  for (std::size_t i = 0; i < 3; ++i) {
    if (c.house[i]) house[i] = core::DeciAmps{*c.house[i]};
  }
  w.site().set_house_load(house);
  if (c.solar) w.site().set_solar(core::DeciAmps{*c.solar});
  if (c.temp) w.board().set_temperature(*c.temp);
  if (c.rcm) w.board().set_rcm_fault(*c.rcm);
  if (c.switch_closed) w.board().set_switch(*c.switch_closed);
  if (c.lock_jammed) w.board().set_lock_jammed(*c.lock_jammed);
  if (c.cable) w.board().set_cable_rating(*c.cable ? std::optional{core::Amps{*c.cable}} : std::nullopt);
  return json_reply(sim_state(w));
}

}  // namespace evsed::http
