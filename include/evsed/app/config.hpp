#pragma once
// The installer's configuration file (/etc/evsed/evsed.toml). Parsing is strict:
// an unknown key, a wrong type or a value out of range is one clear error line,
// and nothing starts half-configured.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evsed/core/settings.hpp"
#include "evsed/hw/gpio_board.hpp"
#include "evsed/meters/meter_type.hpp"
#include "evsed/meters/profile.hpp"
#include "evsed/station/access.hpp"
#include "evsed/station/mqtt_settings.hpp"

namespace evsed::app {

enum class BoardKind : std::uint8_t { Sim, Gpio };

struct MeterConfig {
  meters::MeterType type = meters::MeterType::Disabled;
  int address = 0;
  friend bool operator==(const MeterConfig&, const MeterConfig&) = default;
};

struct ModbusConfig {
  std::string port = "/dev/ttyAMA0";
  int baud = 9600;
  char parity = 'N';
  int stop_bits = 1;
  int response_timeout_ms = 150;
  int turnaround_ms = 10;
  int poll_interval_ms = 2000;
  bool rs485 = false;
  friend bool operator==(const ModbusConfig&, const ModbusConfig&) = default;
};

// [sessions]: the charging-session log.
struct SessionsConfig {
  bool enabled = true;
  std::string database;  // empty: sessions.db in the state directory
  int update_interval_s = 60;
  int keep_days = 0;   // 0: no limit by age
  int keep_count = 0;  // 0: no limit by count
  friend bool operator==(const SessionsConfig&, const SessionsConfig&) = default;
};

// [simulator]: how the simulated car is found at start (with --simulate).
enum class SimulatedCar : std::uint8_t { Unplugged, Connected, Charging };

struct Config {
  std::optional<std::uint32_t> serial;  // empty: derived from /etc/machine-id
  std::optional<std::string> http_listen;
  std::vector<std::string> allowed_hosts;  // [http] names besides IPs, localhost and this host's name
  int max_connections_per_client = 64;
  station::AccessMode auth = station::AccessMode::Writes;  // [http] auth
  std::vector<std::string> trusted_networks{"127.0.0.0/8", "::1"};  // their requests count as admin
  int write_limit = 120;                  // changes per minute per address (0: no limit); trusted ones are not counted
  bool redirect_to_https = false;         // plain HTTP answers 308 to HTTPS, except trusted_networks and plain_http_from
  std::vector<std::string> plain_http_from;  // clients that cannot do HTTPS (an old evcc)
  std::optional<std::string> tls_listen;  // HTTPS ADDR:PORT; empty: none
  std::string tls_cert;  // PEM files; empty: a self-signed pair in <state dir>/tls/
  std::string tls_key;
  std::string www_root;  // the dashboard's files; empty: the installed ones (the source tree's from a build)
  BoardKind board = BoardKind::Sim;
  hw::GpioBoardConfig gpio;  // [board] keys of the "gpio" board
  core::Settings settings;  // installer settings; run-time ones at their defaults
  bool mains_meter_given = false;
  MeterConfig mains_meter{meters::MeterType::Disabled, 10};
  MeterConfig ev_meter{meters::MeterType::Disabled, 12};
  MeterConfig circuit_meter{meters::MeterType::Disabled, 13};
  ModbusConfig modbus;
  std::optional<meters::CustomMeter> custom_meter;  // [custom_meter], for type "Custom"
  station::MqttSettings mqtt;
  bool mqtt_discovery = true;  // Home Assistant discovery messages
  std::string mqtt_ca_file;    // PEM CA for TLS; empty: the system's
  std::string mqtt_password_file;  // where the password came from, if from a file
  std::string mqtt_client_cert;  // PEM certificate evsed shows the broker (TLS); empty: none
  std::string mqtt_client_key;   // its private key: readable by the service only
  SessionsConfig sessions;
  SimulatedCar simulated_car = SimulatedCar::Unplugged;
};

// Exit status for a configuration that cannot be used (sysexits EX_CONFIG):
// systemd does not restart on it (RestartPreventExitStatus=78).
inline constexpr int kConfigError = 78;
// A configuration file larger than this is refused, not read.
inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

// Parses TOML text; `source` names the file in error messages.
std::variant<Config, std::string> parse_config(const std::string& text, const std::string& source);
// The main file and its drop-ins (<path>.d/*.toml, merged in name order: a
// later file's key replaces an earlier one's). Every problem is listed, each
// naming its file, line and key.
struct ConfigResult {
  std::optional<Config> config;  // set when there is no problem
  std::vector<std::string> problems;
  std::vector<std::string> files;  // what was read, in order
  [[nodiscard]] std::string message() const;  // the problems, one per line
};
ConfigResult load_config_files(const std::string& path);
std::vector<std::string> drop_in_files(const std::string& path, std::vector<std::string>& problems);
std::variant<Config, std::string> load_config(const std::string& path);
struct Options;
// What the command line asks for: the named file (which must exist), or the
// default one (built-in defaults when it is missing), with --simulate applied.
ConfigResult configuration_for(const Options& options);
// Only the [board] section (the rest of the file is not checked): what
// `--safe-state` needs to reach the hardware when another section is wrong.
std::variant<Config, std::string> load_board_config(const std::string& path);

// Fills in what depends on the command line: --simulate forces the simulated
// board, and a simulated site's meter when the config names no mains meter.
void apply_simulation(Config& c);

// Copies the meter choices into the controller's settings (present or not).
void apply_meters(Config& c);

// "ADDR:PORT" / "[v6]:PORT", or several separated by commas: checks the form;
// the HTTP server resolves them.
std::optional<std::string> check_listen_address(const std::string& s);

// "section.key" for every key the configuration takes (docs are checked against it).
std::vector<std::string> config_keys();

// SmartEVSE-style serial number from /etc/machine-id (6 digits), or 1 if unreadable.
std::uint32_t serial_from_machine_id(const std::string& path = "/etc/machine-id");

}  // namespace evsed::app
