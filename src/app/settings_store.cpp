#include "evsed/app/settings_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "evsed/app/local_clock.hpp"
#include "evsed/core/outside_text.hpp"

namespace evsed::app {

namespace {

using nlohmann::json;
constexpr int kFormat = 1;
constexpr std::size_t kMaxStateFile = 1024 * 1024;

std::optional<core::LocalTime> parse_local(const std::string& s) {
  int y = 0;
  unsigned mo = 0, d = 0;
  int h = 0, mi = 0, sec = 0;
  char tail = 0;
  if (std::sscanf(s.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail) != 6) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok() || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return std::nullopt;
  return local_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

// One key of the file: how to put its value into the settings, or why not.
using Setter = std::function<std::optional<std::string>(const json& v, core::Settings& s)>;

std::optional<std::string> need_int(const json& v, long long lo, long long hi, long long& out) {
  if (!v.is_number_integer()) return "not an integer";
  out = v.get<long long>();
  if (out < lo || out > hi) return "out of range";
  return std::nullopt;
}

Setter int_setter(long long lo, long long hi, std::function<void(core::Settings&, long long)> put) {
  return [=](const json& v, core::Settings& s) -> std::optional<std::string> {
    long long n = 0;
    if (auto e = need_int(v, lo, hi, n)) return e;
    put(s, n);
    return std::nullopt;
  };
}

Setter bool_setter(std::function<void(core::Settings&, bool)> put) {
  return [=](const json& v, core::Settings& s) -> std::optional<std::string> {
    if (!v.is_boolean()) return "not true or false";
    put(s, v.get<bool>());
    return std::nullopt;
  };
}

Setter time_setter(std::optional<core::LocalTime> core::DelayedCharging::* member) {
  return [=](const json& v, core::Settings& s) -> std::optional<std::string> {
    if (v.is_null()) {
      (s.delayed.*member).reset();
      return std::nullopt;
    }
    auto t = v.is_string() ? parse_local(v.get<std::string>()) : std::nullopt;
    if (!t) return "not null or \"YYYY-MM-DDTHH:MM:SS\"";
    s.delayed.*member = t;
    return std::nullopt;
  };
}

const std::vector<std::pair<std::string_view, Setter>>& setters() {
  using core::Amps;
  using core::Minutes;
  static const std::vector<std::pair<std::string_view, Setter>> table{
      {"access", int_setter(0, 2, [](auto& s, long long v) { s.access = static_cast<core::AccessStatus>(v); })},
      {"mode", int_setter(0, 2, [](auto& s, long long v) { s.mode = static_cast<core::ChargeMode>(v); })},
      {"enable_C2", int_setter(0, 4, [](auto& s, long long v) { s.enable_c2 = static_cast<core::EnableC2>(v); })},
      {"current_min", int_setter(0, 1000, [](auto& s, long long v) { s.min_current = Amps{static_cast<int>(v)}; })},
      {"solar_start_current",
       int_setter(0, 1000, [](auto& s, long long v) { s.solar_start_current = Amps{static_cast<int>(v)}; })},
      {"solar_stop_time", int_setter(0, 1000, [](auto& s, long long v) { s.solar_stop_time = Minutes{v}; })},
      {"solar_max_import",
       int_setter(0, 1000, [](auto& s, long long v) { s.solar_max_import = Amps{static_cast<int>(v)}; })},
      {"capacity_mode",
       int_setter(0, 3, [](auto& s, long long v) { s.capacity_mode = static_cast<core::CapacityMode>(v); })},
      {"current_max_sum_mains",
       int_setter(0, 100000, [](auto& s, long long v) { s.max_sum_mains = Amps{static_cast<int>(v)}; })},
      {"max_sum_mains_time", int_setter(0, 1000, [](auto& s, long long v) { s.max_sum_mains_time = Minutes{v}; })},
      {"intervals",
       [](const json& v, core::Settings& s) -> std::optional<std::string> {
         if (!v.is_array()) return "not an array";
         std::vector<core::CapacityInterval> list;
         for (const auto& e : v) {
           long long start = 0, power = 0;
           if (!e.is_object() || !e.contains("start") || !e.contains("power") ||
               need_int(e["start"], 0, 1439, start) || need_int(e["power"], 0, 1'000'000, power)) {
             return "entries must be {\"start\": 0..1439, \"power\": watts}";
           }
           list.push_back({static_cast<int>(start), static_cast<int>(power)});
         }
         s.capacity_intervals = std::move(list);
         return std::nullopt;
       }},
      {"cablelock", bool_setter([](auto& s, bool v) { s.cable_lock = v; })},
      {"starttime", time_setter(&core::DelayedCharging::start)},
      {"stoptime", time_setter(&core::DelayedCharging::stop)},
      {"repeat", bool_setter([](auto& s, bool v) { s.delayed.repeat = v; })},
  };
  return table;
}

}  // namespace

SettingsStore::SettingsStore(std::string state_dir) : path_(std::move(state_dir) + "/settings.json") {}

std::string SettingsStore::to_json(const core::Settings& s) {
  json j;
  j["format"] = kFormat;
  j["access"] = static_cast<int>(s.access);
  j["mode"] = static_cast<int>(s.mode);
  j["enable_C2"] = static_cast<int>(s.enable_c2);
  j["current_min"] = s.min_current.value();
  j["solar_start_current"] = s.solar_start_current.value();
  j["solar_stop_time"] = s.solar_stop_time.count();
  j["solar_max_import"] = s.solar_max_import.value();
  j["capacity_mode"] = static_cast<int>(s.capacity_mode);
  j["current_max_sum_mains"] = s.max_sum_mains.value();
  j["max_sum_mains_time"] = s.max_sum_mains_time.count();
  j["intervals"] = json::array();
  for (const auto& i : s.capacity_intervals) j["intervals"].push_back({{"start", i.start_minute}, {"power", i.power_w}});
  j["cablelock"] = s.cable_lock;
  j["starttime"] = s.delayed.start ? json(format_local(*s.delayed.start)) : json(nullptr);
  j["stoptime"] = s.delayed.stop ? json(format_local(*s.delayed.stop)) : json(nullptr);
  j["repeat"] = s.delayed.repeat;
  return j.dump(2) + "\n";
}

SettingsStore::Loaded SettingsStore::from_json(const std::string& text, const core::Settings& base) {
  Loaded out{base, {}, std::nullopt, true};
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.problem = "not a JSON object";
    return out;
  }
  if (auto f = j.find("format"); f != j.end() && (!f->is_number_integer() || f->get<long long>() != kFormat)) {
    out.problem = "format " + core::shown(f->dump()) + " is not known";
    return out;
  }
  auto drop = [&](const std::string& key, const json& v, const std::string& why) {
    out.dropped.push_back(core::shown(key) + " = " + core::shown(v.dump(-1, ' ', false, json::error_handler_t::replace)) +
                          " dropped: " + why);
  };
  // Each value is tried on its own against everything accepted so far; the
  // relations (current_min <= current_max) are checked with the configuration.
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    const json& v = item.value();
    if (key == "format") continue;
    const auto& table = setters();
    const auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.first == key; });
    if (it == table.end()) {
      drop(key, v, "not a run-time setting");
      continue;
    }
    core::Settings candidate = out.settings;
    if (auto e = it->second(v, candidate)) {
      drop(key, v, *e);
      continue;
    }
    if (auto e = core::validate_settings(candidate)) {
      drop(key, v, e->message());
      continue;
    }
    out.settings = std::move(candidate);
  }
  return out;
}

SettingsStore::Loaded SettingsStore::load(const core::Settings& base, bool move_aside) const {
  std::string error;
  const auto text = read_regular_file(path_, kMaxStateFile, error);
  if (!text) {
    Loaded out{base, {}, std::nullopt, false};
    if (!error.empty()) {
      out.found = true;
      out.problem = move_aside ? set_aside(path_, error) : path_ + ": " + error;
    }
    return out;
  }
  Loaded out = from_json(*text, base);
  if (out.problem) out.problem = move_aside ? set_aside(path_, *out.problem) : path_ + " is invalid: " + *out.problem;
  return out;
}

std::optional<std::string> read_regular_file(const std::string& path, std::size_t max_bytes, std::string& error) {
  error.clear();
  // O_NONBLOCK: a FIFO must not hang the open; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno != ENOENT) error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + " is not a regular file";
    return std::nullopt;
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    error = path + " is too large (" + std::to_string(st.st_size) + " bytes, at most " + std::to_string(max_bytes) + ")";
    return std::nullopt;
  }
  std::string text;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = path + ": " + std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      error = path + " is too large (more than " + std::to_string(max_bytes) + " bytes)";
      ::close(fd);
      return std::nullopt;
    }
  }
  ::close(fd);
  return text;
}

std::string set_aside(const std::string& path, const std::string& problem) {
  const std::string bad = path + ".bad";
  if (std::rename(path.c_str(), bad.c_str()) != 0) {
    return path + " is invalid (" + problem + ") and could not be moved aside: " + std::strerror(errno);
  }
  return path + " is invalid (" + problem + "); kept as " + bad + ", using defaults";
}

}  // namespace evsed::app
