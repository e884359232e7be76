#pragma once
// SmartEVSE's MQTT topics (interfaces.md §3) as pure functions: the state
// topics a status gives, the Home Assistant discovery messages, and the parsing
// of <prefix>/Set/... commands. The Paho bridge only moves these over the wire.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "evsed/core/events.hpp"
#include "evsed/core/status.hpp"
#include "evsed/hw/panel.hpp"
#include "evsed/meters/meter_type.hpp"

namespace evsed::mqtt {

struct Publication {
  std::string suffix;  // after "<prefix>/"
  std::string payload;
  bool retain = false;
  friend bool operator==(const Publication&, const Publication&) = default;
};

// What the state topics need besides the controller's status.
struct StateContext {
  meters::MeterType mains_meter = meters::MeterType::Disabled;
  meters::MeterType ev_meter = meters::MeterType::Disabled;
  meters::MeterType circuit_meter = meters::MeterType::Disabled;
  hw::PanelState panel;
  std::int64_t uptime_s = 0;
  std::optional<std::string> wifi_ssid;  // only on a board with Wi-Fi
  std::optional<std::string> wifi_bssid;
  std::optional<int> wifi_rssi;
};

std::vector<Publication> state_publications(const core::Status& s, const StateContext& c);

struct DiscoveryContext {
  std::string prefix;
  std::string version;
  std::string configuration_url;  // http://<address>
  bool mains_meter = false;
  bool ev_meter = false;
  bool circuit_meter = false;
  bool home_battery = false;  // a battery value has been received
  bool cable_lock = false;    // a lock actuator is configured
  bool wifi = false;
  int max_current_a = 16;
};

struct DiscoveryMessage {
  std::string topic;
  std::string payload;  // JSON
};

std::vector<DiscoveryMessage> discovery_messages(const DiscoveryContext& c);
// The discovery topics of every entity evsed may announce, to clear the ones
// that no longer apply (an empty retained payload removes an entity in HA).
std::vector<std::string> all_discovery_topics(const std::string& prefix);

// A parsed <prefix>/Set/<name> message.
struct PanelChange {
  std::optional<bool> custom_button;
  std::optional<std::pair<std::string, hw::Rgb>> color;  // "off", "normal", ...
};
using SetCommand = std::variant<core::SettingsPatch, core::MeterReading, core::HomeBatteryReading, PanelChange>;

struct SetContext {
  meters::MeterType mains_meter = meters::MeterType::Disabled;
  meters::MeterType ev_meter = meters::MeterType::Disabled;
  meters::MeterType circuit_meter = meters::MeterType::Disabled;
  std::optional<core::MeterReading> last_ev_reading;  // /Set/EVMeter keeps what it does not give
  core::TimePoint now{};
};

// The command, or why the payload is refused (published on <prefix>/CommandError).
std::variant<SetCommand, std::string> parse_set(std::string_view name, std::string_view payload, const SetContext& c);

}  // namespace evsed::mqtt
