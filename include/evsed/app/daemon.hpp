#pragma once
// The daemon: one Asio event loop owning every timer (pilot 10 ms, control 2 s,
// housekeeping 1 s) and signal; SIGTERM/SIGINT leave the board safe and exit 0.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "evsed/app/config.hpp"
#include "evsed/app/options.hpp"

namespace spdlog {
class logger;
}

namespace evsed::app {

// Exit status asking systemd to start evsed again (/reboot, /erasesettings).
inline constexpr int kRestartExitCode = 75;
// An exception escaped into the event loop: the board was made safe, then exit (EX_SOFTWARE).
inline constexpr int kInternalError = 70;

struct DaemonSetup {
  Options options;
  Config config;
  std::uint32_t serial = 0;
  std::string listen;
  std::shared_ptr<spdlog::logger> log;
  std::vector<std::string> config_files;  // what the configuration was read from
  std::function<std::vector<std::string>()> recent_log;  // the last log lines, oldest first
};

// Runs until a signal; returns the process exit code.
int run_daemon(DaemonSetup setup);

}  // namespace evsed::app
