#pragma once
// The real Station (LiveStation) over the real charge point and the simulated
// world, with a clock the test moves and state files in memory (or, where a
// test wants the disk, the real FileWriter on a temporary directory).

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "evsed/app/charge_point.hpp"
#include "evsed/app/live_station.hpp"
#include "evsed/sim/world.hpp"
#include "fixed_clock.hpp"
#include "memory_files.hpp"

namespace evsed::app {

inline core::Settings station_rig_settings() {
  core::Settings s;
  s.has_mains_meter = true;
  return s;
}

struct StationRig {
  explicit StationRig(core::Settings settings = station_rig_settings(), StateFiles* files_override = nullptr,
                      std::string state_dir = {})
      : log(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text))),
        board(world.board().io()),
        cp(settings, board, &world, false, clock.steady_now, log),
        station(config(state_dir), cp, files_override ? *files_override : files, clock, log, clock.steady_now,
                cp.settings()) {}

  static StationConfig config(std::string state_dir) {
    StationConfig c;
    c.state_dir = state_dir.empty() ? (std::filesystem::temp_directory_path() / "evsed-station-rig").string()
                                    : std::move(state_dir);
    std::filesystem::create_directories(c.state_dir);
    c.meters[0] = {"API", 10, true, std::nullopt};
    c.meters[1] = {"Disabled", 12, false, std::nullopt};
    c.meters[2] = {"Disabled", 13, false, std::nullopt};
    c.serial = 4711;
    c.simulated = true;
    return c;
  }

  // One pilot period of 10 ms, as the daemon's timer would run it.
  void tick() {
    clock.steady_now += std::chrono::milliseconds{10};
    station.pilot_period(clock.steady_now);
  }
  void run_for(core::Milliseconds d) {
    for (auto end = clock.steady_now + d; clock.steady_now < end;) tick();
  }

  // Sends a change and lets the "loop" deliver the file completions.
  station::SettingsOutcome change(station::SettingsChange c) {
    std::optional<station::SettingsOutcome> out;
    station.change_settings(std::move(c), [&](station::SettingsOutcome o) { out = std::move(o); });
    files.run_posted();
    return out.value_or(station::SettingsOutcome{});
  }
  station::SettingsOutcome set(core::Field f, std::int64_t v) {
    station::SettingsChange c;
    c.patch.set(f, v);
    return change(std::move(c));
  }

  std::ostringstream log_text;
  FixedClock clock;
  MemoryFiles files;
  std::shared_ptr<spdlog::logger> log;
  sim::World world;
  hw::Board board;
  ChargePoint cp;
  LiveStation station;
};

}  // namespace evsed::app
