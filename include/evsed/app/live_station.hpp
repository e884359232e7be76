#pragma once
// The Station behind the port: the charge point, its run-time settings on disk,
// the panel values, the MQTT broker settings, API meter feeds, and the change
// feed. Everything here runs on the event loop; files go through the
// FileWriter, and a command that changes what is persisted is answered only
// once it is on disk.

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evsed/app/charge_point.hpp"
#include "evsed/app/file_writer.hpp"
#include "evsed/app/local_clock.hpp"
#include "evsed/app/power_history.hpp"
#include "evsed/meters/poller.hpp"
#include "evsed/station/station.hpp"

namespace spdlog {
class logger;
}

namespace evsed::app {

struct StationConfig {
  std::string state_dir;
  std::string version;
  std::uint32_t serial = 0;
  std::array<station::MeterInfo, 3> meters;  // type name, address, API or not (by core::MeterRole)
  bool simulated = false;
  bool cable_lock_fitted = false;
  station::MqttSettings mqtt;  // the configuration's; the state dir's mqtt.json wins
  std::string mqtt_ca_file;    // the configuration's CA file
  std::string mqtt_client_cert;  // and client certificate and key, if any
  std::string mqtt_client_key;
  bool mqtt_discovery = true;
};

class LiveStation final : public station::Station {
 public:
  // `cp` was made with the loaded settings; `last_saved` is what the settings
  // file holds (empty: nothing usable, so the first refresh writes it).
  LiveStation(StationConfig config, ChargePoint& cp, StateFiles& writer, const LocalClock& clock,
              std::shared_ptr<spdlog::logger> log, core::TimePoint now, std::optional<core::Settings> last_saved);
  ~LiveStation() override;
  LiveStation(const LiveStation&) = delete;
  LiveStation& operator=(const LiveStation&) = delete;

  // --- station::Station ----------------------------------------------------
  [[nodiscard]] std::shared_ptr<const station::Snapshot> snapshot() const override { return snapshot_; }
  [[nodiscard]] station::Subscription subscribe(station::ChangeHandler handler) override;
  void change_settings(station::SettingsChange change, std::function<void(station::SettingsOutcome)> done) override;
  station::FeedResult feed_meter(const station::MeterFeed& feed) override;
  station::FeedResult feed_home_battery(std::int64_t deci_amps) override;
  void change_mqtt(station::MqttChange change, std::function<void(station::MqttOutcome)> done) override;
  [[nodiscard]] station::MqttConnection mqtt_connection() const override;
  void report_mqtt_connected(bool connected) override;
  [[nodiscard]] std::vector<station::PowerSlot> power_day() const override;
  [[nodiscard]] station::History& history() override { return *history_; }
  [[nodiscard]] station::Access& access() override { return *access_; }
  void attach_access(station::Access* a) { access_ = a ? a : &open_access_; }
  void report_session(std::shared_ptr<const station::SessionRecord> closed) override;
  bool restart() override;
  void erase_settings(std::function<void(std::optional<std::string>)> done) override;

  // --- the shell ------------------------------------------------------------
  void pilot_period(core::TimePoint now);
  void housekeeping(core::TimePoint now);
  void control_cycle(core::TimePoint now);
  void feed_poll_report(const meters::PollReport& report, const std::string& port);
  void set_network(const station::NetworkView& network);
  void set_pilot_lag(std::int64_t ms);
  // The session log behind history() (the Station answers "unavailable" without one).
  void attach_history(station::History* h) { history_ = h ? h : &no_history_; }
  // Who restarts evsed (the daemon's delayed exit).
  void on_restart(std::function<void()> f) { restart_ = std::move(f); }
  // A reloaded configuration: limits, meters, MQTT; the session goes on.
  // Returns the run-time values that fell back to the configuration's.
  std::vector<std::string> reconfigure(StationConfig config, const core::Settings& installer, bool sim_mains_meter);
  // Shutdown: the settings in force reach the disk before the process ends.
  void save_before_exit();

 private:
  struct PendingChange {
    station::SettingsChange change;
    std::function<void(station::SettingsOutcome)> done;
    std::optional<station::DelayedRefusal> refusal;
  };
  struct PendingMqtt {
    station::MqttChange change;
    std::function<void(station::MqttOutcome)> done;
  };

  core::TimePoint now() const;
  void refresh(core::TimePoint now);
  void raise_differences(const station::Snapshot& before, const station::Snapshot& after);
  void finish();  // end of every entry point: deliver what changed

  void prepare(PendingChange& p);
  void run_pending_changes();
  void apply_batch(std::vector<PendingChange>& batch);
  void persist_if_needed(bool retry_failed);
  void run_pending_mqtt();
  void mqtt_saved(PendingMqtt& p, const station::MqttChangePlan& plan, const std::optional<std::string>& error);
  [[nodiscard]] std::string mqtt_ca_path() const;
  [[nodiscard]] std::vector<FileOp> mqtt_files(const station::MqttSettings& s) const;
  void update_mqtt_view();
  void apply_custom_button(core::CustomButtonAction a);

  StationConfig config_;
  ChargePoint& cp_;
  StateFiles& writer_;
  const LocalClock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  core::TimePoint started_;
  std::string settings_path_;
  std::string mqtt_path_;

  station::ChangeFeed feed_;
  std::shared_ptr<const station::Snapshot> snapshot_;
  station::DeviceInfo device_;
  bool device_dirty_ = true;
  PowerHistory power_;
  core::LedIndication led_shown_{};
  core::TimePoint led_since_{};

  // Settings on disk: one write at a time, in order.
  std::optional<core::Settings> last_saved_;
  std::deque<PendingChange> pending_;
  bool batch_in_flight_ = false;
  bool persist_in_flight_ = false;
  bool applying_ = false;
  std::optional<std::string> persist_error_;  // the last failure, logged once
  bool erased_ = false;

  station::MqttSettings mqtt_;
  bool mqtt_set_at_run_time_ = false;  // mqtt.json in the state dir wins over the configuration
  std::deque<PendingMqtt> mqtt_pending_;
  bool mqtt_in_flight_ = false;

  station::NoHistory no_history_{"the session log is disabled ([sessions] enabled = false)"};
  station::History* history_ = &no_history_;
  station::OpenAccess open_access_;
  station::Access* access_ = &open_access_;

  std::function<void()> restart_;
  // Callbacks from the FileWriter may arrive after this is gone (shutdown).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace evsed::app
