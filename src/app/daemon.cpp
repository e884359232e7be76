#include "evsed/app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>

#include "evsed/app/charge_point.hpp"
#include "evsed/app/local_clock.hpp"
#include "evsed/app/settings_store.hpp"
#include "evsed/sim/world.hpp"

namespace evsed::app {

namespace {

namespace asio = boost::asio;
using core::Clock;

constexpr core::Milliseconds kPilotPeriod{10};
constexpr core::Milliseconds kControlPeriod{2000};
constexpr core::Milliseconds kHousekeepingPeriod{1000};
// The watchdog is fed only while pilot samples are this fresh.
constexpr core::Milliseconds kPilotFreshFor{500};

// A periodic timer on the loop that keeps its phase and does not pile up
// callbacks after a stall (suspend, debugger).
class Periodic {
 public:
  Periodic(asio::io_context& io, core::Milliseconds period, std::function<void(core::TimePoint)> tick)
      : timer_(io), period_(period), tick_(std::move(tick)) {}

  void start() {
    next_ = Clock::now() + period_;
    arm();
  }
  void stop() { timer_.cancel(); }

 private:
  void arm() {
    timer_.expires_at(next_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = Clock::now();
      tick_(now);
      next_ += period_;
      if (next_ + period_ * 10 < now) next_ = now + period_;  // fell far behind: resynchronise
      arm();
    });
  }

  asio::steady_timer timer_;
  core::Milliseconds period_;
  std::function<void(core::TimePoint)> tick_;
  core::TimePoint next_{};
};

std::optional<std::string> prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "state directory " + dir + ": " + ec.message();
  if (::access(dir.c_str(), W_OK) != 0) return "state directory " + dir + ": " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace

int run_daemon(DaemonSetup setup) {
  auto& log = *setup.log;
  if (auto e = prepare_state_dir(setup.options.state_dir)) {
    log.error("{}", *e);
    return 1;
  }
  SettingsStore store(setup.options.state_dir);
  auto loaded = store.load(setup.config.settings);
  if (loaded.problem) log.error("{}", *loaded.problem);

  // Only the simulated board exists in this version; --simulate or board.kind = "sim".
  sim::World world;
  hw::Board board(world.board().io());
  const bool sim_meter = setup.config.mains_meter.type == meters::MeterType::Sim;

  const auto started = Clock::now();
  ChargePoint cp(loaded.settings, board, &world, sim_meter, started, setup.log);
  // A first start, or a bad file replaced by defaults: write what we run with.
  bool settings_dirty = !loaded.found || loaded.problem.has_value();
  cp.on_settings_changed([&] { settings_dirty = true; });
  auto flush_settings = [&] {
    if (!settings_dirty) return;
    if (auto e = store.save(cp.settings())) {
      log.error("saving settings: {}", *e);
    } else {
      settings_dirty = false;
    }
  };

  asio::io_context io;
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;

  Periodic pilot(io, kPilotPeriod, [&](core::TimePoint now) { cp.pilot_period(now); });
  Periodic control(io, kControlPeriod, [&](core::TimePoint now) { cp.control_cycle(now); });
  Periodic housekeeping(io, kHousekeepingPeriod, [&](core::TimePoint now) {
    cp.housekeeping(now, local_now());
    flush_settings();
    const auto last = cp.last_pilot_sample();
    if (watchdog && last && now - *last < kPilotFreshFor) sd_notify(0, "WATCHDOG=1");
  });

  asio::signal_set signals(io, SIGTERM, SIGINT);
  int exit_code = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log.info("{} received, stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    sd_notify(0, "STOPPING=1");
    pilot.stop();
    control.stop();
    housekeeping.stop();
    if (cp.shutdown(Clock::now())) exit_code = 1;
    flush_settings();
    io.stop();
  });

  pilot.start();
  control.start();
  housekeeping.start();
  cp.housekeeping(started, local_now());
  flush_settings();

  log.info("evsed running: board {}, mains meter {}, HTTP {}, state in {}",
           setup.config.board == BoardKind::Sim ? "simulated" : "gpio", meters::name(setup.config.mains_meter.type),
           setup.listen, store.path());
  sd_notify(0, "READY=1\nSTATUS=charge point running");
  io.run();
  log.info("stopped");
  return exit_code;
}

}  // namespace evsed::app
