#pragma once
// How to reach the MQTT broker: from [mqtt] in the configuration, or changed at
// run time (REST mqtt_update, the dashboard), then kept in the state directory.
// One set of rules for every source: no control characters, valid UTF-8,
// bounded lengths; credentials belong to one broker.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace evsed::station {

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

// Limits on every source's strings (bytes).
inline constexpr std::size_t kMaxMqttHost = 253;      // a DNS name
inline constexpr std::size_t kMaxMqttPrefix = 128;
inline constexpr std::size_t kMaxMqttCredential = 256;
inline constexpr std::size_t kMaxMqttCaCert = 16 * 1024;  // an RSA-4096 root is about 2.1 KB; bundles more

// The prefix in force: the configured one, or SmartEVSE/<serial>.
std::string effective_prefix(const MqttSettings& s, unsigned serial);

enum class MqttField : std::uint8_t { Host, Port, TopicPrefix, Username, Password, Tls, CaCert };

// Why one field is refused (without its name: each adapter names it its way),
// or empty when it is fine.
std::optional<std::string> check_mqtt_field(MqttField field, std::string_view value);
struct MqttFieldError {
  MqttField field;
  std::string reason;
};
// Every field and the port.
std::optional<MqttFieldError> check_mqtt_settings(const MqttSettings& s);

// A change a client asks for: only what it names.
struct MqttChange {
  std::optional<std::string> host;
  std::optional<long long> port;            // 0 -> 1883, as the firmware
  std::optional<std::string> topic_prefix;  // empty -> SmartEVSE-<serial>, as the firmware stores it
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<bool> tls;
  std::optional<std::string> ca_cert;  // empty removes it
};

struct MqttChangePlan {
  MqttSettings settings;
  bool credentials_cleared = false;  // the broker changed without new credentials
  bool tls_turned_off = false;       // an explicit tls = off on a TLS broker
};

// The settings after `change`, or why it is refused (then nothing changes).
// A new host or port without credentials in the same change clears the stored
// ones: they were given for the old broker.
std::variant<MqttChangePlan, MqttFieldError> plan_mqtt_change(const MqttSettings& current, const MqttChange& change,
                                                              unsigned serial);

// JSON for the state directory, and back; empty with a reason when invalid.
std::string to_json(const MqttSettings& s);
std::optional<MqttSettings> mqtt_settings_from_json(const std::string& text, std::string& problem);

}  // namespace evsed::station
