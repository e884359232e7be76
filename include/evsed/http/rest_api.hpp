#pragma once
// SmartEVSE's REST API (interfaces.md §2) over plain request/response values.
// The backend is the daemon; tests and the fuzzer give it other backends.

#include <optional>
#include <string>
#include <vector>

#include "evsed/core/controller.hpp"
#include "evsed/core/status.hpp"
#include "evsed/http/device_view.hpp"
#include "evsed/http/http_types.hpp"
#include "evsed/http/params.hpp"
#include "evsed/meters/meter_type.hpp"
#include "evsed/mqtt/mqtt_settings.hpp"

namespace evsed::sim {
class World;
}

namespace evsed::http {

struct PowerSlot {
  std::string time;  // "HH:MM", start of the 15-minute slot
  int power_w = 0;   // highest mains power seen in it
};

class RestBackend {
 public:
  virtual ~RestBackend() = default;
  virtual core::Status status() = 0;
  virtual DeviceView device() = 0;  // panel values are filled in by RestApi
  virtual core::PatchResult apply(core::SettingsPatch patch) = 0;
  virtual void feed(const core::Event& event) = 0;
  virtual core::TimePoint now() = 0;
  virtual core::LocalTime local_now() = 0;
  virtual std::int64_t to_epoch(core::LocalTime t) = 0;
  virtual meters::MeterType mains_meter_type() = 0;
  virtual meters::MeterType ev_meter_type() = 0;
  virtual mqtt::MqttSettings mqtt_settings() = 0;
  // Stores new MQTT settings (persisted); empty on success.
  virtual std::optional<std::string> save_mqtt(const mqtt::MqttSettings& s) = 0;
  virtual std::vector<PowerSlot> power_day() = 0;
  // Leave the board safe and exit so systemd restarts evsed; when charging,
  // only after the car has stopped.
  virtual void restart(bool after_charging) = 0;
  // Run-time settings back to the configuration's; empty on success.
  virtual std::optional<std::string> erase_settings() = 0;
  // The simulated car and site, or null when not simulating.
  virtual sim::World* simulator() = 0;
  // The front-panel values (shared with MQTT).
  virtual hw::PanelState& panel() = 0;
};

class RestApi {
 public:
  explicit RestApi(RestBackend& backend) : backend_(backend), panel_(backend.panel()) {}

  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse get_settings();
  HttpResponse post_settings(const Params& p);
  HttpResponse post_mqtt(const Params& p);
  HttpResponse post_currents(const Params& p);
  HttpResponse post_ev_meter(const Params& p);
  HttpResponse post_modem(const Params& p);
  HttpResponse post_color(std::string_view which, const Params& p);
  HttpResponse post_cablelock(const Params& p);
  HttpResponse get_power_day();
  HttpResponse reboot();
  HttpResponse erase_settings();
  HttpResponse simulator(bool write, const Params& p);

  RestBackend& backend_;
  hw::PanelState& panel_;
};

}  // namespace evsed::http
