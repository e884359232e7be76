#include "evsed/station/session_record.hpp"

#include <algorithm>

#include "evsed/core/outside_text.hpp"

namespace evsed::station {

std::string_view to_string(StopReason r) {
  for (const auto& i : kStopReasons) {
    if (i.reason == r) return i.name;
  }
  return "unplugged";
}

std::optional<StopReason> stop_reason_from(std::string_view name) {
  for (const auto& i : kStopReasons) {
    if (i.name == name) return i.reason;
  }
  return std::nullopt;
}

std::string_view to_string(EnergySource s) { return s == EnergySource::EvMeter ? "ev_meter" : "estimated"; }

std::optional<EnergySource> energy_source_from(std::string_view name) {
  if (name == "ev_meter") return EnergySource::EvMeter;
  if (name == "estimated") return EnergySource::Estimated;
  return std::nullopt;
}

namespace {
std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

std::string to_string(ModeSet m) {
  std::string out;
  for (auto mode : kSessionModes) {
    if (!m.has(mode)) continue;
    if (!out.empty()) out += ',';
    out += lower(core::to_string(mode));
  }
  return out;
}

std::optional<ModeSet> mode_set_from(std::string_view text) {
  ModeSet m;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view word = text.substr(0, comma);
    const auto* found = std::find_if(std::begin(kSessionModes), std::end(kSessionModes),
                                     [&](core::ChargeMode mode) { return lower(core::to_string(mode)) == word; });
    if (found == std::end(kSessionModes)) return std::nullopt;
    m.add(*found);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return m;
}

std::optional<std::string> note_problem(std::string_view note) {
  if (note.size() > kMaxNoteBytes) return "note is longer than " + std::to_string(kMaxNoteBytes) + " bytes";
  if (!core::valid_utf8(note)) return std::string{"note is not valid UTF-8"};
  if (core::has_control(note)) return std::string{"note may not contain control characters"};
  return std::nullopt;
}

}  // namespace evsed::station
