#pragma once
// The charge point's one front door. Every front-end (REST, MQTT, the
// dashboard, and later OCPP, power share, RFID, the session log) uses this and
// nothing else: the current snapshot, typed commands, and a change feed. What
// a command means is decided behind it (in the core or the Station), once.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evsed/station/access.hpp"
#include "evsed/station/change.hpp"
#include "evsed/station/commands.hpp"
#include "evsed/station/history.hpp"
#include "evsed/station/snapshot.hpp"

namespace evsed::station {

// How a front-end connects to the MQTT broker: the only place its password is handed out.
struct MqttConnection {
  MqttSettings settings;
  std::string ca_file;   // PEM file for TLS; empty: the system's CAs
  std::string client_cert;  // PEM files evsed proves itself with (TLS); empty: none
  std::string client_key;
  bool discovery = true; // Home Assistant discovery
  unsigned serial = 0;
};

class Station {
 public:
  virtual ~Station() = default;

  // The latest snapshot (shared, never changed after it is handed out).
  [[nodiscard]] virtual std::shared_ptr<const Snapshot> snapshot() const = 0;
  // Changes, delivered on the loop while the subscription lives.
  [[nodiscard]] virtual Subscription subscribe(ChangeHandler handler) = 0;

  // Applies a settings change and, when it changes what is persisted, answers
  // only once it is on disk. `done` runs on the loop (possibly before this
  // returns); with `failure` set nothing was applied.
  virtual void change_settings(SettingsChange change, std::function<void(SettingsOutcome)> done) = 0;
  // An API meter's values, checked and fed to the controller.
  virtual FeedResult feed_meter(const MeterFeed& feed) = 0;
  // A home battery's current (dA, + = charging), for Solar.
  virtual FeedResult feed_home_battery(std::int64_t deci_amps) = 0;

  // MQTT broker settings: checked, saved, then in force; `done` runs on the loop.
  virtual void change_mqtt(MqttChange change, std::function<void(MqttOutcome)> done) = 0;
  [[nodiscard]] virtual MqttConnection mqtt_connection() const = 0;
  // The MQTT front-end reports its connection state.
  virtual void report_mqtt_connected(bool connected) = 0;

  [[nodiscard]] virtual std::vector<PowerSlot> power_day() const = 0;

  // Who may do what (OpenAccess when there are no accounts).
  [[nodiscard]] virtual Access& access() = 0;

  // The charging sessions (a NoHistory when there is no session log).
  [[nodiscard]] virtual History& history() = 0;
  // The session log reports a closed session it has stored; the Station
  // announces it (ChangeKind::SessionRecorded).
  virtual void report_session(std::shared_ptr<const SessionRecord> closed) = 0;

  // Leave the board safe and restart (systemd starts evsed again); when
  // charging, only once the car has stopped. True when the car is charging.
  virtual bool restart() = 0;
  // Run-time settings back to the configuration's, then restart; `done` gets
  // the reason when the files could not be removed.
  virtual void erase_settings(std::function<void(std::optional<std::string>)> done) = 0;
};

}  // namespace evsed::station
