#pragma once
// Everything a front-end may show, as one immutable value with a version that
// moves on every observable change. Front-ends format it; nobody reaches
// around it into the controller, the meters or the board.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "evsed/core/status.hpp"
#include "evsed/station/panel.hpp"

namespace evsed::station {

struct WifiView {
  std::string ssid;
  int rssi = 0;
  std::string bssid;
  friend bool operator==(const WifiView&, const WifiView&) = default;
};

struct NetworkView {
  bool eth_present = false;
  bool eth_connected = false;
  bool eth_has_ip = false;
  std::string eth_ip;
  std::string eth_mac;
  std::optional<WifiView> wifi;  // only while a wireless interface is up
  friend bool operator==(const NetworkView&, const NetworkView&) = default;
};

// Statistics of a polled (Modbus) meter.
struct MeterPollView {
  std::uint64_t polls = 0;
  std::uint64_t good = 0;
  std::vector<std::pair<std::string, std::uint64_t>> errors;  // by kind
  std::string last_error;                                     // empty while it answers
  friend bool operator==(const MeterPollView&, const MeterPollView&) = default;
};

struct ModbusBusView {
  std::string port;
  bool open = false;
  std::int64_t cycle_ms = 0;  // duration of the last poll cycle
  friend bool operator==(const ModbusBusView&, const ModbusBusView&) = default;
};

// One configured meter (by core::MeterRole).
struct MeterInfo {
  std::string type = "Disabled";  // SmartEVSE's name: "API", "Eastron3P", "Sim", ...
  int address = 0;
  bool api = false;  // fed over REST or MQTT
  std::optional<MeterPollView> poll;
  friend bool operator==(const MeterInfo&, const MeterInfo&) = default;
};

// What MQTT looks like from outside: never the password itself.
struct MqttView {
  std::string host;
  int port = 1883;
  std::string topic_prefix;  // in force (the default filled in)
  std::string username;
  bool password_set = false;
  bool tls = false;
  bool ca_cert_set = false;
  bool connected = false;
  friend bool operator==(const MqttView&, const MqttView&) = default;
};

struct DeviceInfo {
  std::string version;
  std::uint32_t serial = 0;
  std::array<MeterInfo, 3> meters;  // mains, EV, circuit
  MqttView mqtt;
  NetworkView network;
  PanelState panel;
  std::optional<ModbusBusView> modbus;  // when Modbus meters are polled
  std::int64_t pilot_loop_lag_ms = 0;   // worst delay of the 10 ms pilot tick, last 10-20 s
  bool simulated = false;               // the simulated board, car and site
  bool cable_lock_fitted = false;       // a lock actuator is configured
  std::uint64_t http_connections = 0;
  friend bool operator==(const DeviceInfo&, const DeviceInfo&) = default;
};

struct Snapshot {
  std::uint64_t version = 0;
  core::Status status;
  DeviceInfo device;
  Rgb led_rgb;                                 // the colour the LED shows now
  std::optional<std::int64_t> starttime_epoch;  // delayed charging, Unix time
  std::optional<std::int64_t> stoptime_epoch;
  // Clocks when it was taken: not part of what the version tracks.
  std::int64_t now_epoch = 0;
  std::int64_t uptime_s = 0;

  [[nodiscard]] const MeterInfo& meter(core::MeterRole r) const { return device.meters[static_cast<std::size_t>(r)]; }
};

}  // namespace evsed::station
