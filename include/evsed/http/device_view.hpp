#pragma once
// What GET /settings shows besides the controller's status: identity, meter
// names, MQTT, network, and the panel values SmartEVSE keeps in RAM.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "evsed/hw/panel.hpp"
#include "evsed/mqtt/mqtt_settings.hpp"

namespace evsed::http {

struct WifiView {
  std::string ssid;
  int rssi = 0;
  std::string bssid;
};

struct NetworkView {
  bool eth_present = false;
  bool eth_connected = false;
  bool eth_has_ip = false;
  std::string eth_ip;
  std::string eth_mac;
  std::optional<WifiView> wifi;  // only while a wireless interface is up
};

// Statistics of a polled (Modbus) meter.
struct MeterPollView {
  int address = 0;
  std::uint64_t polls = 0;
  std::uint64_t good = 0;
  std::vector<std::pair<std::string, std::uint64_t>> errors;  // by kind
  std::string last_error;                                     // empty while it answers
};

struct ModbusBusView {
  std::string port;
  bool open = false;
  std::int64_t cycle_ms = 0;  // duration of the last poll cycle
};

struct DeviceView {
  std::string version;
  std::uint32_t serial = 0;
  std::string mains_meter = "Disabled";
  std::string ev_meter = "Disabled";
  std::string circuit_meter = "Disabled";
  int ev_meter_address = 12;
  int circuit_meter_address = 13;
  mqtt::MqttSettings mqtt;
  bool mqtt_connected = false;
  NetworkView network;
  std::int64_t now_epoch = 0;
  std::optional<std::int64_t> starttime_epoch;
  std::optional<std::int64_t> stoptime_epoch;
  hw::PanelState panel;
  std::array<std::optional<MeterPollView>, 3> meter_polls;  // by core::MeterRole
  std::optional<ModbusBusView> modbus;                     // when Modbus meters are polled
  std::int64_t pilot_loop_lag_ms = 0;                      // worst delay of the 10 ms pilot tick, last 10-20 s
};

}  // namespace evsed::http
