#include "evsed/app/options.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "evsed/app/config.hpp"

namespace evsed::app {

std::string usage() {
  return "Usage: evsed [OPTIONS]\n"
         "SmartEVSE-compatible EV charge point daemon.\n"
         "\n"
         "  --config FILE        configuration (TOML; default /etc/evsed/evsed.toml,\n"
         "                       built-in defaults when that default file is missing)\n"
         "  --simulate           simulated board, car and site, whatever the config says\n"
         "  --listen ADDR:PORT   HTTP listen address (default from the config; built-in\n"
         "                       127.0.0.1:8080 with --simulate, 0.0.0.0:80 otherwise)\n"
         "  --state-dir DIR      where run-time settings are kept (default /var/lib/evsed)\n"
         "  --log-level LEVEL    trace, debug, info, warn or error (default info)\n"
         "  --safe-state         open the contactors and leave the pilot at steady +12 V\n"
         "                       through the board's drivers, then exit (systemd ExecStopPost)\n"
         "  --check-config       check the configuration (with its drop-ins) and the state\n"
         "                       directory, print every problem, exit 0 or 78\n"
         "  --urls               print the addresses the configured HTTP listener answers on\n"
         "  --version            print the version and the libraries in use, then exit\n"
         "  --help               print this help, then exit\n"
         "\n"
         "       evsed passwd USER [--role admin|viewer] [--delete] [--state-dir DIR]\n"
         "                       set an account's password (then: systemctl reload evsed)\n";
}

std::variant<Options, std::string> parse_options(int argc, const char* const* argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = std::string{arg.substr(eq + 1)};
      arg = arg.substr(0, eq);
    }
    auto take = [&](std::string_view name, std::string& out) -> std::optional<std::string> {
      if (inline_value) {
        out = *inline_value;
        return std::nullopt;
      }
      if (i + 1 >= argc) return std::string{name} + " needs a value";
      out = argv[++i];
      return std::nullopt;
    };
    std::optional<std::string> err;
    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--version") {
      o.version = true;
    } else if (arg == "--safe-state") {
      o.safe_state = true;
    } else if (arg == "--check-config") {
      o.check_config = true;
    } else if (arg == "--urls") {
      o.urls = true;
    } else if (arg == "--simulate") {
      o.simulate = true;
    } else if (arg == "--config") {
      err = take(arg, o.config_path);
      o.config_given = true;
    } else if (arg == "--state-dir") {
      err = take(arg, o.state_dir);
    } else if (arg == "--listen") {
      std::string l;
      err = take(arg, l);
      if (!err) {
        if (auto bad = check_listen_address(l)) err = "--listen " + l + ": " + *bad;
        o.listen = l;
      }
    } else if (arg == "--log-level") {
      err = take(arg, o.log_level);
      constexpr std::array<std::string_view, 5> kLevels{"trace", "debug", "info", "warn", "error"};
      if (!err && std::find(kLevels.begin(), kLevels.end(), o.log_level) == kLevels.end()) {
        err = "--log-level " + o.log_level + ": use trace, debug, info, warn or error";
      }
    } else {
      err = "unknown option " + std::string{arg} + " (see --help)";
    }
    if (err) return *err;
  }
  return o;
}

}  // namespace evsed::app
