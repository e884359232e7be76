#pragma once
// Command line of the evsed binary.

#include <optional>
#include <string>
#include <variant>

namespace evsed::app {

struct Options {
  std::string config_path = "/etc/evsed/evsed.toml";
  bool config_given = false;
  bool simulate = false;
  std::optional<std::string> listen;
  std::string state_dir = "/var/lib/evsed";
  std::string log_level = "info";
  bool safe_state = false;
  bool check_config = false;
  bool urls = false;
  bool help = false;
  bool version = false;
};

std::variant<Options, std::string> parse_options(int argc, const char* const* argv);
std::string usage();

}  // namespace evsed::app
