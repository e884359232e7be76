#include "evsed/app/settings_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace evsed::app {

namespace {

using nlohmann::json;
constexpr int kFormat = 1;

std::string sys_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string format_local(core::LocalTime t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

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

// Reads an integer field if present; false when present but not an integer.
bool read_int(const json& j, const char* key, std::optional<long long>& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<long long>();
  return true;
}

}  // namespace

SettingsStore::SettingsStore(std::string state_dir) : dir_(std::move(state_dir)), path_(dir_ + "/settings.json") {}

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

std::optional<core::Settings> SettingsStore::from_json(const std::string& text, const core::Settings& base,
                                                       std::string& problem) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  static constexpr const char* kKnown[] = {"format",        "access",    "mode",
                                           "enable_C2",     "current_min", "solar_start_current",
                                           "solar_stop_time", "solar_max_import", "capacity_mode",
                                           "current_max_sum_mains", "max_sum_mains_time", "intervals",
                                           "cablelock",     "starttime", "stoptime",
                                           "repeat"};
  for (const auto& [key, _] : j.items()) {
    if (std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return key == k; }) ==
        std::end(kKnown)) {
      problem = "unknown key '" + key + "'";
      return std::nullopt;
    }
  }
  std::optional<long long> format, access, mode, c2, min, start, stop, import, cap_mode, sum, sum_time;
  const std::pair<const char*, std::optional<long long>*> ints[] = {
      {"format", &format},     {"access", &access},        {"mode", &mode},
      {"enable_C2", &c2},      {"current_min", &min},      {"solar_start_current", &start},
      {"solar_stop_time", &stop}, {"solar_max_import", &import}, {"capacity_mode", &cap_mode},
      {"current_max_sum_mains", &sum}, {"max_sum_mains_time", &sum_time}};
  for (const auto& [key, out] : ints) {
    if (!read_int(j, key, *out)) {
      problem = std::string{key} + " must be an integer";
      return std::nullopt;
    }
  }
  if (format && *format != kFormat) {
    problem = "format " + std::to_string(*format) + " is not known";
    return std::nullopt;
  }
  auto in = [](const std::optional<long long>& v, long long lo, long long hi) { return !v || (*v >= lo && *v <= hi); };
  if (!in(access, 0, 2) || !in(mode, 0, 2) || !in(c2, 0, 4) || !in(cap_mode, 0, 3)) {
    problem = "access, mode, enable_C2 or capacity_mode out of range";
    return std::nullopt;
  }

  core::Settings s = base;
  if (access) s.access = static_cast<core::AccessStatus>(*access);
  if (mode) s.mode = static_cast<core::ChargeMode>(*mode);
  if (c2) s.enable_c2 = static_cast<core::EnableC2>(*c2);
  if (min) s.min_current = core::Amps{static_cast<int>(*min)};
  if (start) s.solar_start_current = core::Amps{static_cast<int>(*start)};
  if (stop) s.solar_stop_time = core::Minutes{*stop};
  if (import) s.solar_max_import = core::Amps{static_cast<int>(*import)};
  if (cap_mode) s.capacity_mode = static_cast<core::CapacityMode>(*cap_mode);
  if (sum) s.max_sum_mains = core::Amps{static_cast<int>(std::clamp<long long>(*sum, -1, 100000))};
  if (sum_time) s.max_sum_mains_time = core::Minutes{*sum_time};

  if (auto it = j.find("intervals"); it != j.end()) {
    if (!it->is_array()) {
      problem = "intervals must be an array";
      return std::nullopt;
    }
    s.capacity_intervals.clear();
    for (const auto& e : *it) {
      if (!e.is_object() || !e.contains("start") || !e.contains("power") || !e["start"].is_number_integer() ||
          !e["power"].is_number_integer()) {
        problem = "intervals entries must be {\"start\": minute, \"power\": watts}";
        return std::nullopt;
      }
      s.capacity_intervals.push_back(
          {static_cast<int>(std::clamp<long long>(e["start"].get<long long>(), -1, 100000)),
           static_cast<int>(std::clamp<long long>(e["power"].get<long long>(), -1, 100000000))});
    }
  }
  if (auto it = j.find("cablelock"); it != j.end()) {
    if (!it->is_boolean()) {
      problem = "cablelock must be true or false";
      return std::nullopt;
    }
    s.cable_lock = it->get<bool>();
  }
  if (auto it = j.find("repeat"); it != j.end()) {
    if (!it->is_boolean()) {
      problem = "repeat must be true or false";
      return std::nullopt;
    }
    s.delayed.repeat = it->get<bool>();
  }
  for (auto [key, target] : {std::pair{"starttime", &s.delayed.start}, std::pair{"stoptime", &s.delayed.stop}}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      target->reset();
      continue;
    }
    std::optional<core::LocalTime> t = it->is_string() ? parse_local(it->get<std::string>()) : std::nullopt;
    if (!t) {
      problem = std::string{key} + " must be null or \"YYYY-MM-DDTHH:MM:SS\"";
      return std::nullopt;
    }
    *target = t;
  }
  if (auto e = core::validate_settings(s)) {
    problem = e->message();
    return std::nullopt;
  }
  return s;
}

SettingsStore::Loaded SettingsStore::load(const core::Settings& base) const {
  Loaded out{base, std::nullopt, false};
  const auto text = read_file(path_);
  if (!text) return out;  // first start
  out.found = true;
  std::string problem;
  if (auto s = from_json(*text, base, problem)) {
    out.settings = *s;
  } else {
    out.problem = set_aside(path_, problem);
  }
  return out;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string set_aside(const std::string& path, const std::string& problem) {
  const std::string bad = path + ".bad";
  if (std::rename(path.c_str(), bad.c_str()) != 0) {
    return path + " is invalid (" + problem + ") and could not be moved aside: " + std::strerror(errno);
  }
  return path + " is invalid (" + problem + "); kept as " + bad + ", using defaults";
}

std::optional<std::string> SettingsStore::save(const core::Settings& s) const {
  return write_file_atomically(path_, to_json(s));
}

std::optional<std::string> SettingsStore::erase() const {
  if (std::remove(path_.c_str()) != 0 && errno != ENOENT) return sys_error("remove", path_);
  return std::nullopt;
}

std::optional<std::string> write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("open", tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = sys_error("write", tmp);
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto e = sys_error("fsync", tmp);
    ::close(fd);
    return e;
  }
  if (::close(fd) != 0) return sys_error("close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_error("rename", tmp);
  // The rename itself must reach the disk too.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return std::nullopt;
}

}  // namespace evsed::app
