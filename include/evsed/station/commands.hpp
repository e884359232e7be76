#pragma once
// The typed commands front-ends send the Station, and what comes back.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evsed/core/meter_reading.hpp"
#include "evsed/core/settings_fields.hpp"
#include "evsed/station/mqtt_settings.hpp"
#include "evsed/station/panel.hpp"
#include "evsed/station/snapshot.hpp"

namespace evsed::station {

// Run-time settings and panel values, changed together.
struct SettingsChange {
  core::SettingsPatch patch;  // local_now is filled in by the Station
  PanelPatch panel;
  [[nodiscard]] bool empty() const { return patch.empty() && panel.empty(); }
};

// A delayed-charging time the Station refused (it does not exist on the local
// clock, or the stop is not after the start).
struct DelayedRefusal {
  bool stop = false;  // the stop time, else the start time
  std::string reason;
};

struct SettingsOutcome {
  // Set when nothing was applied: the change could not be saved (a 500 for REST).
  std::optional<std::string> failure;
  std::vector<core::FieldResult> fields;  // in the order of core::kFields
  PanelResult panel;
  std::optional<DelayedRefusal> delayed;
  std::shared_ptr<const Snapshot> after;  // the snapshot with the change in force
  [[nodiscard]] const core::FieldResult* field(core::Field f) const {
    for (const auto& r : fields) {
      if (r.field == f) return &r;
    }
    return nullptr;
  }
};

// Values for an API meter (REST /currents, /ev_meter, MQTT /Set/...Meter).
// What is not given keeps the meter's last value (the EV meter's energy).
struct MeterFeed {
  core::MeterRole role = core::MeterRole::Mains;
  std::optional<std::array<std::int64_t, 3>> currents;  // dA, + = import
  std::optional<std::int64_t> power_w;
  std::optional<std::int64_t> import_wh;
  std::optional<std::int64_t> export_wh;
};

// Why a feed was refused; adapters word it for their wire.
enum class FeedRefusal : std::uint8_t {
  NotApi,            // that meter is not of type API
  CurrentOutOfRange, // a current beyond the plausible range (kMaxMeterCurrent)
  EnergyOutOfRange,  // negative or absurd energy or power
};

struct FeedResult {
  std::optional<FeedRefusal> refusal;
  std::string reason;  // the refusal in words
  [[nodiscard]] bool ok() const { return !refusal; }
};

struct MqttOutcome {
  std::optional<std::string> refused;  // a value was invalid: nothing changed
  std::optional<MqttField> refused_field;
  std::optional<std::string> failure;  // could not be saved: nothing changed
  bool credentials_cleared = false;
  MqttSettings applied;  // with the password: for the reply's *_set flags only
};

struct PowerSlot {
  std::string time;  // "HH:MM", start of the 15-minute slot
  int power_w = 0;   // highest mains power seen in it
};

}  // namespace evsed::station
