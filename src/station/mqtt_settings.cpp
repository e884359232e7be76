#include "evsed/station/mqtt_settings.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "evsed/core/outside_text.hpp"

namespace evsed::station {

namespace {

constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----";

bool has_control_but_line_breaks(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F) return true;
  }
  return false;
}

std::optional<std::string> text_rule(std::string_view value, std::size_t max) {
  if (value.size() > max) return "is longer than " + std::to_string(max) + " bytes";
  if (core::has_control(value)) return "may not contain control characters";
  if (!core::valid_utf8(value)) return "is not valid UTF-8";
  return std::nullopt;
}

}  // namespace

std::string effective_prefix(const MqttSettings& s, unsigned serial) {
  return s.topic_prefix.empty() ? "SmartEVSE/" + std::to_string(serial) : s.topic_prefix;
}

std::optional<std::string> check_mqtt_field(MqttField field, std::string_view value) {
  switch (field) {
    case MqttField::Host:
      if (auto e = text_rule(value, kMaxMqttHost)) return "must be a host name or address: it " + *e;
      if (value.find(' ') != std::string_view::npos) return "must be a host name or address: no spaces";
      return std::nullopt;
    case MqttField::TopicPrefix:
      if (auto e = text_rule(value, kMaxMqttPrefix)) return *e;
      if (value.find_first_of("#+") != std::string_view::npos || value.starts_with('/') || value.ends_with('/')) {
        return "may not contain # or +, nor start or end with /";
      }
      return std::nullopt;
    case MqttField::Username:
    case MqttField::Password:
      return text_rule(value, kMaxMqttCredential);
    case MqttField::CaCert:
      if (value.size() > kMaxMqttCaCert) {
        return "is too large: " + std::to_string(value.size()) + " bytes, at most " + std::to_string(kMaxMqttCaCert);
      }
      if (has_control_but_line_breaks(value) || !core::valid_utf8(value)) return "must be PEM text";
      if (!value.empty() && value.find(kPemBegin) == std::string_view::npos) return "must be a PEM certificate";
      return std::nullopt;
    case MqttField::Port:
    case MqttField::Tls:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<MqttFieldError> check_mqtt_settings(const MqttSettings& s) {
  const std::pair<MqttField, const std::string*> fields[] = {{MqttField::Host, &s.host},
                                                              {MqttField::TopicPrefix, &s.topic_prefix},
                                                              {MqttField::Username, &s.username},
                                                              {MqttField::Password, &s.password},
                                                              {MqttField::CaCert, &s.ca_cert}};
  for (const auto& [field, value] : fields) {
    if (auto e = check_mqtt_field(field, *value)) return MqttFieldError{field, *e};
  }
  if (s.port < 1 || s.port > 65535) return MqttFieldError{MqttField::Port, "must be 1..65535"};
  return std::nullopt;
}

std::variant<MqttChangePlan, MqttFieldError> plan_mqtt_change(const MqttSettings& current, const MqttChange& c,
                                                              unsigned serial) {
  MqttChangePlan plan;
  MqttSettings& s = plan.settings;
  s = current;
  if (c.host) s.host = *c.host;
  if (c.port) {
    if (*c.port < 0 || *c.port > 65535) return MqttFieldError{MqttField::Port, "must be 1..65535"};
    s.port = *c.port == 0 ? 1883 : static_cast<int>(*c.port);
  }
  if (c.topic_prefix) s.topic_prefix = c.topic_prefix->empty() ? "SmartEVSE-" + std::to_string(serial) : *c.topic_prefix;
  if (c.username) s.username = *c.username;
  if (c.password) s.password = *c.password;
  if (c.tls) s.tls = *c.tls;
  if (c.ca_cert) s.ca_cert = *c.ca_cert;
  if (auto e = check_mqtt_settings(s)) return *e;

  const bool broker_changed = s.host != current.host || s.port != current.port;
  if (broker_changed && !c.username && !c.password) {
    plan.credentials_cleared = !s.username.empty() || !s.password.empty();
    s.username.clear();
    s.password.clear();
  } else if (broker_changed) {
    // Whichever credential was not given was the old broker's.
    if (!c.username) s.username.clear();
    if (!c.password) s.password.clear();
  }
  plan.tls_turned_off = current.tls && !s.tls;
  return plan;
}

std::string to_json(const MqttSettings& s) {
  nlohmann::ordered_json j;
  j["host"] = s.host;
  j["port"] = s.port;
  j["topic_prefix"] = s.topic_prefix;
  j["username"] = s.username;
  j["password"] = s.password;
  j["tls"] = s.tls;
  j["ca_cert"] = s.ca_cert;
  // Every string was checked (valid UTF-8); replace only keeps a mistake from throwing.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<MqttSettings> mqtt_settings_from_json(const std::string& text, std::string& problem) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  MqttSettings s;
  for (const auto& [key, v] : j.items()) {
    if (key == "port") {
      if (!v.is_number_integer()) {
        problem = "port must be an integer";
        return std::nullopt;
      }
      s.port = static_cast<int>(std::clamp<long long>(v.get<long long>(), -1, 70000));
    } else if (key == "tls") {
      if (!v.is_boolean()) {
        problem = "tls must be true or false";
        return std::nullopt;
      }
      s.tls = v.get<bool>();
    } else if (key == "host" || key == "topic_prefix" || key == "username" || key == "password" || key == "ca_cert") {
      if (!v.is_string()) {
        problem = key + " must be a string";
        return std::nullopt;
      }
      std::string& target = key == "host"           ? s.host
                            : key == "topic_prefix" ? s.topic_prefix
                            : key == "username"     ? s.username
                            : key == "password"     ? s.password
                                                    : s.ca_cert;
      target = v.get<std::string>();
    } else {
      problem = "unknown key '" + core::shown(key) + "'";
      return std::nullopt;
    }
  }
  if (auto e = check_mqtt_settings(s)) {
    constexpr const char* kNames[] = {"host", "port", "topic_prefix", "username", "password", "tls", "ca_cert"};
    problem = std::string{kNames[static_cast<int>(e->field)]} + " " + e->reason;
    return std::nullopt;
  }
  return s;
}

}  // namespace evsed::station
