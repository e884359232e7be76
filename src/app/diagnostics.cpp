#include "evsed/app/diagnostics.hpp"

#include <sys/utsname.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "evsed/auth/accounts.hpp"

namespace evsed::app {

namespace {

using Json = nlohmann::ordered_json;

Json from_toml(const toml::node& n, bool secret) {
  if (secret) return "(set)";
  if (const auto* t = n.as_table()) {
    Json j = Json::object();
    for (const auto& [k, v] : *t) j[std::string{k.str()}] = from_toml(v, secret_key(k.str()));
    return j;
  }
  if (const auto* a = n.as_array()) {
    Json j = Json::array();
    for (const auto& v : *a) j.push_back(from_toml(v, false));
    return j;
  }
  if (const auto* s = n.as_string()) return s->get();
  if (const auto* i = n.as_integer()) return i->get();
  if (const auto* d = n.as_floating_point()) return d->get();
  if (const auto* b = n.as_boolean()) return b->get();
  std::ostringstream other;  // dates and times: as TOML writes them
  n.visit([&](const auto& v) { other << v; });
  return other.str();
}

Json parsed(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

Json system_facts() {
  Json j = Json::object();
  utsname u{};
  if (::uname(&u) == 0) {
    j["kernel"] = std::string{u.sysname} + " " + u.release;
    j["machine"] = u.machine;
  }
  std::ifstream os("/etc/os-release");
  for (std::string line; std::getline(os, line);) {
    if (line.starts_with("PRETTY_NAME=")) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      j["os"] = v;
    }
  }
  return j;
}

}  // namespace

bool secret_key(std::string_view key) {
  for (std::string_view word : {"password", "secret", "token", "passphrase", "private"}) {
    if (key.find(word) != std::string_view::npos && !key.ends_with("_file")) return true;
  }
  return false;
}

std::string redacted_config_json(const std::string& path) {
  Json out;
  try {
    const toml::table t = toml::parse_file(path);
    out = from_toml(t, false);
  } catch (const toml::parse_error& e) {
    out = Json{{"error", std::string{e.description()}}};
  } catch (const std::exception& e) {
    out = Json{{"error", e.what()}};
  }
  return out.dump();
}

std::string configuration_json(const std::vector<std::string>& files) {
  Json j = Json::object();
  for (const auto& path : files) j[path] = parsed(redacted_config_json(path));
  return j.dump();
}

std::string system_json() { return system_facts().dump(); }

std::string without_setup_code(std::string line) {
  for (auto at = line.find(auth::kSetupCodeLabel); at != std::string::npos;
       at = line.find(auth::kSetupCodeLabel, at + 1)) {
    const auto from = at + auth::kSetupCodeLabel.size();
    line.replace(from, std::min(auth::kSetupCodeLength, line.size() - from), "(hidden)");
  }
  return line;
}

std::string diagnostics_bundle(const DiagnosticsFacts& f) {
  Json j = Json::object();
  j["format"] = 1;
  j["generated"] = f.generated;
  j["version"] = f.version;
  j["serialnr"] = f.serial;
  j["uptime_s"] = static_cast<std::int64_t>(f.uptime_s);
  j["system"] = parsed(f.system_json);
  j["access"] = {{"auth", f.auth_mode}, {"trusted_networks", f.trusted_networks},
                 {"accounts", f.accounts}, {"tokens", f.tokens}};
  j["https"] = f.https_fingerprint.empty() ? Json(nullptr) : Json{{"fingerprint_sha256", f.https_fingerprint}};
  j["config"] = parsed(f.config_json);
  j["settings"] = parsed(f.settings_json);
  Json log = Json::array();
  for (const auto& line : f.recent_log) log.push_back(without_setup_code(line));
  j["log"] = log;
  return j.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace evsed::app
