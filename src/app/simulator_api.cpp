// The simulator's own endpoint (evsed only, with --simulate): GET /simulator
// shows the simulated car, site and board; POST changes them. Every parameter
// is checked before anything changes.

#include "evsed/app/simulator_api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

namespace evsed::app {

namespace {

using Json = nlohmann::ordered_json;
using http::HttpResponse;
using http::Params;

constexpr long long kMaxDeciAmps = core::kMaxMeterCurrent.value();

HttpResponse json_reply(const Json& j, int status = 200) { return http::json_response(status, j.dump()); }

HttpResponse bad_request(const std::string& param, const std::string& why) {
  Json j;
  j["error"] = why;
  j["parameter"] = param;
  return json_reply(j, 400);
}

// Strict integer for evsed's own endpoints (the simulator): all digits, in range.
std::optional<long long> strict_int(const std::string& s, long long lo, long long hi) {
  long long v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc{} || ptr != end || v < lo || v > hi) return std::nullopt;
  return v;
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
  j["led"] = w.board().led();
  return j;
}

}  // namespace

HttpResponse simulator_request(sim::World& w, const http::HttpRequest& req, const http::Params& p) {
  if (req.method == "GET" || req.method == "HEAD") return json_reply(sim_state(w));
  if (req.method != "POST") {
    HttpResponse r = http::text_response(405, "Method not allowed; use GET, POST\n");
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }

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

}  // namespace evsed::app
