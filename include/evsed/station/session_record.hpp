#pragma once
// One charging session: from plugging in (state leaves A) to unplugging (back
// to A). What the session log stores, REST and MQTT show, and CSV exports.
// The vocabularies (stop reasons, energy sources) are tables here; the
// database, the wire formats and the docs take their names from them.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evsed/core/settings.hpp"

namespace evsed::station {

// Why charging ended (the last stop before unplugging, or why it never began).
enum class StopReason : std::uint8_t {
  Unplugged,    // the car was unplugged while charging, or nothing else held it
  CarStopped,   // the car stopped drawing by itself (full, its own timer)
  AccessOff,    // mode Off or Pause, the switch, a user's access off
  Schedule,     // the delayed-charging stop time passed, or the start time was not reached
  Limit,        // not enough current: MaxMains, MaxSumMains, no solar surplus (LESS_6A)
  Error,        // an error flag (its name in stop_error)
  Interrupted,  // evsed ended without closing it (kill, crash, power loss): closed at the next start
  Shutdown,     // evsed was stopped (SIGTERM) while the car was connected
};

struct StopReasonInfo {
  StopReason reason;
  std::string_view name;     // on the wire, in the database and the CSV
  std::string_view meaning;  // for the docs and the dashboard
};

inline constexpr std::array<StopReasonInfo, 8> kStopReasons{{
    {StopReason::Unplugged, "unplugged", "unplugged while charging, or nothing else stopped it"},
    {StopReason::CarStopped, "car_stopped", "the car stopped charging by itself (full, its own timer)"},
    {StopReason::AccessOff, "access_off", "access switched off or paused (mode Off/Pause, switch, user)"},
    {StopReason::Schedule, "schedule", "the delayed-charging stop time passed (or the start time was never reached)"},
    {StopReason::Limit, "limit", "not enough current available (MaxMains, MaxSumMains, no solar surplus)"},
    {StopReason::Error, "error", "an error stopped charging; its name is in stop_error"},
    {StopReason::Interrupted, "interrupted", "evsed ended without closing the session; closed at the next start"},
    {StopReason::Shutdown, "shutdown", "evsed was stopped while the car was connected"},
}};

std::string_view to_string(StopReason r);
std::optional<StopReason> stop_reason_from(std::string_view name);

// Where the energy figure comes from: never presented as metered when it is not.
enum class EnergySource : std::uint8_t {
  EvMeter,    // the EV meter's import register (end - start)
  Estimated,  // current x phases x nominal voltage over time (measured currents when there are any)
};

std::string_view to_string(EnergySource s);  // "ev_meter", "estimated"
std::optional<EnergySource> energy_source_from(std::string_view name);

// Modes a session ran in, one bit per core::ChargeMode.
class ModeSet {
 public:
  constexpr ModeSet() = default;
  constexpr explicit ModeSet(std::uint8_t bits) : bits_(bits) {}
  constexpr void add(core::ChargeMode m) { bits_ |= static_cast<std::uint8_t>(1U << static_cast<unsigned>(m)); }
  [[nodiscard]] constexpr bool has(core::ChargeMode m) const {
    return (bits_ & (1U << static_cast<unsigned>(m))) != 0;
  }
  [[nodiscard]] constexpr ModeSet with(core::ChargeMode m) const {
    ModeSet s = *this;
    s.add(m);
    return s;
  }
  [[nodiscard]] constexpr std::uint8_t bits() const { return bits_; }
  friend constexpr bool operator==(ModeSet, ModeSet) = default;

 private:
  std::uint8_t bits_ = 0;
};

inline constexpr core::ChargeMode kSessionModes[] = {core::ChargeMode::Normal, core::ChargeMode::Smart,
                                                    core::ChargeMode::Solar};
// "normal,solar" (lower case, in the order above); and back (empty on an unknown name).
std::string to_string(ModeSet m);
std::optional<ModeSet> mode_set_from(std::string_view text);

struct SessionRecord {
  std::uint64_t id = 0;
  std::int64_t started_at = 0;  // Unix time (UTC, s)
  std::int32_t start_offset_s = 0;  // the local time's offset from UTC then
  std::optional<std::int64_t> ended_at;
  std::optional<std::int32_t> end_offset_s;
  std::int64_t updated_at = 0;  // when these values were taken (Unix time)
  std::int64_t connected_s = 0;
  std::int64_t charging_s = 0;  // contactor closed
  std::int64_t energy_wh = 0;
  EnergySource energy_source = EnergySource::Estimated;
  std::optional<std::int64_t> meter_start_wh;  // EV meter import register
  std::optional<std::int64_t> meter_end_wh;
  std::int32_t max_current_da = 0;   // highest phase current while charging
  std::int32_t mean_current_da = 0;  // time-weighted, of the highest phase, while charging
  int phases = 0;                    // most phases used while charging (0: never charged)
  ModeSet modes;
  std::optional<std::int64_t> solar_wh;  // part of the energy from local generation (with a mains meter)
  std::optional<StopReason> stop_reason;  // empty while the session is open
  std::string stop_error;                 // the error flag's name when stop_reason is error
  std::string id_tag;                     // RFID card / OCPP idTag (later)
  std::optional<std::int64_t> ocpp_transaction_id;
  std::string note;                       // the user's

  [[nodiscard]] bool open() const { return !ended_at.has_value(); }
  friend bool operator==(const SessionRecord&, const SessionRecord&) = default;
};

// A local calendar day, as the user names it (the session's own offset decides
// which day it started on, so a session at 00:30 on the 1st is in that month).
using LocalDay = std::chrono::sys_days;

// Longest note (bytes of UTF-8).
inline constexpr std::size_t kMaxNoteBytes = 1000;
// Why a note cannot be stored (too long, not UTF-8, control characters); empty when it can.
std::optional<std::string> note_problem(std::string_view note);

struct SessionQuery {
  std::optional<LocalDay> from;  // first day, inclusive
  std::optional<LocalDay> to;    // last day, inclusive
  std::optional<std::int64_t> limit;  // empty: all
  std::int64_t offset = 0;
  friend bool operator==(const SessionQuery&, const SessionQuery&) = default;
};

enum class SummaryPeriod : std::uint8_t { Month, Year };

// "2026-11-30T18:05:12+01:00": ISO 8601 local time with its offset (CSV, JSON).
std::string iso8601(std::int64_t epoch_s, std::int32_t offset_s);
// The local day a session started on.
LocalDay start_day(const SessionRecord& r);

// One record as JSON (REST, MQTT's LastSession, the dashboard); a list as
// {"sessions":[...]}; the same field names as the CSV columns.
std::string to_json(const SessionRecord& r);
std::string to_json(const std::vector<SessionRecord>& list);

struct SummaryRow {
  std::string period;  // "2026-11" or "2026"
  std::int64_t sessions = 0;
  std::int64_t energy_wh = 0;
  std::int64_t charging_s = 0;
  std::optional<std::int64_t> solar_wh;  // sum over the sessions that know it
  friend bool operator==(const SummaryRow&, const SummaryRow&) = default;
};

}  // namespace evsed::station
