#pragma once
// SmartEVSE's MQTT topics (interfaces.md §3) as pure functions of a Station
// snapshot: the state topics, the Home Assistant discovery messages, and the
// parsing of <prefix>/Set/... commands into Station commands. The Paho bridge
// only moves these over the wire.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "evsed/station/commands.hpp"
#include "evsed/station/session_record.hpp"
#include "evsed/station/snapshot.hpp"

namespace evsed::mqtt {

struct Publication {
  std::string suffix;  // after "<prefix>/"
  std::string payload;
  bool retain = false;
  friend bool operator==(const Publication&, const Publication&) = default;
};

std::vector<Publication> state_publications(const station::Snapshot& s);
// <prefix>/SessionEnergy: Wh of the running session (0 when none), retained.
Publication session_energy_publication(const std::optional<station::SessionRecord>& current);

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
  bool last_session = false;  // a session has been recorded (LastSession has a value)
  int max_current_a = 16;
  friend bool operator==(const DiscoveryContext&, const DiscoveryContext&) = default;
};

DiscoveryContext discovery_context(const station::Snapshot& s, const std::string& prefix);

struct DiscoveryMessage {
  std::string topic;
  std::string payload;  // JSON
};

std::vector<DiscoveryMessage> discovery_messages(const DiscoveryContext& c);
// The discovery topics of every entity evsed may announce, to clear the ones
// that no longer apply (an empty retained payload removes an entity in HA).
std::vector<std::string> all_discovery_topics(const std::string& prefix);

// A parsed <prefix>/Set/<name> message: what the Station is asked to do.
struct HomeBatteryFeed {
  std::int64_t deci_amps = 0;
};
using SetCommand = std::variant<station::SettingsChange, station::MeterFeed, HomeBatteryFeed>;

// The command, or why the payload is refused (published on <prefix>/CommandError).
// Only the form is checked here; what a value may be, the Station decides.
std::variant<SetCommand, std::string> parse_set(std::string_view name, std::string_view payload);

}  // namespace evsed::mqtt
