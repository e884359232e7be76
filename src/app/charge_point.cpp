#include "evsed/app/charge_point.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace evsed::app {

namespace {

std::string describe(core::ErrorFlags flags) {
  std::string s;
  for (auto f : core::kAllErrorFlags) {
    if (!flags.has(f)) continue;
    if (!s.empty()) s += ",";
    s += core::to_string(f);
  }
  return s.empty() ? "none" : s;
}

}  // namespace

ChargePoint::ChargePoint(core::Settings settings, hw::Board& board, sim::World* world, bool sim_mains_meter,
                         core::TimePoint now, std::shared_ptr<spdlog::logger> log)
    : controller_(std::move(settings), now),
      board_(board),
      world_(world),
      sim_mains_meter_(sim_mains_meter),
      log_(std::move(log)) {
  report_board(board_.apply_all(controller_.outputs()), now);
}

void ChargePoint::pilot_period(core::TimePoint now) {
  if (world_) world_->step(now);
  read_inputs(now);
  auto sample = board_.sample_pilot(now);
  if (auto* e = std::get_if<hw::HwError>(&sample)) {
    report_board(*e, now);
    return;
  }
  last_pilot_sample_ = now;
  execute(controller_.handle(std::get<core::PilotSample>(sample), now), now);
}

// The digital inputs, once per pilot period; the controller hears of changes only.
void ChargePoint::read_inputs(core::TimePoint now) {
  auto rcm = board_.read_rcm_fault();
  if (auto* e = std::get_if<hw::HwError>(&rcm)) {
    report_board(*e, now);
  } else if (const bool fault = std::get<bool>(rcm); fault != last_rcm_) {
    last_rcm_ = fault;
    execute(controller_.handle(core::RcmInput{fault}, now), now);
  }
  auto sw = board_.read_switch();
  if (auto* e = std::get_if<hw::HwError>(&sw)) {
    report_board(*e, now);
  } else if (const auto& closed = std::get<std::optional<bool>>(sw)) {
    if (auto level = switch_debouncer_.feed(*closed)) {
      // The first stable level is where the switch sits, not a change.
      if (switch_known_) log_->info("external switch {}", *level ? "closed" : "open");
      switch_known_ = true;
      execute(controller_.handle(core::SwitchInput{*level}, now), now);
    }
  }
  auto lock = board_.read_lock_feedback();
  if (auto* e = std::get_if<hw::HwError>(&lock)) {
    report_board(*e, now);
  } else if (const auto& locked = std::get<std::optional<bool>>(lock)) {
    // Debounced too: one glitch while a contactor switches must not end a session.
    if (auto level = lock_debouncer_.feed(*locked)) execute(controller_.handle(core::LockFeedback{*level}, now), now);
  }
}

void ChargePoint::housekeeping(core::TimePoint now, core::LocalTime local_now) {
  auto t = board_.read_temperature();
  if (auto* e = std::get_if<hw::HwError>(&t)) {
    report_board(*e, now);
  } else {
    execute(controller_.handle(core::TemperatureReading{std::get<int>(t)}, now), now);
  }
  execute(controller_.handle(core::HousekeepingTick{local_now}, now), now);
}

void ChargePoint::control_cycle(core::TimePoint now) {
  if (world_ && sim_mains_meter_) feed(world_->mains_reading(now), now);
  if (world_ && sim_ev_meter_) feed(world_->ev_reading(now), now);
  execute(controller_.handle(core::ControlCycle{}, now), now);
}

void ChargePoint::feed(const core::Event& event, core::TimePoint now) {
  if (const auto* r = std::get_if<core::MeterReading>(&event); r && r->role == core::MeterRole::Mains && mains_reading_) {
    mains_reading_(*r);
  }
  execute(controller_.handle(event, now), now);
}

core::PatchResult ChargePoint::apply(const core::SettingsPatch& patch, core::TimePoint now) {
  core::PatchResult r = controller_.apply(patch, now);
  execute(r.commands, now);
  return r;
}

std::vector<std::string> ChargePoint::reconfigure(const core::Settings& installer, bool sim_mains_meter,
                                                 core::TimePoint now) {
  sim_mains_meter_ = sim_mains_meter;
  core::Commands c;
  auto fell_back = controller_.reconfigure(installer, now, c);
  execute(c, now);
  return fell_back;
}

void ChargePoint::drive_led(bool lit) {
  const hw::HwResult r = board_.set_led(lit);
  if (r && !led_failed_) log_->warn("LED: {}", r->message());
  led_failed_ = r.has_value();
}

hw::HwResult ChargePoint::shutdown(core::TimePoint now) {
  controller_.handle(core::Shutdown{}, now);
  auto r = board_.make_safe();
  if (r) {
    log_->error("safe state not confirmed: {}", r->message());
  } else {
    log_->info("safe state: contactors open, pilot at +12 V (no current offered)");
  }
  return r;
}

void ChargePoint::execute(const core::Commands& c, core::TimePoint now) {
  report_board(board_.apply(c.outputs), now);
  if (c.settings_changed && settings_changed_) settings_changed_();
  if (c.custom_button != core::CustomButtonAction::None && custom_button_) custom_button_(c.custom_button);
  log_changes();
}

// A failing board is a fault: the controller opens the contactors and stops
// offering; we write that at once (whatever still works) and log once. The
// fault clears after the board has worked for a while, so one bad read does
// not end the session for good, and a dead driver does not flap.
void ChargePoint::report_board(const hw::HwResult& r, core::TimePoint now) {
  if (r) {
    board_ok_since_.reset();
    if (!board_failed_) {
      board_failed_ = true;
      log_->error("board fault: {}", r->message());
      controller_.handle(core::BoardFault{true, r->message()}, now);
      (void)board_.apply_all(controller_.outputs());
    }
  } else if (board_failed_) {
    if (!board_ok_since_) board_ok_since_ = now;
    if (now - *board_ok_since_ >= kBoardRecovery) {
      board_failed_ = false;
      log_->info("board works again");
      controller_.handle(core::BoardFault{false, ""}, now);
    }
  }
  log_changes();
}

void ChargePoint::log_changes() {
  const auto state = controller_.state();
  const auto errors = controller_.errors();
  if (state != logged_state_) {
    log_->info("state {} -> {}", core::short_name(logged_state_), core::short_name(state));
    logged_state_ = state;
  }
  if (errors != logged_errors_) {
    log_->warn("errors: {}", describe(errors));
    logged_errors_ = errors;
  }
}

}  // namespace evsed::app
