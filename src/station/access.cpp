#include "evsed/station/access.hpp"

namespace evsed::station {

std::string_view to_string(Role r) {
  switch (r) {
    case Role::None: return "none";
    case Role::Viewer: return "viewer";
    case Role::Admin: return "admin";
  }
  return "none";
}

std::optional<Role> role_from(std::string_view name) {
  if (name == "viewer") return Role::Viewer;
  if (name == "admin") return Role::Admin;
  return std::nullopt;
}

std::string_view to_string(AccessMode m) {
  for (const auto& i : kAccessModes) {
    if (i.mode == m) return i.name;
  }
  return "writes";
}

std::optional<AccessMode> access_mode_from(std::string_view name) {
  for (const auto& i : kAccessModes) {
    if (i.name == name) return i.mode;
  }
  return std::nullopt;
}

Role required_role(AccessMode mode, bool changes, std::string_view path) {
  if (mode == AccessMode::Open) return Role::None;
  if (path == "/login" || path == "/logout" || path == "/setup") return Role::None;  // they check credentials themselves
  if (path == "/password") return Role::Viewer;  // anyone with an account, for their own
  // The token and account lists name who may control the charger, the diagnostics
  // bundle holds the log: an admin's business even to read.
  if (changes || path == "/tokens" || path.starts_with("/tokens/") || path == "/users" || path.starts_with("/users/") ||
      path == "/diagnostics") {
    return Role::Admin;
  }
  return mode == AccessMode::All ? Role::Viewer : Role::None;
}

}  // namespace evsed::station
