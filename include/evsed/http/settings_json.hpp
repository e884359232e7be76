#pragma once
// The one place that turns a Station snapshot into SmartEVSE's GET /settings
// JSON, and REST's numbering of the mode choices.

#include <optional>
#include <string>
#include <string_view>

#include "evsed/core/settings_fields.hpp"
#include "evsed/station/snapshot.hpp"

namespace evsed::http {

// REST's mode ids (interfaces.md §1.1): 0 OFF, 1 NORMAL, 2 SOLAR, 3 SMART, 4 PAUSE.
struct RestMode {
  core::ModeChoice choice;
  int id;
  std::string_view name;
};
inline constexpr RestMode kRestModes[] = {{core::ModeChoice::Off, 0, "OFF"},
                                          {core::ModeChoice::Normal, 1, "NORMAL"},
                                          {core::ModeChoice::Solar, 2, "SOLAR"},
                                          {core::ModeChoice::Smart, 3, "SMART"},
                                          {core::ModeChoice::Pause, 4, "PAUSE"}};
const RestMode& rest_mode(core::ModeChoice m);
std::optional<core::ModeChoice> mode_choice_from_rest_id(long long id);

std::string settings_json(const station::Snapshot& s);

}  // namespace evsed::http
