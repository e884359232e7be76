#pragma once
// The diagnostics download (GET /diagnostics, admins only): what someone
// helping with a charger asks for first, in one JSON file. It is built from
// what evsed already shows plus the recent log and the configuration files
// with every secret replaced; nothing in it may be a password, token or key.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evsed::app {

struct DiagnosticsFacts {
  std::string version;
  std::uint32_t serial = 0;
  std::int64_t generated = 0;   // Unix time
  double uptime_s = 0;
  std::string settings_json;    // GET /settings as it is now
  std::string config_json;      // configuration_json(), made when the files were read
  std::string system_json;      // system_json(), made at start
  std::string auth_mode;
  std::vector<std::string> trusted_networks;
  std::size_t accounts = 0;
  std::size_t tokens = 0;
  std::string https_fingerprint;  // empty: no HTTPS
  std::vector<std::string> recent_log;  // oldest first
};

// A configuration key whose value is a secret (its presence is shown, not it).
bool secret_key(std::string_view key);

// One TOML file as JSON with secret values replaced by "(set)"; a file that
// cannot be read or parsed gives {"error": ...} instead.
std::string redacted_config_json(const std::string& path);
// {path: redacted_config_json(path), ...}: read from disk, so made at start and
// reload (when the files are read anyway), not at each download.
std::string configuration_json(const std::vector<std::string>& files);
// Kernel, machine and OS release.
std::string system_json();

// A log line with the first admin's one-time code (if it names one) hidden.
std::string without_setup_code(std::string line);

std::string diagnostics_bundle(const DiagnosticsFacts& f);

}  // namespace evsed::app
