#include "evsed/mqtt/mqtt_settings.hpp"

#include <nlohmann/json.hpp>

namespace evsed::mqtt {

std::string effective_prefix(const MqttSettings& s, unsigned serial) {
  return s.topic_prefix.empty() ? "SmartEVSE/" + std::to_string(serial) : s.topic_prefix;
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
  // Strings come from users: never let invalid UTF-8 throw.
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
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 65535) {
        problem = "port must be 1..65535";
        return std::nullopt;
      }
      s.port = v.get<int>();
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
      problem = "unknown key '" + key + "'";
      return std::nullopt;
    }
  }
  return s;
}

}  // namespace evsed::mqtt
