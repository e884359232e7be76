#pragma once
// How to reach the MQTT broker: from [mqtt] in the config, or set at run time
// with POST /settings?mqtt_update=1 (then persisted in the state directory).

#include <optional>
#include <string>

namespace evsed::mqtt {

struct MqttSettings {
  std::string host;  // empty: MQTT off
  int port = 1883;
  std::string topic_prefix;  // empty: SmartEVSE/<serial>
  std::string username;
  std::string password;
  bool tls = false;
  std::string ca_cert;  // PEM; empty: the system's CAs
  friend bool operator==(const MqttSettings&, const MqttSettings&) = default;
};

// The prefix in force: the configured one, or SmartEVSE/<serial>.
std::string effective_prefix(const MqttSettings& s, unsigned serial);

// JSON form for the state directory, and back; empty with a reason when invalid.
std::string to_json(const MqttSettings& s);
std::optional<MqttSettings> mqtt_settings_from_json(const std::string& text, std::string& problem);

}  // namespace evsed::mqtt
