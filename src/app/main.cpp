// evsed: entry point. Parses the command line and the configuration, sets up
// logging, and hands over to the daemon.

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/version.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "evsed/app/config.hpp"
#include "evsed/app/daemon.hpp"
#include "evsed/app/network_info.hpp"
#include "evsed/app/options.hpp"
#include "evsed/app/passwd.hpp"
#include "evsed/app/settings_store.hpp"
#include "evsed/hw/gpio_board.hpp"
#include "evsed/hw/library_version.hpp"
#include "evsed/meters/meter_type.hpp"
#include "evsed/mqtt/library_version.hpp"
#include "evsed/version.hpp"

namespace {

void print_version() {
  std::cout << "evsed " << evsed::kVersion << "\n"
            << "  Boost " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "." << BOOST_VERSION % 100
            << " (Asio, Beast)\n"
            << "  " << evsed::mqtt::paho_version() << "\n"
            << "  libmodbus " << evsed::meters::libmodbus_version() << "\n"
            << "  libgpiod " << evsed::hw::libgpiod_version() << "\n"
            << "  spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "." << SPDLOG_VER_PATCH << "\n"
            << "  nlohmann_json " << NLOHMANN_JSON_VERSION_MAJOR << "." << NLOHMANN_JSON_VERSION_MINOR << "."
            << NLOHMANN_JSON_VERSION_PATCH << "\n"
            << "  toml++ " << TOML_LIB_MAJOR << "." << TOML_LIB_MINOR << "." << TOML_LIB_PATCH << "\n";
}

// journald reads a "<N>" syslog priority at the start of each line it gets on
// stderr (sd-daemon(3)), so warnings and errors keep their priority there.
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view p = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: p = "<7>"; break;
      case spdlog::level::info: p = "<6>"; break;
      case spdlog::level::warn: p = "<4>"; break;
      case spdlog::level::err: p = "<3>"; break;
      case spdlog::level::critical: p = "<2>"; break;
      default: break;
    }
    dest.append(p.data(), p.data() + p.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return spdlog::details::make_unique<JournalPriority>();
  }
};

// Whether stderr is the journal: JOURNAL_STREAM names its device and inode (systemd.exec(5)).
bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

// Lines the diagnostics download carries (the journal keeps the rest).
constexpr std::size_t kRecentLogLines = 300;

// stderr (the journal under systemd) and the last lines in memory, for the diagnostics download.
std::shared_ptr<spdlog::logger> make_logger(const std::string& level,
                                            std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt>& recent) {
  auto out = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  recent = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(kRecentLogLines);
  auto log = std::make_shared<spdlog::logger>("evsed", spdlog::sinks_init_list{out, recent});
  if (stderr_is_journal()) {
    // The journal adds its own timestamps.
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JournalPriority>('*').set_pattern("%*%l: %v");
    out->set_formatter(std::move(formatter));
  } else {
    out->set_pattern("%Y-%m-%d %H:%M:%S.%e %l: %v");
  }
  recent->set_pattern("%Y-%m-%dT%H:%M:%S%z %l: %v");
  log->set_level(spdlog::level::from_str(level));
  log->flush_on(spdlog::level::trace);
  return log;
}

// --check-config: every problem on its own line, then a verdict; 0 or 78.
int check_config(const evsed::app::Options& options) {
  using namespace evsed::app;
  auto r = configuration_for(options);
  for (const auto& p : r.problems) std::cout << p << "\n";
  bool ok = r.problems.empty();
  if (ok) {
    const std::string& dir = options.state_dir;
    if (::access(dir.c_str(), W_OK) != 0 && errno != ENOENT) {
      std::cout << "state directory " << dir << ": " << std::strerror(errno) << "\n";
      ok = false;
    } else {
      auto loaded = SettingsStore(dir).load(r.config->settings, /*set_aside=*/false);
      if (loaded.problem) std::cout << "warning: " << *loaded.problem << "\n";
      for (const auto& d : loaded.dropped) std::cout << "warning: " << dir << "/settings.json: " << d << "\n";
    }
  }
  if (!ok) {
    std::cout << "the configuration is not usable: evsed would not start (exit status " << kConfigError << ")\n";
    return kConfigError;
  }
  std::string files;
  for (const auto& f : r.files) files += (files.empty() ? "" : ", ") + f;
  std::cout << "configuration OK" << (files.empty() ? " (built-in defaults)" : ": " + files) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace evsed::app;
  if (argc >= 2 && std::string_view{argv[1]} == "passwd") return run_passwd(argc, argv);
  auto parsed = parse_options(argc, argv);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    std::cerr << "evsed: " << *err << "\n";
    return 2;
  }
  Options options = std::get<Options>(parsed);
  if (options.help) {
    std::cout << usage();
    return 0;
  }
  if (options.version) {
    print_version();
    return 0;
  }
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> recent;
  auto log = make_logger(options.log_level, recent);

  if (options.check_config) return check_config(options);

  Config config;
  auto loaded = configuration_for(options);
  if (!loaded.config) {
    for (const auto& p : loaded.problems) log->error("{}", p);
    if (!options.safe_state) {
      log->error("the configuration is not usable; check it with: evsed --check-config --config {}",
                 options.config_path);
      return kConfigError;
    }
    // A mistake elsewhere in the file must not keep the board from being made safe.
    auto board = load_board_config(options.config_path);
    if (auto* board_err = std::get_if<std::string>(&board)) {
      log->error("safe state: cannot read [board]: {}", *board_err);
      return 1;
    }
    log->warn("safe state: using [board] alone");
    config = std::get<Config>(board);
  } else {
    config = *loaded.config;
    if (loaded.files.empty()) log->info("{} not found: using built-in defaults", options.config_path);
  }
  if (options.safe_state) {
    if (config.board == BoardKind::Sim) {
      log->info("safe state: the simulated board has nothing to switch off");
      return 0;
    }
    const auto errors = evsed::hw::apply_safe_state(config.gpio);
    for (const auto& e : errors) log->error("safe state: {}", e.message());
    if (errors.empty()) log->info("safe state: contactors open, pilot at +12 V (no current offered)");
    return errors.empty() ? 0 : 1;
  }

  const std::string listen =
      options.listen.value_or(config.http_listen.value_or(options.simulate ? "127.0.0.1:8080" : "0.0.0.0:80"));
  if (options.urls) {
    for (const auto& u : urls_for(listen)) std::cout << u << "\n";
    return 0;
  }

  DaemonSetup setup;
  setup.listen = listen;
  setup.serial = config.serial.value_or(serial_from_machine_id());
  setup.options = std::move(options);
  setup.config = std::move(config);
  setup.log = log;
  setup.config_files = loaded.files;
  setup.recent_log = [recent] {
    auto lines = recent->last_formatted();
    for (auto& l : lines) {
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    }
    return lines;
  };
  return run_daemon(std::move(setup));
}
