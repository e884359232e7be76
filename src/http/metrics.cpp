#include "evsed/http/metrics.hpp"

#include <cstdio>

#include "evsed/core/settings_fields.hpp"

namespace evsed::http {

namespace {

// Label values are escaped as the format asks: backslash, quote, newline.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, double v, std::string_view labels = {}) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(v);
    out_ += '\n';
  }
  void gauge(std::string_view name, std::string_view help, double v) {
    family(name, "gauge", help);
    sample(name, v);
  }
  void counter(std::string_view name, std::string_view help, double v) {
    family(name, "counter", help);
    sample(name, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr const char* kPhases[] = {"L1", "L2", "L3"};
constexpr const char* kMeterNames[] = {"mains", "ev", "circuit"};

}  // namespace

std::string metrics_text(const station::Snapshot& snap, const station::SessionTotals& totals,
                         const std::optional<station::SessionRecord>& current) {
  const core::Status& s = snap.status;
  Exposition e;
  e.family("evsed_build_info", "gauge", "evsed's version (the value is always 1)");
  e.sample("evsed_build_info", 1, "version=\"" + label(snap.device.version) + "\"");
  e.gauge("evsed_start_time_seconds", "when evsed started (Unix time)",
          static_cast<double>(snap.now_epoch - snap.uptime_s));

  e.family("evsed_pilot_state", "gauge", "the charging state (1 for the one in force): A no car, B connected, C charging, ...");
  for (int i = 0; i <= static_cast<int>(core::ChargeState::ModemDenied); ++i) {
    const auto st = static_cast<core::ChargeState>(i);
    e.sample("evsed_pilot_state", st == s.state ? 1 : 0, "state=\"" + label(core::short_name(st)) + "\"");
  }
  e.family("evsed_mode", "gauge", "the charging mode as the REST API and the dashboard name it (1 for the one in force)");
  const auto mode = core::mode_choice(s.access, s.mode);
  for (auto m : core::kModeChoices) {
    e.sample("evsed_mode", m == mode ? 1 : 0, "mode=\"" + label(core::to_string(m)) + "\"");
  }
  e.family("evsed_error", "gauge", "error flags (1 while raised)");
  for (auto f : core::kAllErrorFlags) {
    e.sample("evsed_error", s.errors.has(f) ? 1 : 0, "flag=\"" + label(core::to_string(f)) + "\"");
  }
  e.gauge("evsed_car_connected", "1 while a car is connected", s.car_connected ? 1 : 0);
  e.gauge("evsed_contactor_closed", "1 while the main contactor is closed", s.outputs.contactor1 ? 1 : 0);
  e.gauge("evsed_charge_current_offered_amperes", "the current the pilot signals to the car now",
          s.offered_current.value() / 10.0);
  e.gauge("evsed_charge_phases", "phases charging (1 or 3)", s.phases);

  const core::MeterStatus* meters[] = {&s.mains, &s.ev, &s.circuit};
  e.family("evsed_meter_current_amperes", "gauge", "each meter's current per phase (mains: + import, - export)");
  for (std::size_t m = 0; m < 3; ++m) {
    if (!meters[m]->last) continue;
    for (std::size_t ph = 0; ph < 3; ++ph) {
      e.sample("evsed_meter_current_amperes", meters[m]->last->currents[ph].value() / 10.0,
               std::string{"meter=\""} + kMeterNames[m] + "\",phase=\"" + kPhases[ph] + "\"");
    }
  }
  e.family("evsed_meter_reading_age_seconds", "gauge", "how old each meter's last reading is");
  for (std::size_t m = 0; m < 3; ++m) {
    if (meters[m]->age_s) {
      e.sample("evsed_meter_reading_age_seconds", static_cast<double>(*meters[m]->age_s),
               std::string{"meter=\""} + kMeterNames[m] + "\"");
    }
  }
  // One family after the other: the format wants a family's samples together.
  for (const bool failed : {false, true}) {
    const char* name = failed ? "evsed_meter_poll_errors_total" : "evsed_meter_polls_total";
    e.family(name, "counter", failed ? "Modbus polls of each meter that failed" : "Modbus polls of each meter");
    for (std::size_t m = 0; m < 3; ++m) {
      const auto& poll = snap.device.meters[m].poll;
      if (!poll) continue;
      e.sample(name, static_cast<double>(failed ? poll->polls - poll->good : poll->polls),
               std::string{"meter=\""} + kMeterNames[m] + "\"");
    }
  }

  double ev_w = 0;
  if (s.ev.last && s.ev.last->power) {
    ev_w = s.ev.last->power->value;
  } else if (s.ev.last) {
    for (auto a : s.ev.last->currents) ev_w += a.value() / 10.0 * core::kNominalVolts;
  } else if (s.outputs.contactor1) {
    ev_w = s.offered_current.value() / 10.0 * core::kNominalVolts * s.phases;  // estimated, as the session log does
  }
  e.gauge("evsed_ev_power_watts", "power to the car (the EV meter's, else estimated from the offered current)", ev_w);
  if (s.ev.last && s.ev.last->import_energy) {
    e.counter("evsed_ev_energy_import_joules_total", "the EV meter's import register",
              static_cast<double>(s.ev.last->import_energy->value) * 3600.0);
  }

  e.gauge("evsed_session_energy_joules", "energy of the running session (0 when none)",
          current ? static_cast<double>(current->energy_wh) * 3600.0 : 0.0);
  e.gauge("evsed_session_duration_seconds", "time the running session has been connected (0 when none)",
          current ? static_cast<double>(current->connected_s) : 0.0);
  e.counter("evsed_sessions_total", "charging sessions started", static_cast<double>(totals.sessions));
  e.counter("evsed_charged_energy_joules_total", "energy of every closed session",
            static_cast<double>(totals.energy_wh) * 3600.0);

  e.gauge("evsed_temperature_celsius", "the board's temperature", s.temperature_c);
  e.gauge("evsed_http_connections", "open HTTP connections", static_cast<double>(snap.device.http_connections));
  e.gauge("evsed_mqtt_connected", "1 while connected to the MQTT broker", snap.device.mqtt.connected ? 1 : 0);
  return e.take();
}

}  // namespace evsed::http
