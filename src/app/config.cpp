#include "evsed/app/config.hpp"

#include "evsed/auth/network.hpp"

#include "evsed/app/options.hpp"
#include "evsed/app/settings_store.hpp"
#include "evsed/core/meter_reading.hpp"
#include "evsed/core/outside_text.hpp"

#include <toml++/toml.h>

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <array>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string_view>

namespace evsed::app {

namespace {

using namespace std::string_literals;

// Every key of every section: the parser checks against these, and
// config_keys() hands them to the tests that keep the docs in step.
constexpr std::array<std::string_view, 3> kMeterKeys{"type", "address", "timeout"};
constexpr std::array<std::string_view, 23> kBoardKeys{"kind", "sysfs_root", "dev_root", "pwm_chip", "pwm_channel", "pwm_inverted", "adc_device", "adc_channel", "adc_sampling_frequency", "adc_samples_per_window", "pilot_gain", "pilot_offset", "proximity_channel", "thermal_zone", "contactor1", "contactor2", "pilot_disconnect", "lock_a", "lock_b", "lock_feedback", "rcm", "switch", "led"};
constexpr std::array<std::string_view, 12> kTopKeys{"serial", "http", "board", "evse", "mains_meter", "ev_meter", "circuit_meter", "custom_meter", "modbus", "mqtt", "sessions", "simulator"};
constexpr std::array<std::string_view, 12> kHttpKeys{"listen", "allowed_hosts", "max_connections_per_client", "www_root", "auth", "trusted_networks", "tls_listen", "tls_cert", "tls_key", "write_limit", "redirect_to_https", "plain_http_from"};
constexpr std::array<std::string_view, 10> kEvseKeys{"config", "current_min", "current_max", "current_main", "current_max_circuit", "enable_C2", "max_temp", "rcmon", "lock", "switch"};
constexpr std::array<std::string_view, 9> kCustomMeterKeys{"byte_order", "data_type", "function", "current_register", "current_divisor", "power_register", "power_divisor", "energy_register", "energy_divisor"};
constexpr std::array<std::string_view, 8> kModbusKeys{"port", "baud", "parity", "stop_bits", "response_timeout_ms", "turnaround_ms", "poll_interval_ms", "rs485"};
constexpr std::array<std::string_view, 5> kSessionsKeys{"enabled", "database", "update_interval", "keep_days", "keep_count"};
constexpr std::array<std::string_view, 1> kSimulatorKeys{"car"};
constexpr std::array<std::string_view, 11> kMqttKeys{"host", "port", "topic_prefix", "username", "password", "password_file", "tls", "ca_file", "client_cert", "client_key", "discovery"};

// Thrown inside this file only; parse_config turns it into the error value.
struct ConfigError {
  std::string message;
};

std::string shown(const toml::node& n) {
  std::ostringstream os;
  n.visit([&](const auto& v) { os << v; });
  return core::shown(os.str());
}

// "FILE: line N: " of a node: with drop-ins, the file it came from.
std::string where(const toml::node& n) {
  const auto& src = n.source();
  return (src.path ? *src.path + ": " : std::string{}) + "line " + std::to_string(src.begin.line) + ": ";
}

// The key a parse error's line assigns, with its table: "evse.current_max".
std::string key_at(const std::string& text, std::size_t line) {
  std::istringstream in(text);
  std::string l, table, key;
  for (std::size_t n = 1; std::getline(in, l) && n <= line; ++n) {
    const auto first = l.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    if (l[first] == '[') {
      const auto close = l.find(']', first);
      table = close == std::string::npos ? "" : l.substr(first + 1, close - first - 1);
      table.erase(std::remove(table.begin(), table.end(), '['), table.end());
    } else if (n == line) {
      const auto eq = l.find('=', first);
      if (eq != std::string::npos) {
        key = l.substr(first, eq - first);
        key.erase(key.find_last_not_of(" \t") + 1);
      }
    }
  }
  if (key.empty()) return {};
  return core::shown(table.empty() ? key : table + "." + key);
}

// A file with a secret (a password, a private key) that every user may read
// is refused, as ssh does: only the service (and its group) should.
std::optional<std::string> private_file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::string{"cannot be read: "} + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return std::string{"is not a regular file"};
  if ((st.st_mode & S_IROTH) != 0) {
    return std::string{"every user may read it; make it the service's alone (chmod 600, or 640 with group evsed)"};
  }
  return std::nullopt;
}

std::string parse_error_message(const toml::parse_error& e, const std::string& text, const std::string& source) {
  const auto line = e.source().begin.line;
  const std::string key = key_at(text, line);
  return source + ": line " + std::to_string(line) + ": " + (key.empty() ? "" : key + ": ") +
         core::shown(std::string{e.description()});
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number with a fraction";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

class Section {
 public:
  template <std::size_t N>
  Section(const toml::table* t, std::string name, const std::array<std::string_view, N>& keys)
      : table_(t), name_(std::move(name)), keys_(keys.begin(), keys.end()) {
    if (!table_) return;
    for (const auto& [k, v] : *table_) {
      if (std::find(keys_.begin(), keys_.end(), k.str()) == keys_.end()) {
        std::string allowed;
        for (auto a : keys_) allowed += (allowed.empty() ? "" : ", ") + std::string{a};
        fail(v, "unknown key '" + path(k.str()) + "' (allowed in " + (name_.empty() ? "the top level"s : "[" + name_ + "]") +
                    ": " + allowed + ")");
      }
    }
  }

  [[nodiscard]] bool present() const { return table_ != nullptr; }
  [[nodiscard]] bool has(std::string_view key) const { return table_ && table_->contains(key); }

  std::optional<long long> integer(std::string_view key) const {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(*n, path(key) + " = " + shown(*n) + " is not allowed (allowed: an integer, not " + type_name(*n) + ")");
    return n->as_integer()->get();
  }

  void integer(std::string_view key, const core::IntRange& range, int& out, bool zero_means_off = false) const {
    if (auto v = integer(key)) {
      if (auto e = core::check_range(range, *v, zero_means_off)) {
        fail(*node(key), path(key) + " = " + std::to_string(*v) + " is not allowed (allowed: " + e->allowed + ")");
      }
      out = static_cast<int>(*v);
    }
  }

  void real(std::string_view key, double lo, double hi, double& out) const {
    const toml::node* n = node(key);
    if (!n) return;
    if (!n->is_number()) fail(*n, path(key) + " = " + shown(*n) + " is not allowed (allowed: a number)");
    const double v = n->is_integer() ? static_cast<double>(n->as_integer()->get()) : n->as_floating_point()->get();
    if (!(v >= lo && v <= hi)) {
      fail(*n, path(key) + " = " + shown(*n) + " is not allowed (allowed: " + std::to_string(lo) + ".." +
                   std::to_string(hi) + ")");
    }
    out = v;
  }

  void line(std::string_view key, std::optional<hw::LineSpec>& out) const {
    if (auto s = string(key)) {
      std::string error;
      out = hw::parse_line_spec(*s, error);
      if (!error.empty()) fail(*node(key), path(key) + " = \"" + *s + "\" is not allowed (" + error + ")");
    }
  }

  // A file or directory named from the root: `what` says which ("file", "directory").
  void absolute_path(std::string_view key, std::string_view what, std::string& out) const {
    const auto v = string(key);
    if (!v) return;
    if (v->empty() || v->front() != '/' || core::has_control(*v)) {
      fail(*node_of(key), path(key) + " = \"" + core::shown(*v) + "\" is not allowed (allowed: an absolute " +
                              std::string{what} + " path)");
    }
    out = *v;
  }

  void boolean(std::string_view key, bool& out) const {
    const toml::node* n = node(key);
    if (!n) return;
    if (!n->is_boolean()) fail(*n, path(key) + " = " + shown(*n) + " is not allowed (allowed: true or false)");
    out = n->as_boolean()->get();
  }

  std::optional<std::string> string(std::string_view key) const {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(*n, path(key) + " = " + shown(*n) + " is not allowed (allowed: a string in quotes, not " + type_name(*n) + ")");
    return n->as_string()->get();
  }

  template <class T, class FromName>
  void choice(std::string_view key, T& out, FromName from_name, const std::string& allowed) const {
    if (auto s = string(key)) {
      auto v = from_name(*s);
      if (!v) fail(*node(key), path(key) + " = \"" + *s + "\" is not allowed (allowed: " + allowed + ")");
      out = *v;
    }
  }

  // An array of strings, each checked by `check` (its reason says what is allowed).
  template <class Check>
  std::vector<std::string> strings(std::string_view key, Check check) const {
    std::vector<std::string> out;
    const toml::node* n = node(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(*n, path(key) + " = " + shown(*n) + " is not allowed (allowed: an array of strings)");
    for (const auto& e : *a) {
      if (!e.is_string()) fail(e, path(key) + " has " + shown(e) + " (allowed: strings only)");
      const std::string v = e.as_string()->get();
      if (auto why = check(v)) fail(e, path(key) + " has \"" + core::shown(v) + "\" (allowed: " + *why + ")");
      out.push_back(v);
    }
    return out;
  }

  [[nodiscard]] const toml::node* node_of(std::string_view key) const { return node(key); }

  [[noreturn]] void fail(const toml::node& n, const std::string& message) const {
    throw ConfigError{where(n) + message};
  }

  std::string path(std::string_view key) const {
    return name_.empty() ? std::string{key} : name_ + "." + std::string{key};
  }

 private:
  const toml::node* node(std::string_view key) const { return table_ ? table_->get(key) : nullptr; }

  const toml::table* table_;
  std::string name_;
  std::vector<std::string_view> keys_;
};

const toml::table* subtable(const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) {
    throw ConfigError{where(*n) + std::string{name} +
                      " must be a table ([" + std::string{name} + "]), not " + type_name(*n)};
  }
  return n->as_table();
}

template <std::size_t N>
std::string quoted(const std::array<std::string_view, N>& names) {
  std::string s;
  for (auto n : names) s += (s.empty() ? "\"" : ", \"") + std::string{n} + "\"";
  return s;
}

void read_meter(const toml::table& root, std::string_view name, core::MeterRole role, const core::IntRange& address_range,
                MeterConfig& meter, core::Seconds& timeout, bool& given) {
  const toml::table* t = subtable(root, name);
  Section s(t, std::string{name}, kMeterKeys);
  given = s.present() && s.has("type");
  s.choice("type", meter.type, meters::meter_type_from_name, meters::meter_type_names());
  if (meter.type == meters::MeterType::Unused4) {
    s.fail(*t->get("type"), s.path("type") + " = \"Unused 4\" is not a meter");
  }
  if (meter.type == meters::MeterType::HomeWizard) {
    s.fail(*t->get("type"), s.path("type") + " = \"Homewizrd\" is not supported by evsed (use \"API\" and feed it)");
  }
  if (meter.type == meters::MeterType::Sensorbox && role != core::MeterRole::Mains) {
    s.fail(*t->get("type"), s.path("type") + " = \"Sensorbox\" can only be the mains meter");
  }
  if (meter.type == meters::MeterType::SolarEdge && role == core::MeterRole::Ev) {
    s.fail(*t->get("type"), s.path("type") + " = \"SolarEdge\" measures the grid or PV, not a charger");
  }
  if (meter.type == meters::MeterType::Sim && role == core::MeterRole::Circuit) {
    s.fail(*t->get("type"), s.path("type") + " = \"Sim\" is the simulated site's mains meter or the simulated car's EV meter");
  }
  s.integer("address", address_range, meter.address);
  int seconds = static_cast<int>(timeout.count());
  s.integer("timeout", core::ranges::kMeterTimeout, seconds);
  timeout = core::Seconds{seconds};
}

// [board] alone: `--safe-state` must reach the hardware even when another
// section of the file is wrong.
void parse_board(const toml::table& root, Config& c) {
  Section board(subtable(root, "board"), "board",
                kBoardKeys);
  board.choice(
      "kind", c.board,
      [](std::string_view s) -> std::optional<BoardKind> {
        if (s == "sim") return BoardKind::Sim;
        if (s == "gpio") return BoardKind::Gpio;
        return std::nullopt;
      },
      "\"sim\", \"gpio\"");
  hw::GpioBoardConfig& g = c.gpio;
  if (auto v = board.string("sysfs_root")) g.sysfs_root = g.pwm.sysfs_root = g.adc.sysfs_root = *v;
  if (auto v = board.string("dev_root")) g.dev_root = g.adc.dev_root = *v;
  board.integer("pwm_chip", {"pwm_chip", 0, 63}, g.pwm.chip);
  board.integer("pwm_channel", {"pwm_channel", 0, 63}, g.pwm.channel);
  board.boolean("pwm_inverted", g.pwm.inverted);
  board.integer("adc_device", {"adc_device", 0, 63}, g.adc.device);
  board.integer("adc_channel", {"adc_channel", 0, 63}, g.adc.channel);
  board.integer("adc_sampling_frequency", {"adc_sampling_frequency", 0, 1000000}, g.adc.sampling_frequency);
  board.integer("adc_samples_per_window", {"adc_samples_per_window", 1, 1000}, g.adc.samples_per_window);
  board.real("pilot_gain", -100.0, 100.0, g.adc.gain);
  board.real("pilot_offset", -100.0, 100.0, g.adc.offset);
  board.integer("proximity_channel", {"proximity_channel", -1, 63}, g.proximity_channel);
  board.integer("thermal_zone", {"thermal_zone", -1, 63}, g.thermal_zone);
  board.line("contactor1", g.contactor1);
  board.line("contactor2", g.contactor2);
  board.line("pilot_disconnect", g.pilot_disconnect);
  board.line("lock_a", g.lock_a);
  board.line("lock_b", g.lock_b);
  board.line("lock_feedback", g.lock_feedback);
  board.line("rcm", g.rcm);
  board.line("switch", g.external_switch);
  board.line("led", g.led);
  if (g.lock_a.has_value() != g.lock_b.has_value() || (g.lock_feedback && !g.lock_a)) {
    throw ConfigError{"board.lock_a and board.lock_b drive the lock together: set both (and lock_feedback only with them)"};
  }
  if (c.board == BoardKind::Gpio && !g.contactor1) {
    throw ConfigError{"board.contactor1 is required for the gpio board (the main contactor's line)"};
  }
}

// Every section is read on its own, so one run reports a problem in each.
struct Problems {
  std::vector<std::string> list;
  template <class F>
  void section(F f) {
    try {
      f();
    } catch (const ConfigError& e) {
      list.push_back(e.message);
    }
  }
};

Config parse_root(const toml::table& root, Problems& problems) {
  Config c;
  core::Settings& st = c.settings;

  problems.section([&] {
  Section top(&root, "", kTopKeys);
  if (auto serial = top.integer("serial")) {
    if (*serial < 1 || *serial > 99'999'999) {
      throw ConfigError{"serial = " + std::to_string(*serial) + " is not allowed (allowed: 1..99999999)"};
    }
    c.serial = static_cast<std::uint32_t>(*serial);
  }
  });

  problems.section([&] {
  Section http(subtable(root, "http"), "http", kHttpKeys);
  if (auto listen = http.string("listen")) {
    if (auto e = check_listen_address(*listen)) {
      http.fail(*http.node_of("listen"), "http.listen = \"" + core::shown(*listen) + "\" is not allowed (" + *e + ")");
    }
    c.http_listen = *listen;
  }
  c.allowed_hosts = http.strings("allowed_hosts", [](const std::string& name) -> std::optional<std::string> {
    if (name.empty() || name.size() > 253 || core::has_control(name) ||
        name.find_first_of(" /:@[]") != std::string::npos) {
      return std::string{"a host name (no spaces, ports or schemes)"};
    }
    return std::nullopt;
  });
  http.integer("max_connections_per_client", {"max_connections_per_client", 1, 10000}, c.max_connections_per_client);
  std::string modes;
  for (const auto& m : station::kAccessModes) modes += (modes.empty() ? "\"" : ", \"") + std::string{m.name} + "\"";
  http.choice("auth", c.auth, station::access_mode_from, modes);
  if (auto tls = http.string("tls_listen")) {
    if (auto e = check_listen_address(*tls)) {
      http.fail(*http.node_of("tls_listen"), "http.tls_listen = \"" + core::shown(*tls) + "\" is not allowed (" + *e + ")");
    }
    c.tls_listen = *tls;
  }
  http.absolute_path("tls_cert", "file", c.tls_cert);
  http.absolute_path("tls_key", "file", c.tls_key);
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    throw ConfigError{"http.tls_cert and http.tls_key go together (both, or neither for a self-signed pair)"};
  }
  const auto network = [](const std::string& text) -> std::optional<std::string> {
    std::string error;
    if (!auth::parse_network(text, error)) return error;
    return std::nullopt;
  };
  if (http.has("trusted_networks")) c.trusted_networks = http.strings("trusted_networks", network);
  http.integer("write_limit", {"write_limit", 0, 100000}, c.write_limit);
  http.boolean("redirect_to_https", c.redirect_to_https);
  if (http.has("plain_http_from")) c.plain_http_from = http.strings("plain_http_from", network);
  if (c.redirect_to_https && !c.tls_listen) {
    http.fail(*http.node_of("redirect_to_https"), "http.redirect_to_https needs http.tls_listen (where to send them)");
  }
  http.absolute_path("www_root", "directory", c.www_root);
  });

  problems.section([&] {
  Section sessions(subtable(root, "sessions"), "sessions", kSessionsKeys);
  sessions.boolean("enabled", c.sessions.enabled);
  if (auto db = sessions.string("database")) {
    if (db->empty() || db->front() != '/' || core::has_control(*db)) {
      sessions.fail(*sessions.node_of("database"),
                    "sessions.database = \"" + core::shown(*db) + "\" is not allowed (allowed: an absolute file path)");
    }
    c.sessions.database = *db;
  }
  sessions.integer("update_interval", {"update_interval", 1, 60}, c.sessions.update_interval_s);
  sessions.integer("keep_days", {"keep_days", 0, 36500}, c.sessions.keep_days);
  sessions.integer("keep_count", {"keep_count", 0, 10'000'000}, c.sessions.keep_count);
  });

  problems.section([&] {
  Section sim(subtable(root, "simulator"), "simulator", kSimulatorKeys);
  sim.choice(
      "car", c.simulated_car,
      [](std::string_view n) -> std::optional<SimulatedCar> {
        if (n == "unplugged") return SimulatedCar::Unplugged;
        if (n == "connected") return SimulatedCar::Connected;
        if (n == "charging") return SimulatedCar::Charging;
        return std::nullopt;
      },
      "\"unplugged\", \"connected\", \"charging\"");
  });

  problems.section([&] { parse_board(root, c); });
  hw::GpioBoardConfig& g = c.gpio;

  problems.section([&] {
  Section evse(subtable(root, "evse"), "evse",
               kEvseKeys);
  evse.choice("config", st.cable, core::cable_config_from_name, core::list_of(core::cable_config_names(), true));
  int v = st.min_current.value();
  evse.integer("current_min", core::ranges::kCurrentMin, v);
  st.min_current = core::Amps{v};
  v = st.max_current.value();
  evse.integer("current_max", core::ranges::kCurrentMax, v);
  st.max_current = core::Amps{v};
  v = st.max_mains.value();
  evse.integer("current_main", core::ranges::kCurrentMain, v);
  st.max_mains = core::Amps{v};
  v = st.max_circuit.value();
  evse.integer("current_max_circuit", core::ranges::kCurrentMaxCircuit, v);
  st.max_circuit = core::Amps{v};
  evse.choice("enable_C2", st.enable_c2, core::enable_c2_from_name, core::list_of(core::enable_c2_names(), true));
  evse.integer("max_temp", core::ranges::kMaxTemp, st.max_temp_c);
  evse.boolean("rcmon", st.rcm_enabled);
  evse.choice("lock", st.lock, core::lock_type_from_name, core::list_of(core::lock_type_names(), true));
  g.lock_feedback_high_when_locked = st.lock == core::LockType::Motor;
  evse.choice("switch", st.external_switch, core::switch_function_from_name,
              core::list_of(core::switch_function_names(), true));
  if (st.min_current > st.max_current) {
    throw ConfigError{"evse.current_min = " + std::to_string(st.min_current.value()) +
                      " is not allowed (allowed: at most evse.current_max = " +
                      std::to_string(st.max_current.value()) + ")"};
  }
  });

  bool ev_given = false;
  bool circuit_given = false;
  problems.section([&] {
    read_meter(root, "mains_meter", core::MeterRole::Mains, {"address", 10, 247}, c.mains_meter,
               st.mains_meter_timeout, c.mains_meter_given);
  });
  problems.section([&] {
    read_meter(root, "ev_meter", core::MeterRole::Ev, {"address", 11, 247}, c.ev_meter, st.ev_meter_timeout, ev_given);
  });
  problems.section([&] {
    read_meter(root, "circuit_meter", core::MeterRole::Circuit, {"address", 10, 247}, c.circuit_meter,
               st.circuit_meter_timeout, circuit_given);
  });
  // The Sensorbox always answers at address 10.
  if (c.mains_meter.type == meters::MeterType::Sensorbox) c.mains_meter.address = 10;

  problems.section([&] {
  if (const toml::table* t = subtable(root, "custom_meter")) {
    Section cm(t, "custom_meter",
               kCustomMeterKeys);
    meters::CustomMeter m;
    cm.choice(
        "byte_order", m.order,
        [](std::string_view v) -> std::optional<meters::Endianness> {
          constexpr std::array<std::string_view, 4> kNames{"LBF & LWF", "LBF & HWF", "HBF & LWF", "HBF & HWF"};
          for (std::size_t i = 0; i < kNames.size(); ++i) {
            if (kNames[i] == v) return static_cast<meters::Endianness>(i);
          }
          return std::nullopt;
        },
        "\"LBF & LWF\", \"LBF & HWF\", \"HBF & LWF\", \"HBF & HWF\"");
    cm.choice(
        "data_type", m.data,
        [](std::string_view v) -> std::optional<meters::DataType> {
          if (v == "INT32") return meters::DataType::Int32;
          if (v == "FLOAT32") return meters::DataType::Float32;
          if (v == "INT16") return meters::DataType::Int16;
          return std::nullopt;
        },
        "\"INT32\", \"FLOAT32\", \"INT16\"");
    cm.integer("function", {"function", 3, 4}, m.function);
    int reg = m.current_reg;
    cm.integer("current_register", {"current_register", 0, 65530}, reg);
    m.current_reg = static_cast<std::uint16_t>(reg);
    reg = m.power_reg;
    cm.integer("power_register", {"power_register", 0, 65534}, reg);
    m.power_reg = static_cast<std::uint16_t>(reg);
    reg = m.energy_reg;
    cm.integer("energy_register", {"energy_register", 0, 65534}, reg);
    m.energy_reg = static_cast<std::uint16_t>(reg);
    cm.integer("current_divisor", {"current_divisor", 0, 7}, m.current_div);
    cm.integer("power_divisor", {"power_divisor", 0, 7}, m.power_div);
    cm.integer("energy_divisor", {"energy_divisor", 0, 7}, m.energy_div);
    c.custom_meter = m;
  }
  for (const auto* m : {&c.mains_meter, &c.ev_meter, &c.circuit_meter}) {
    if (m->type == meters::MeterType::Custom && !c.custom_meter) {
      throw ConfigError{"a meter of type \"Custom\" needs a [custom_meter] section (see docs/meters.md)"};
    }
  }
  });

  problems.section([&] {
  Section modbus(subtable(root, "modbus"), "modbus",
                 kModbusKeys);
  if (auto port = modbus.string("port")) c.modbus.port = *port;
  if (auto baud = modbus.integer("baud")) {
    constexpr std::array<long long, 8> kBauds{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};
    if (std::find(kBauds.begin(), kBauds.end(), *baud) == kBauds.end()) {
      modbus.fail(*modbus.node_of("baud"), "modbus.baud = " + std::to_string(*baud) +
                                               " is not allowed (allowed: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)");
    }
    c.modbus.baud = static_cast<int>(*baud);
  }
  modbus.choice(
      "parity", c.modbus.parity,
      [](std::string_view s) -> std::optional<char> {
        if (s == "N" || s == "E" || s == "O") return s[0];
        return std::nullopt;
      },
      "\"N\", \"E\", \"O\"");
  modbus.integer("stop_bits", {"stop_bits", 1, 2}, c.modbus.stop_bits);
  modbus.integer("response_timeout_ms", {"response_timeout_ms", 20, 5000}, c.modbus.response_timeout_ms);
  modbus.integer("turnaround_ms", {"turnaround_ms", 0, 1000}, c.modbus.turnaround_ms);
  modbus.integer("poll_interval_ms", {"poll_interval_ms", 100, 60000}, c.modbus.poll_interval_ms);
  modbus.boolean("rs485", c.modbus.rs485);
  });

  problems.section([&] {
  Section mqtt(subtable(root, "mqtt"), "mqtt",
               kMqttKeys);
  // The same rules as for settings changed at run time (station/mqtt_settings).
  const std::pair<std::string_view, std::pair<station::MqttField, std::string*>> mqtt_strings[] = {
      {"host", {station::MqttField::Host, &c.mqtt.host}},
      {"topic_prefix", {station::MqttField::TopicPrefix, &c.mqtt.topic_prefix}},
      {"username", {station::MqttField::Username, &c.mqtt.username}},
      {"password", {station::MqttField::Password, &c.mqtt.password}}};
  for (const auto& [key, target] : mqtt_strings) {
    if (auto v = mqtt.string(key)) {
      if (auto e = station::check_mqtt_field(target.first, *v)) {
        const bool secret = key == "password";
        mqtt.fail(*mqtt.node_of(key), "mqtt." + std::string{key} + " = " +
                                          (secret ? std::string{"(hidden)"} : "\"" + core::shown(*v) + "\"") +
                                          " is not allowed (it " + *e + ")");
      }
      *target.second = *v;
    }
  }
  mqtt.integer("port", {"port", 1, 65535}, c.mqtt.port);
  mqtt.boolean("tls", c.mqtt.tls);
  if (auto s = mqtt.string("ca_file")) c.mqtt_ca_file = *s;
  mqtt.absolute_path("client_cert", "file", c.mqtt_client_cert);
  mqtt.absolute_path("client_key", "file", c.mqtt_client_key);
  if (c.mqtt_client_cert.empty() != c.mqtt_client_key.empty()) {
    throw ConfigError{"mqtt.client_cert and mqtt.client_key go together"};
  }
  if (!c.mqtt_client_key.empty()) {
    if (auto e = private_file_problem(c.mqtt_client_key)) {
      mqtt.fail(*mqtt.node_of("client_key"), "mqtt.client_key = \"" + core::shown(c.mqtt_client_key) + "\": " + *e);
    }
  }
  mqtt.boolean("discovery", c.mqtt_discovery);
  if (auto file = mqtt.string("password_file")) {
    const toml::node& n = *mqtt.node_of("password_file");
    if (mqtt.has("password")) mqtt.fail(n, "mqtt.password and mqtt.password_file are both set: keep one");
    std::string error;
    auto text = read_regular_file(*file, 4096, error);
    if (!text) mqtt.fail(n, "mqtt.password_file = \"" + core::shown(*file) + "\": " + (error.empty() ? "not found" : error));
    if (auto e = private_file_problem(*file)) mqtt.fail(n, "mqtt.password_file = \"" + core::shown(*file) + "\": " + *e);
    // The file holds the password alone; a final line break is not part of it.
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
    if (auto e = station::check_mqtt_field(station::MqttField::Password, *text)) {
      mqtt.fail(n, "mqtt.password_file = \"" + core::shown(*file) + "\": the password " + *e);
    }
    c.mqtt.password = *text;
    c.mqtt_password_file = *file;
  }
  });

  apply_meters(c);
  return c;
}

}  // namespace

void apply_meters(Config& c) {
  using meters::MeterType;
  c.settings.has_mains_meter = c.mains_meter.type != MeterType::Disabled;
  c.settings.has_ev_meter = c.ev_meter.type != MeterType::Disabled;
  c.settings.has_circuit_meter = c.circuit_meter.type != MeterType::Disabled;
}

void apply_simulation(Config& c) {
  c.board = BoardKind::Sim;
  if (!c.mains_meter_given) c.mains_meter.type = meters::MeterType::Sim;
  apply_meters(c);
}

namespace {

// Later tables win key by key; sub-tables are merged, not replaced.
// Nodes are moved, not copied: a moved node keeps where it came from, so a
// problem names the drop-in and line of the key.
void merge_into(toml::table& into, toml::table&& from) {
  for (auto&& [key, node] : from) {
    if (toml::table* sub = node.as_table()) {
      if (toml::table* existing = into.get_as<toml::table>(key)) {
        merge_into(*existing, std::move(*sub));
        continue;
      }
    }
    into.insert_or_assign(key, std::move(node));
  }
}

ConfigResult finish(const toml::table& root, const std::string& source, std::vector<std::string> problems) {
  ConfigResult r;
  Problems p;
  p.list = std::move(problems);
  Config c = parse_root(root, p);
  if (p.list.empty()) {
    if (auto e = core::validate_settings(c.settings)) p.list.push_back(e->message());
  }
  // Problems without a node of their own belong to the main file.
  for (auto& m : p.list) {
    if (m.find(": line ") == std::string::npos && !m.starts_with(source)) m = source + ": " + m;
  }
  r.problems = std::move(p.list);
  if (r.problems.empty()) r.config = std::move(c);
  return r;
}

}  // namespace

std::string ConfigResult::message() const {
  std::string s;
  for (const auto& p : problems) s += (s.empty() ? "" : "\n") + p;
  return s;
}

std::variant<Config, std::string> parse_config(const std::string& text, const std::string& source) {
  try {
    toml::table root = toml::parse(text, std::string_view{source});
    auto r = finish(root, source, {});
    if (!r.config) return r.message();
    return *r.config;
  } catch (const toml::parse_error& e) {
    return parse_error_message(e, text, source);
  }
}

std::vector<std::string> drop_in_files(const std::string& path, std::vector<std::string>& problems) {
  std::vector<std::string> files;
  const std::filesystem::path dir{path + ".d"};
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".toml") continue;
    files.push_back(e.path().string());
  }
  if (ec) problems.push_back(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

ConfigResult load_config_files(const std::string& path) {
  ConfigResult r;
  std::vector<std::string> problems;
  toml::table root;
  auto read_one = [&](const std::string& file, bool required) {
    std::string error;
    const auto text = read_regular_file(file, kMaxConfigBytes, error);
    if (!text) {
      if (!error.empty() || required) problems.push_back(error.empty() ? file + ": not found" : error);
      return;
    }
    r.files.push_back(file);
    try {
      merge_into(root, toml::parse(*text, std::string_view{file}));
    } catch (const toml::parse_error& e) {
      problems.push_back(parse_error_message(e, *text, file));
    }
  };
  read_one(path, true);
  for (const auto& f : drop_in_files(path, problems)) read_one(f, true);
  if (!problems.empty()) {
    r.problems = std::move(problems);
    return r;
  }
  ConfigResult done = finish(root, path, {});
  done.files = std::move(r.files);
  return done;
}

std::variant<Config, std::string> load_board_config(const std::string& path) {
  // The files that parse, merged: a broken drop-in must not keep the board from being made safe.
  toml::table root;
  std::vector<std::string> problems;
  std::vector<std::string> files{path};
  for (auto& f : drop_in_files(path, problems)) files.push_back(std::move(f));
  bool any = false;
  for (const auto& file : files) {
    std::string error;
    const auto text = read_regular_file(file, kMaxConfigBytes, error);
    if (!text) continue;
    try {
      merge_into(root, toml::parse(*text, std::string_view{file}));
      any = true;
    } catch (const toml::parse_error&) {
    }
  }
  if (!any) return path + ": cannot be read";
  try {
    Config c;
    parse_board(root, c);
    return c;
  } catch (const ConfigError& e) {
    return e.message;
  }
}

ConfigResult configuration_for(const Options& options) {
  ConfigResult r;
  std::vector<std::string> ignored;
  const bool has_main = ::access(options.config_path.c_str(), F_OK) == 0;
  if (options.config_given || has_main) {
    r = load_config_files(options.config_path);
  } else {
    r.config = Config{};
  }
  if (r.config && options.simulate) apply_simulation(*r.config);
  return r;
}

std::variant<Config, std::string> load_config(const std::string& path) {
  auto r = load_config_files(path);
  if (!r.config) return r.message();
  return *r.config;
}

std::optional<std::string> check_listen_address(const std::string& list) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const std::string s = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) return "expected ADDRESS:PORT, e.g. 0.0.0.0:80 or [::]:80";
    const std::string host = s.substr(0, colon);
    const std::string port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
      return "the port must be a number 0..65535";
    }
    if (std::stol(port) > 65535) return "the port must be a number 0..65535";
    if (host.front() == '[' && host.back() != ']') return "an IPv6 address goes in brackets: [::1]:8080";
    const bool v6 = host.front() == '[';
    const std::string address = v6 ? host.substr(1, host.size() - 2) : host;
    unsigned char buf[16];
    if (address != "localhost" && inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), buf) != 1) {
      return "'" + core::shown(address) + "' is not an IP address (use e.g. 0.0.0.0:80, [::]:80 or 127.0.0.1:8080)";
    }
  }
  return std::nullopt;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (auto k : kTopKeys) {
    if (k != "http" && k != "board" && k != "evse" && !k.ends_with("meter") && k != "modbus" && k != "mqtt" &&
        k != "sessions" && k != "simulator") {
      out.emplace_back(k);
    }
  }
  auto add = [&](std::string_view section, const auto& keys) {
    for (auto k : keys) out.push_back(std::string{section} + "." + std::string{k});
  };
  add("http", kHttpKeys);
  add("board", kBoardKeys);
  add("evse", kEvseKeys);
  for (auto m : {"mains_meter", "ev_meter", "circuit_meter"}) add(m, kMeterKeys);
  add("custom_meter", kCustomMeterKeys);
  add("modbus", kModbusKeys);
  add("mqtt", kMqttKeys);
  add("sessions", kSessionsKeys);
  add("simulator", kSimulatorKeys);
  return out;
}

std::uint32_t serial_from_machine_id(const std::string& path) {
  std::ifstream in(path);
  std::string id;
  if (!(in >> id) || id.empty()) return 1;
  // FNV-1a over the id, folded into six digits like the serials SmartEVSEs carry.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : id) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint32_t>(100000 + h % 900000);
}

}  // namespace evsed::app
