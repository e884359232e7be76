// evsed: entry point. Parses the command line and the configuration, sets up
// logging, and hands over to the daemon.

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <boost/version.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "evsed/app/config.hpp"
#include "evsed/app/daemon.hpp"
#include "evsed/app/options.hpp"
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

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  auto log = spdlog::stderr_logger_mt("evsed");
  // Under systemd the journal adds its own timestamps.
  if (std::getenv("JOURNAL_STREAM")) {
    log->set_pattern("%l: %v");
  } else {
    log->set_pattern("%Y-%m-%d %H:%M:%S.%e %l: %v");
  }
  log->set_level(spdlog::level::from_str(level));
  log->flush_on(spdlog::level::trace);
  return log;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace evsed::app;
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
  auto log = make_logger(options.log_level);

  Config config;
  if (options.config_given || ::access(options.config_path.c_str(), F_OK) == 0) {
    auto loaded = load_config(options.config_path);
    if (auto* err = std::get_if<std::string>(&loaded)) {
      log->error("{}", *err);
      if (!options.safe_state) return kConfigError;
      // A mistake elsewhere in the file must not keep the board from being made safe.
      loaded = load_board_config(options.config_path);
      if (auto* board_err = std::get_if<std::string>(&loaded)) {
        log->error("safe state: cannot read [board]: {}", *board_err);
        return 1;
      }
      log->warn("safe state: using [board] alone");
    }
    config = std::get<Config>(loaded);
  } else {
    log->info("{} not found: using built-in defaults", options.config_path);
  }
  if (options.simulate) apply_simulation(config);
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

  DaemonSetup setup;
  setup.listen = options.listen.value_or(config.http_listen.value_or(options.simulate ? "127.0.0.1:8080" : "0.0.0.0:80"));
  setup.serial = config.serial.value_or(serial_from_machine_id());
  setup.options = std::move(options);
  setup.config = std::move(config);
  setup.log = log;
  return run_daemon(std::move(setup));
}
