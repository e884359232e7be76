#pragma once
// The imperative shell around the controller: reads the board, feeds events,
// writes the outputs back, and logs what changed. The daemon calls it from its
// Asio timers; the simulation tests call it from a virtual clock. Nothing here
// decides anything about charging.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "evsed/core/controller.hpp"
#include "evsed/core/input_debouncer.hpp"
#include "evsed/hw/board.hpp"
#include "evsed/sim/world.hpp"

namespace spdlog {
class logger;
}

namespace evsed::app {

class ChargePoint {
 public:
  // `world` is the simulated car and site when simulating, else null. With
  // `sim_mains_meter` the site's meter feeds the mains readings.
  ChargePoint(core::Settings settings, hw::Board& board, sim::World* world, bool sim_mains_meter,
              core::TimePoint now, std::shared_ptr<spdlog::logger> log);

  // Every 10 ms: advance the simulation, sample the pilot, run the state machine.
  void pilot_period(core::TimePoint now);
  // Every second: temperature, timers, errors, delayed charging.
  void housekeeping(core::TimePoint now, core::LocalTime local_now);
  // The simulated car's EV meter feeds the EV readings (with a world only).
  void simulate_ev_meter(bool on) { sim_ev_meter_ = on; }
  // About every 2 s: simulated meter readings, then the regulation.
  void control_cycle(core::TimePoint now);

  // Readings and other events from adapters (meters, REST, MQTT).
  void feed(const core::Event& event, core::TimePoint now);
  core::PatchResult apply(const core::SettingsPatch& patch, core::TimePoint now);

  // A reloaded configuration's installer values (the session goes on); what fell back.
  std::vector<std::string> reconfigure(const core::Settings& installer, bool sim_mains_meter, core::TimePoint now);

  // SIGTERM: contactors open, pilot steady +12 V; returns the board's verdict.
  hw::HwResult shutdown(core::TimePoint now);

  [[nodiscard]] core::Status status(core::TimePoint now) const { return controller_.status(now); }
  [[nodiscard]] const core::Settings& settings() const { return controller_.settings(); }
  [[nodiscard]] std::optional<core::TimePoint> last_pilot_sample() const { return last_pilot_sample_; }
  [[nodiscard]] sim::World* world() { return world_; }
  // The controller as a value: the Station tries a settings change on a copy first.
  [[nodiscard]] const core::Controller& controller() const { return controller_; }
  [[nodiscard]] core::LedIndication led(core::TimePoint now) const { return controller_.led(now); }
  // Lights the front LED or not; a failing LED line is logged once, nothing trips.
  void drive_led(bool lit);

  // Called whenever run-time settings changed and should be saved.
  void on_settings_changed(std::function<void()> f) { settings_changed_ = std::move(f); }
  // Called with every mains reading that reaches the controller.
  void on_mains_reading(std::function<void(const core::MeterReading&)> f) { mains_reading_ = std::move(f); }
  // Called when the external switch changes the front panel's custom flag.
  void on_custom_button(std::function<void(core::CustomButtonAction)> f) { custom_button_ = std::move(f); }

 private:
  void execute(const core::Commands& c, core::TimePoint now);
  void report_board(const hw::HwResult& r, core::TimePoint now);
  void log_changes();
  void read_inputs(core::TimePoint now);

  core::Controller controller_;
  hw::Board& board_;
  sim::World* world_;
  bool sim_mains_meter_;
  bool sim_ev_meter_ = false;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void()> settings_changed_;
  std::function<void(const core::MeterReading&)> mains_reading_;
  std::function<void(core::CustomButtonAction)> custom_button_;
  std::optional<core::TimePoint> last_pilot_sample_;
  static constexpr core::Seconds kBoardRecovery{10};
  bool board_failed_ = false;
  std::optional<core::TimePoint> board_ok_since_;
  std::optional<bool> last_rcm_;
  core::InputDebouncer switch_debouncer_;
  core::InputDebouncer lock_debouncer_;
  bool led_failed_ = false;
  bool switch_known_ = false;
  core::ChargeState logged_state_ = core::ChargeState::A;
  core::ErrorFlags logged_errors_;
};

}  // namespace evsed::app
