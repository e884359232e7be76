#include "evsed/app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>

#include "evsed/app/charge_point.hpp"
#include "evsed/hw/gpio_board.hpp"
#include "evsed/app/local_clock.hpp"
#include "evsed/app/network_info.hpp"
#include "evsed/app/power_history.hpp"
#include "evsed/app/settings_store.hpp"
#include "evsed/http/rest_api.hpp"
#include "evsed/http/server.hpp"
#include "evsed/meters/poller.hpp"
#include "evsed/meters/profile.hpp"
#include "evsed/mqtt/bridge.hpp"
#include "evsed/sim/world.hpp"
#include "evsed/version.hpp"

namespace evsed::app {

namespace {

namespace asio = boost::asio;
using core::Clock;

constexpr core::Milliseconds kPilotPeriod{10};
constexpr core::Milliseconds kControlPeriod{2000};
constexpr core::Milliseconds kHousekeepingPeriod{1000};
// The watchdog is fed only while pilot samples are this fresh.
constexpr core::Milliseconds kPilotFreshFor{500};
// /reboot and /erasesettings: SmartEVSE reboots 5 s after answering.
constexpr core::Seconds kRestartDelay{5};
constexpr core::Seconds kNetworkRefresh{5};

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
  // Longest delay of a tick behind its schedule over the last 10 to 20 s.
  [[nodiscard]] core::Milliseconds max_lag() const { return std::max(lag_[0], lag_[1]); }

 private:
  void arm() {
    timer_.expires_at(next_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = Clock::now();
      note_lag(now);
      tick_(now);
      next_ += period_;
      if (next_ + period_ * 10 < now) next_ = now + period_;  // fell far behind: resynchronise
      arm();
    });
  }

  void note_lag(core::TimePoint now) {
    if (now - window_start_ >= core::Seconds{10}) {
      lag_[1] = lag_[0];
      lag_[0] = core::Milliseconds{0};
      window_start_ = now;
    }
    lag_[0] = std::max(lag_[0], std::chrono::duration_cast<core::Milliseconds>(now - next_));
  }

  asio::steady_timer timer_;
  core::Milliseconds period_;
  std::function<void(core::TimePoint)> tick_;
  core::TimePoint next_{};
  core::TimePoint window_start_{};
  std::array<core::Milliseconds, 2> lag_{};
};

std::optional<std::string> prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "state directory " + dir + ": " + ec.message();
  if (::access(dir.c_str(), W_OK) != 0) return "state directory " + dir + ": " + std::strerror(errno);
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int mains_power_w(const core::MeterReading& r) {
  if (r.power) return r.power->value;
  int w = 0;
  for (auto i : r.currents) w += i.value() * 23;  // dA x 230 V / 10
  return w;
}

class Daemon final : public http::RestBackend, public mqtt::MqttBackend {
 public:
  explicit Daemon(DaemonSetup setup)
      : setup_(std::move(setup)),
        log_(*setup_.log),
        store_(setup_.options.state_dir),
        mqtt_path_(setup_.options.state_dir + "/mqtt.json"),
        pilot_(io_, kPilotPeriod, [this](core::TimePoint now) { cp_->pilot_period(now); }),
        control_(io_, kControlPeriod, [this](core::TimePoint now) { cp_->control_cycle(now); }),
        housekeeping_(io_, kHousekeepingPeriod, [this](core::TimePoint now) { housekeeping(now); }),
        signals_(io_, SIGTERM, SIGINT),
        restart_timer_(io_),
        api_(*this),
        server_(io_, [this](const http::HttpRequest& r) { return api_.handle(r); }),
        bridge_(io_, *this, setup_.log, setup_.serial) {}

  int run() {
    if (setup_.config.board == BoardKind::Gpio) {
      auto opened = hw::GpioBoard::open(setup_.config.gpio);
      if (auto* e = std::get_if<hw::HwError>(&opened)) {
        log_.error("board: {}", e->message());
        return 1;
      }
      gpio_board_ = std::move(std::get<std::unique_ptr<hw::GpioBoard>>(opened));
      board_.emplace(gpio_board_->io());
    } else {
      board_.emplace(world_.board().io());
    }
    auto loaded = store_.load(setup_.config.settings);
    if (loaded.problem) log_.error("{}", *loaded.problem);
    load_mqtt();

    const auto started = started_;
    sim::World* world = setup_.config.board == BoardKind::Sim ? &world_ : nullptr;
    cp_.emplace(loaded.settings, *board_, world, setup_.config.mains_meter.type == meters::MeterType::Sim, started,
                setup_.log);
    // A first start, or a bad file replaced by defaults: write what we run with.
    settings_dirty_ = !loaded.found || loaded.problem.has_value();
    cp_->on_settings_changed([this] { settings_dirty_ = true; });
    cp_->on_mains_reading([this](const core::MeterReading& r) { power_.record(local_now(), mains_power_w(r)); });
    cp_->on_custom_button([this](core::CustomButtonAction a) {
      panel_.custom_button = a == core::CustomButtonAction::Toggle ? !panel_.custom_button
                                                                    : a == core::CustomButtonAction::On;
    });

    start_meter_poller();
    configure_mqtt();
    http::raise_file_limit();
    for (const auto& address : split_list(setup_.listen)) {
      if (auto e = server_.listen(address)) {
        log_.error("HTTP: {}", *e);
        cp_->shutdown(Clock::now());
        if (gpio_board_) (void)gpio_board_->release();
        return 1;
      }
    }
    std::string endpoints;
    for (const auto& e : server_.local_endpoints()) endpoints += (endpoints.empty() ? "" : ", ") + e;

    watchdog_ = sd_watchdog_enabled(0, &watchdog_usec_) > 0;
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (!ec) stop(0, signo == SIGTERM ? "SIGTERM received" : "SIGINT received");
    });
    pilot_.start();
    control_.start();
    housekeeping_.start();
    cp_->housekeeping(started, local_now());
    flush_settings();

    log_.info("evsed {} running: board {}, mains meter {}, HTTP on {}, state in {}", kVersion,
              setup_.config.board == BoardKind::Sim ? "simulated" : "gpio (PWM " + setup_.config.gpio.pwm.sysfs_root + ")",
              meters::name(setup_.config.mains_meter.type), endpoints, setup_.options.state_dir);
    sd_notify(0, "READY=1\nSTATUS=charge point running");
    // Handlers catch what they expect; anything else ends here, and the board
    // is made safe before the process goes (systemd restarts it).
    try {
      io_.run();
    } catch (const std::exception& e) {
      log_.critical("internal error: {}", e.what());
      stop(kInternalError, "internal error");
    } catch (...) {
      log_.critical("internal error: unknown exception");
      stop(kInternalError, "internal error");
    }
    log_.info("stopped");
    return exit_code_;
  }

  // --- RestBackend ---------------------------------------------------------
  core::Status status() override { return cp_->status(Clock::now()); }

  http::DeviceView device() override {
    http::DeviceView d;
    d.version = kVersion;
    d.serial = setup_.serial;
    d.mains_meter = std::string{meters::name(setup_.config.mains_meter.type)};
    d.ev_meter = std::string{meters::name(setup_.config.ev_meter.type)};
    d.circuit_meter = std::string{meters::name(setup_.config.circuit_meter.type)};
    d.ev_meter_address = setup_.config.ev_meter.address;
    d.circuit_meter_address = setup_.config.circuit_meter.address;
    d.mqtt = mqtt_;
    d.mqtt_connected = bridge_.connected();
    d.network = network();
    for (std::size_t i = 0; i < meter_polls_.size(); ++i) d.meter_polls[i] = meter_polls_[i];
    d.modbus = modbus_view_;
    d.pilot_loop_lag_ms = pilot_.max_lag().count();
    d.now_epoch = static_cast<std::int64_t>(std::time(nullptr));
    const auto& delayed = cp_->settings().delayed;
    if (delayed.start) d.starttime_epoch = to_epoch(*delayed.start);
    if (delayed.stop) d.stoptime_epoch = to_epoch(*delayed.stop);
    return d;
  }

  core::PatchResult apply(core::SettingsPatch patch) override {
    patch.local_now = app::local_now();
    return cp_->apply(patch, Clock::now());
  }

  void feed(const core::Event& event) override { cp_->feed(event, Clock::now()); }
  core::TimePoint now() override { return Clock::now(); }
  core::LocalTime local_now() override { return app::local_now(); }
  std::int64_t to_epoch(core::LocalTime t) override { return app::to_epoch(t); }
  meters::MeterType mains_meter_type() override { return setup_.config.mains_meter.type; }
  meters::MeterType ev_meter_type() override { return setup_.config.ev_meter.type; }
  mqtt::MqttSettings mqtt_settings() override { return mqtt_; }

  std::optional<std::string> save_mqtt(const mqtt::MqttSettings& s) override {
    if (auto e = write_file_atomically(mqtt_path_, mqtt::to_json(s))) return e;
    mqtt_ = s;
    log_.info("MQTT settings changed: broker {}:{}", s.host.empty() ? "(none)" : s.host, s.port);
    configure_mqtt();
    return std::nullopt;
  }

  std::vector<http::PowerSlot> power_day() override { return power_.last_day(app::local_now()); }

  void restart(bool after_charging) override {
    if (restart_pending_) return;
    restart_pending_ = true;
    log_.info("restart requested{}", after_charging ? "; waiting until the car stops charging" : "");
    restart_timer_.expires_after(kRestartDelay);
    restart_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) try_restart();
    });
  }

  std::optional<std::string> erase_settings() override {
    if (auto e = store_.erase()) return e;
    if (std::remove(mqtt_path_.c_str()) != 0 && errno != ENOENT) return mqtt_path_ + ": " + std::strerror(errno);
    settings_erased_ = true;  // do not write them back on the way out
    log_.info("run-time settings erased");
    return std::nullopt;
  }

  sim::World* simulator() override { return setup_.options.simulate ? &world_ : nullptr; }
  hw::PanelState& panel() override { return panel_; }

 private:
  // Modbus meters are polled on their own thread; each cycle's report comes
  // back into the loop before it touches the controller.
  void start_meter_poller() {
    const Config& c = setup_.config;
    std::vector<meters::PolledMeter> polled;
    const std::pair<core::MeterRole, const MeterConfig*> roles[] = {
        {core::MeterRole::Mains, &c.mains_meter}, {core::MeterRole::Ev, &c.ev_meter},
        {core::MeterRole::Circuit, &c.circuit_meter}};
    for (const auto& [role, m] : roles) {
      if (!meters::is_modbus(m->type)) continue;
      meters::PolledMeter pm;
      pm.role = role;
      pm.type = m->type;
      pm.address = m->address;
      if (m->type == meters::MeterType::Custom) {
        pm.profile = meters::custom_profile(*c.custom_meter);
      } else if (auto p = meters::profile_of(m->type)) {
        pm.profile = *p;
      }
      polled.push_back(pm);
    }
    if (polled.empty()) return;
    meters::BusConfig bus;
    bus.port = c.modbus.port;
    bus.baud = c.modbus.baud;
    bus.parity = c.modbus.parity;
    bus.stop_bits = c.modbus.stop_bits;
    bus.response_timeout = core::Milliseconds{c.modbus.response_timeout_ms};
    bus.turnaround = core::Milliseconds{c.modbus.turnaround_ms};
    bus.cycle = core::Milliseconds{c.modbus.poll_interval_ms};
    bus.rs485 = c.modbus.rs485;
    bus.big_cts = c.settings.max_mains.value() > 100;
    poller_.emplace(bus, std::move(polled),
                    [this](meters::PollReport report) {
                      asio::post(io_, [this, r = std::move(report)] { on_poll_report(r); });
                    },
                    setup_.log);
    poller_->start();
  }

  void on_poll_report(const meters::PollReport& r) {
    for (const auto& reading : r.readings) cp_->feed(reading, Clock::now());
    modbus_view_ = http::ModbusBusView{setup_.config.modbus.port, r.port_open, r.cycle_time.count()};
    const MeterConfig* configs[] = {&setup_.config.mains_meter, &setup_.config.ev_meter, &setup_.config.circuit_meter};
    for (std::size_t i = 0; i < r.stats.size(); ++i) {
      if (!r.stats[i]) continue;
      http::MeterPollView v;
      v.address = configs[i]->address;
      v.polls = r.stats[i]->polls;
      v.good = r.stats[i]->good;
      for (std::size_t k = 0; k < meters::kPollErrorKinds; ++k) {
        v.errors.emplace_back(meters::to_string(static_cast<meters::PollError>(k)), r.stats[i]->errors[k]);
      }
      v.last_error = r.stats[i]->last_error;
      meter_polls_[i] = std::move(v);
    }
  }

  // --- MqttBackend (status, apply, feed and panel are shared with REST) -------
  mqtt::StateContext state_context() override {
    mqtt::StateContext c;
    c.mains_meter = setup_.config.mains_meter.type;
    c.ev_meter = setup_.config.ev_meter.type;
    c.circuit_meter = setup_.config.circuit_meter.type;
    c.panel = panel_;
    c.uptime_s = std::chrono::duration_cast<core::Seconds>(Clock::now() - started_).count();
    if (const auto& net = network(); net.wifi) {
      c.wifi_ssid = net.wifi->ssid;
      c.wifi_bssid = net.wifi->bssid;
      c.wifi_rssi = net.wifi->rssi;
    }
    return c;
  }

  mqtt::DiscoveryContext discovery_context() override {
    mqtt::DiscoveryContext c;
    c.version = kVersion;
    const auto& net = network();
    c.configuration_url = "http://" + (net.eth_has_ip ? net.eth_ip : std::string{"0.0.0.0"});
    c.mains_meter = setup_.config.mains_meter.type != meters::MeterType::Disabled;
    c.ev_meter = setup_.config.ev_meter.type != meters::MeterType::Disabled;
    c.circuit_meter = setup_.config.circuit_meter.type != meters::MeterType::Disabled;
    c.home_battery = cp_->status(Clock::now()).home_battery_current.has_value();
    c.cable_lock = setup_.config.settings.lock != core::LockType::Disabled;
    c.wifi = net.wifi.has_value();
    c.max_current_a = setup_.config.settings.max_current.value();
    return c;
  }

  mqtt::SetContext set_context() override {
    mqtt::SetContext c;
    c.mains_meter = setup_.config.mains_meter.type;
    c.ev_meter = setup_.config.ev_meter.type;
    c.circuit_meter = setup_.config.circuit_meter.type;
    c.last_ev_reading = cp_->status(Clock::now()).ev.last;
    c.now = Clock::now();
    return c;
  }

  // The interfaces, read at most every few seconds.
  const http::NetworkView& network() {
    const auto now = Clock::now();
    if (!network_read_at_ || now - *network_read_at_ > kNetworkRefresh) {
      network_ = read_network();
      network_read_at_ = now;
    }
    return network_;
  }

  void configure_mqtt() {
    mqtt::BridgeOptions o;
    o.settings = mqtt_;
    o.discovery = setup_.config.mqtt_discovery;
    o.ca_file = setup_.config.mqtt_ca_file;
    if (!mqtt_.ca_cert.empty()) {
      // Paho reads the CA from a file: the one set over REST lives in the state dir.
      const std::string path = setup_.options.state_dir + "/mqtt_ca.pem";
      if (auto e = write_file_atomically(path, mqtt_.ca_cert)) {
        log_.error("MQTT CA certificate: {}", *e);
      } else {
        o.ca_file = path;
      }
    }
    bridge_.configure(o);
  }

  void housekeeping(core::TimePoint now) {
    cp_->housekeeping(now, app::local_now());
    bridge_.tick();
    flush_settings();
    const auto last = cp_->last_pilot_sample();
    if (watchdog_ && last && now - *last < kPilotFreshFor) sd_notify(0, "WATCHDOG=1");
  }

  void try_restart() {
    if (cp_->status(Clock::now()).state == core::ChargeState::C) {
      restart_timer_.expires_after(core::Seconds{1});
      restart_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) try_restart();
      });
      return;
    }
    stop(kRestartExitCode, "restarting on request");
  }

  void stop(int exit_code, const char* why) {
    log_.info("{}, stopping", why);
    sd_notify(0, "STOPPING=1");
    pilot_.stop();
    control_.stop();
    housekeeping_.stop();
    exit_code_ = exit_code;
    // The board first: nothing below may delay the safe state.
    if (cp_->shutdown(Clock::now())) exit_code_ = 1;
    if (gpio_board_) {
      if (auto e = gpio_board_->release()) log_.error("board: {}", e->message());
    }
    server_.stop();
    if (poller_) poller_->stop();
    restart_timer_.cancel();
    signals_.cancel();
    flush_settings();
    bridge_.stop();
    io_.stop();
  }

  void flush_settings() {
    if (!settings_dirty_ || settings_erased_) return;
    if (auto e = store_.save(cp_->settings())) {
      log_.error("saving settings: {}", *e);
    } else {
      settings_dirty_ = false;
    }
  }

  void load_mqtt() {
    mqtt_ = setup_.config.mqtt;
    const auto text = read_file(mqtt_path_);
    if (!text) return;
    std::string problem;
    if (auto s = mqtt::mqtt_settings_from_json(*text, problem)) {
      mqtt_ = *s;
    } else {
      log_.error("{}", set_aside(mqtt_path_, problem));
    }
  }

  DaemonSetup setup_;
  spdlog::logger& log_;
  SettingsStore store_;
  std::string mqtt_path_;
  mqtt::MqttSettings mqtt_;
  asio::io_context io_;
  // Only the simulated board exists in this version (--simulate or board.kind = "sim").
  sim::World world_;
  std::unique_ptr<hw::GpioBoard> gpio_board_;
  std::optional<hw::Board> board_;
  std::optional<ChargePoint> cp_;
  PowerHistory power_;
  hw::PanelState panel_;
  Periodic pilot_;
  Periodic control_;
  Periodic housekeeping_;
  asio::signal_set signals_;
  asio::steady_timer restart_timer_;
  http::RestApi api_;
  http::HttpServer server_;
  std::optional<core::TimePoint> network_read_at_;
  http::NetworkView network_;
  std::optional<meters::ModbusPoller> poller_;
  std::array<std::optional<http::MeterPollView>, 3> meter_polls_;
  std::optional<http::ModbusBusView> modbus_view_;
  core::TimePoint started_ = Clock::now();
  mqtt::Bridge bridge_;
  bool watchdog_ = false;
  std::uint64_t watchdog_usec_ = 0;
  bool settings_dirty_ = false;
  bool settings_erased_ = false;
  bool restart_pending_ = false;
  int exit_code_ = 0;
};

}  // namespace

int run_daemon(DaemonSetup setup) {
  if (auto e = prepare_state_dir(setup.options.state_dir)) {
    setup.log->error("{}", *e);
    return 1;
  }
  Daemon daemon(std::move(setup));
  return daemon.run();
}

}  // namespace evsed::app
