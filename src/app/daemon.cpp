#include "evsed/app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "evsed/app/charge_point.hpp"
#include "evsed/app/diagnostics.hpp"
#include "evsed/app/file_writer.hpp"
#include "evsed/app/live_station.hpp"
#include "evsed/app/local_clock.hpp"
#include "evsed/app/network_info.hpp"
#include "evsed/app/periodic.hpp"
#include "evsed/app/settings_store.hpp"
#include "evsed/app/simulator_api.hpp"
#include "evsed/auth/gate.hpp"
#include "evsed/http/certificate.hpp"
#include "evsed/http/rest_api.hpp"
#include "evsed/http/server.hpp"
#include "evsed/http/settings_json.hpp"
#include "evsed/hw/gpio_board.hpp"
#include "evsed/meters/poller.hpp"
#include "evsed/meters/profile.hpp"
#include "evsed/mqtt/bridge.hpp"
#include "evsed/sessions/session_log.hpp"
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

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGALRM: return "SIGALRM";
    default: return "signal";
  }
}

StationConfig station_config(const DaemonSetup& s) {
  const Config& c = s.config;
  StationConfig sc;
  sc.state_dir = s.options.state_dir;
  sc.version = kVersion;
  sc.serial = s.serial;
  const MeterConfig* meters[] = {&c.mains_meter, &c.ev_meter, &c.circuit_meter};
  for (std::size_t i = 0; i < 3; ++i) {
    sc.meters[i].type = std::string{meters::name(meters[i]->type)};
    sc.meters[i].address = meters[i]->address;
    sc.meters[i].api = meters[i]->type == meters::MeterType::Api;
  }
  sc.simulated = c.board == BoardKind::Sim;
  sc.cable_lock_fitted = c.settings.lock != core::LockType::Disabled;
  sc.mqtt = c.mqtt;
  sc.mqtt_ca_file = c.mqtt_ca_file;
  sc.mqtt_client_cert = c.mqtt_client_cert;
  sc.mqtt_client_key = c.mqtt_client_key;
  sc.mqtt_discovery = c.mqtt_discovery;
  return sc;
}

// Wiring and lifecycle: the board, the charge point, the Station and its
// front-ends, the timers and the signals. Decisions live elsewhere.
class Daemon {
 public:
  explicit Daemon(DaemonSetup setup)
      : setup_(std::move(setup)),
        log_(*setup_.log),
        writer_([this](std::function<void()> f) { asio::post(io_, std::move(f)); }),
        pilot_(io_, kPilotPeriod, [this](core::TimePoint now) { station_->pilot_period(now); }),
        control_(io_, kControlPeriod, [this](core::TimePoint now) { station_->control_cycle(now); }),
        housekeeping_(io_, kHousekeepingPeriod, [this](core::TimePoint now) { housekeeping(now); }),
        stop_signals_(io_, SIGTERM, SIGINT, SIGQUIT),
        other_signals_(io_, SIGHUP, SIGUSR1, SIGUSR2),
        restart_timer_(io_) {
    other_signals_.add(SIGALRM);
  }

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
    SettingsStore store(setup_.options.state_dir);
    auto loaded = store.load(setup_.config.settings);
    if (loaded.problem) log_.error("{}", *loaded.problem);
    for (const auto& d : loaded.dropped) log_.warn("{}: {}", store.path(), d);
    // What the file holds as it is: a first start, a fixed or set-aside file is written again.
    std::optional<core::Settings> on_disk;
    if (loaded.found && !loaded.problem && loaded.dropped.empty()) on_disk = loaded.settings;

    const auto started = Clock::now();
    sim::World* world = setup_.config.board == BoardKind::Sim ? &world_ : nullptr;
    cp_.emplace(loaded.settings, *board_, world, setup_.config.mains_meter.type == meters::MeterType::Sim, started,
                setup_.log);
    station_.emplace(station_config(setup_), *cp_, writer_, clock_, setup_.log, started, on_disk);
    station_->on_restart([this] { restart(); });
    station_->set_network(read_network());
    if (world) {
      cp_->simulate_ev_meter(setup_.config.ev_meter.type == meters::MeterType::Sim);
      if (setup_.config.simulated_car != SimulatedCar::Unplugged) {
        world_.car().set_charge_wanted(setup_.config.simulated_car == SimulatedCar::Charging);
        world_.car().plug_in();
      }
    }
    start_session_log();
    start_access();

    api_.emplace(*station_, rest_options(setup_.config));
    load_site();
    const bool simulate = setup_.options.simulate;
    api_->add_route("/simulator", [this, simulate](const http::HttpRequest& r, const http::Params& p,
                                                   http::Respond respond) {
      if (!simulate) {
        http::HttpResponse nf{404, "text/plain", "Not found: the simulator runs only with --simulate\n", nullptr, {}, false, {}};
        return respond(std::move(nf));
      }
      respond(simulator_request(world_, r, p));
    });
    started_epoch_ = clock_.epoch_now();
    diagnostics_config_ = configuration_json(setup_.config_files);  // with the reading at start
    diagnostics_system_ = system_json();
    api_->add_route("/diagnostics", [this](const http::HttpRequest& r, const http::Params&, http::Respond respond) {
      if (r.method != "GET" && r.method != "HEAD") return respond(http::text_response(405, "Method not allowed; use GET\n"));
      respond(diagnostics());
    });
    api_->add_route("/https", [this](const http::HttpRequest& r, const http::Params&, http::Respond respond) {
      if (r.method != "GET" && r.method != "HEAD") return respond(http::text_response(405, "Method not allowed; use GET\n"));
      nlohmann::json j{{"enabled", tls_loaded_}};
      if (tls_loaded_) {
        j["listen"] = *setup_.config.tls_listen;
        j["fingerprint_sha256"] = tls_fingerprint_;
        j["self_signed"] = setup_.config.tls_cert.empty();
      }
      respond(http::json_response(200, j.dump()));
    });
    http::ServerLimits limits;
    limits.max_connections_per_client = static_cast<std::size_t>(setup_.config.max_connections_per_client);
    server_.emplace(io_, [this](const http::HttpRequest& r, http::Respond respond) { api_->handle(r, std::move(respond)); },
                    limits);
    bridge_.emplace(io_, *station_, setup_.log);

    start_meter_poller();
    bridge_->start();
    http::raise_file_limit();
    for (const auto& address : split_list(setup_.listen)) {
      if (auto e = server_->listen(address)) {
        log_.error("HTTP: {}", *e);
        cp_->shutdown(Clock::now());
        if (gpio_board_) (void)gpio_board_->release();
        return 1;
      }
    }
    std::string endpoints;
    for (const auto& e : server_->local_endpoints()) endpoints += (endpoints.empty() ? "" : ", ") + e;
    if (setup_.config.tls_listen && load_tls()) {
      if (auto e = server_->listen_tls(*setup_.config.tls_listen)) {
        log_.error("HTTPS: {}; HTTP goes on", *e);
      } else {
        endpoints += ", HTTPS on " + *setup_.config.tls_listen;
      }
    }

    watchdog_ = sd_watchdog_enabled(0, &watchdog_usec_) > 0;
    wait_for_stop_signal();
    wait_for_other_signals();
    pilot_.start();
    control_.start();
    housekeeping_.start();
    station_->housekeeping(started);

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

 private:
  void wait_for_stop_signal() {
    stop_signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (!ec) stop(0, std::string{signal_name(signo)} + " received");
    });
  }

  // Signals that must not end evsed: each is logged and evsed carries on.
  void wait_for_other_signals() {
    other_signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload();
      } else {
        log_.info("{} received and ignored", signal_name(signo));
      }
      wait_for_other_signals();
    });
  }

  // SIGHUP / systemctl reload: the configuration read again and what can change
  // while running put in force, without ending a charging session. A
  // configuration that is not usable is refused whole; the old one stays.
  void reload() {
    const auto now_usec = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now().time_since_epoch()).count();
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading the configuration",
               static_cast<long long>(now_usec));
    log_.info("SIGHUP received: reloading the configuration");
    auto r = configuration_for(setup_.options);
    if (!r.config) {
      for (const auto& p : r.problems) log_.error("{}", p);
      log_.error("reload refused: the configuration is not usable; evsed goes on with the one it runs with");
      sd_notify(0, "READY=1\nSTATUS=charge point running (the last reload was refused)");
      return;
    }
    Config next = std::move(*r.config);
    const Config& old = setup_.config;
    if (next.board != old.board || !(next.gpio == old.gpio)) {
      log_.warn("[board] changed: the wiring is taken at start only; restart evsed to apply it");
      next.board = old.board;
      next.gpio = old.gpio;
    }
    if (next.serial != old.serial) log_.warn("serial changed: it is taken at start only; restart evsed to apply it");
    next.serial = old.serial;
    const bool meters_changed = next.modbus != old.modbus || next.mains_meter != old.mains_meter ||
                                next.ev_meter != old.ev_meter || next.circuit_meter != old.circuit_meter ||
                                next.custom_meter != old.custom_meter;
    const std::string listen = setup_.options.listen.value_or(next.http_listen.value_or(default_listen()));
    if (listen != setup_.listen) {
      if (auto e = server_->relisten(split_list(listen))) {
        log_.error("reload: HTTP {}; still listening on {}", *e, setup_.listen);
      } else {
        log_.info("reload: HTTP now on {}", listen);
        setup_.listen = listen;
      }
    }
    server_->set_max_connections_per_client(static_cast<std::size_t>(next.max_connections_per_client));
    api_->set_options(rest_options(next));
    setup_.config = std::move(next);
    load_site();  // also picks up files updated in place
    if (setup_.config.tls_listen && tls_loaded_) load_tls();  // a renewed certificate, without dropping anything
    if (gate_) {
      users_mtime_ = modified_time(setup_.options.state_dir + "/users.json");
      auto accounts = read_state_json<auth::Account>("users.json", auth::parse_accounts);
      log_access(accounts.size(), gate_->tokens().size());
      gate_->reconfigure(setup_.config.auth, trusted_networks(), std::move(accounts), setup_.config.write_limit);
    }
    const auto fell_back = station_->reconfigure(station_config(setup_), setup_.config.settings,
                                                 setup_.config.mains_meter.type == meters::MeterType::Sim);
    for (const auto& f : fell_back) log_.warn("reload: {}", f);
    if (meters_changed) {
      if (poller_) poller_->stop();
      poller_.reset();
      start_meter_poller();
      log_.info("reload: meters polled anew");
    }
    diagnostics_config_ = configuration_json(r.files);
    std::string files;
    for (const auto& f : r.files) files += (files.empty() ? "" : ", ") + f;
    log_.info("configuration reloaded from {}", files.empty() ? "built-in defaults" : files);
    sd_notify(0, "READY=1\nSTATUS=charge point running");
  }

  // The dashboard's files, into memory (start and reload): the loop never reads them.
  void load_site() {
    std::string dir = setup_.config.www_root;
    if (dir.empty()) {
      std::error_code ec;
      const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
      dir = !ec && exe == std::filesystem::path{EVSED_BUILD_DIR} ? EVSED_SOURCE_WWW : EVSED_INSTALLED_WWW;
    }
    auto site = http::StaticSite::load(dir);
    if (auto* e = std::get_if<std::string>(&site)) {
      log_.warn("dashboard: {}; / answers 404", *e);
      api_->set_site(nullptr, *e);
      return;
    }
    auto& s = std::get<http::StaticSite>(site);
    log_.info("dashboard: {} files from {} ({} bytes compressed)", s.files(), dir, s.compressed_bytes());
    api_->set_site(std::make_shared<const http::StaticSite>(std::move(s)));
  }

  // GET /diagnostics: a download, named for the charger and the moment.
  http::HttpResponse diagnostics() {
    DiagnosticsFacts f;
    f.version = kVersion;
    f.serial = setup_.serial;
    f.generated = clock_.epoch_now();
    f.uptime_s = static_cast<double>(f.generated - started_epoch_);
    f.settings_json = http::settings_json(*station_->snapshot());
    f.config_json = diagnostics_config_;
    f.system_json = diagnostics_system_;
    f.auth_mode = std::string{station::to_string(setup_.config.auth)};
    f.trusted_networks = setup_.config.trusted_networks;
    if (gate_) {
      f.accounts = gate_->users().size();
      f.tokens = gate_->tokens().size();
    }
    if (tls_loaded_) f.https_fingerprint = tls_fingerprint_;
    if (setup_.recent_log) f.recent_log = setup_.recent_log();
    http::HttpResponse r = http::json_response(200, diagnostics_bundle(f));
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"evsed-diagnostics-" +
                                                      std::to_string(setup_.serial) + "-" + std::to_string(f.generated) +
                                                      ".json\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  static std::optional<std::filesystem::file_time_type> modified_time(const std::string& path) {
    std::error_code ec;
    const auto t = std::filesystem::last_write_time(path, ec);
    if (ec) return std::nullopt;
    return t;
  }

  // Accounts (users.json, from `evsed passwd`) and tokens (tokens.json): read at
  // start and, the accounts, on reload. A broken file is logged and counts as
  // empty: then only the trusted networks may change anything.
  template <class T, class Parse>
  std::vector<T> read_state_json(const std::string& name, Parse parse) {
    const std::string path = setup_.options.state_dir + "/" + name;
    std::ifstream in(path);
    if (!in) return {};
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    auto r = parse(text);
    if (auto* e = std::get_if<std::string>(&r)) {
      log_.error("auth: {}: {}; ignored", path, *e);
      return {};
    }
    return std::get<std::vector<T>>(std::move(r));
  }

  std::vector<auth::Network> trusted_networks() const {
    std::vector<auth::Network> out;
    std::string error;
    for (const auto& t : setup_.config.trusted_networks) {
      if (auto n = auth::parse_network(t, error)) out.push_back(std::move(*n));
    }
    return out;
  }

  void start_access() {
    if (!auth::crypto_ready()) {
      log_.critical("auth: libsodium cannot start; only the trusted networks may change anything");
    }
    auth::GateConfig g;
    g.mode = setup_.config.auth;
    g.trusted = trusted_networks();
    g.write_limit = setup_.config.write_limit;
    users_mtime_ = modified_time(setup_.options.state_dir + "/users.json");
    g.accounts = read_state_json<auth::Account>("users.json", auth::parse_accounts);
    g.tokens = read_state_json<auth::StoredToken>("tokens.json", auth::parse_tokens);
    log_access(g.accounts.size(), g.tokens.size());
    gate_.emplace(
        std::move(g), [this](std::function<void()> f) { asio::post(io_, std::move(f)); },
        [this](auth::Gate::File file, std::string content, std::function<void(std::optional<std::string>)> done) {
          const bool users = file == auth::Gate::File::Users;
          const std::string path = setup_.options.state_dir + (users ? "/users.json" : "/tokens.json");
          // `evsed passwd` may have changed the file since evsed read it: writing the
          // page's copy over it would lose that; a reload reads it first.
          if (users && modified_time(path) != users_mtime_) {
            return done("users.json changed on disk since evsed read it (evsed passwd?): `systemctl reload evsed` first");
          }
          writer_.submit({FileOp{FileOp::Kind::Write, path, std::move(content), FileSecrecy::Secret}},
                         [this, users, path, done = std::move(done)](std::optional<std::string> e) {
                           if (users && !e) users_mtime_ = modified_time(path);
                           done(std::move(e));
                         });
        },
        [] { return Clock::now(); }, [this] { return clock_.epoch_now(); }, setup_.log);
    station_->attach_access(&*gate_);
  }

  void log_access(std::size_t accounts, std::size_t tokens) {
    std::string trusted;
    for (const auto& t : setup_.config.trusted_networks) trusted += (trusted.empty() ? "" : ", ") + t;
    log_.info("auth: mode \"{}\", {} account(s), {} token(s), trusted: {}", station::to_string(setup_.config.auth),
              accounts, tokens, trusted.empty() ? "none" : trusted);
    if (setup_.config.auth == station::AccessMode::Open) {
      log_.warn("auth: [http] auth = \"open\": anyone who reaches the charger may change every setting");
    } else if (accounts == 0 && tokens == 0) {
      log_.info("auth: no accounts yet: changes only from the trusted networks; `evsed passwd admin` adds one");
    }
  }

  // The HTTPS certificate: the configured files, else a self-signed pair made
  // once in <state dir>/tls/. False when there is none to use (HTTP goes on).
  bool load_tls() {
    std::string cert = setup_.config.tls_cert, key = setup_.config.tls_key;
    if (cert.empty()) {
      const std::string dir = setup_.options.state_dir + "/tls";
      cert = dir + "/cert.pem";
      key = dir + "/key.pem";
      std::error_code ec;
      if (!std::filesystem::exists(cert, ec) || !std::filesystem::exists(key, ec)) {
        std::filesystem::create_directories(dir, ec);
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
        std::vector<std::string> names{"localhost"};
        if (const auto h = host_name(); !h.empty()) names = {h, h + ".local", "localhost"};
        std::vector<std::string> ips{"127.0.0.1", "::1"};
        if (const auto& eth = station_->snapshot()->device.network; eth.eth_has_ip) ips.push_back(eth.eth_ip);
        auto made = http::make_self_signed(names.front(), names, ips);
        if (auto* e = std::get_if<std::string>(&made)) {
          log_.error("HTTPS: no certificate: {}", *e);
          return false;
        }
        const auto& pair = std::get<http::CertificatePair>(made);
        if (auto e = write_file_atomically(key, pair.key_pem, FileSecrecy::Secret)) {
          log_.error("HTTPS: {}", *e);
          return false;
        }
        if (auto e = write_file_atomically(cert, pair.cert_pem)) {
          log_.error("HTTPS: {}", *e);
          return false;
        }
        log_.info("HTTPS: made a self-signed certificate in {} (set [http] tls_cert and tls_key for your own)", dir);
      }
    }
    std::ifstream c(cert), k(key);
    const std::string cert_pem{std::istreambuf_iterator<char>(c), {}};
    const std::string key_pem{std::istreambuf_iterator<char>(k), {}};
    if (cert_pem.empty() || key_pem.empty()) {
      log_.error("HTTPS: cannot read {} and {}; HTTP goes on", cert, key);
      return false;
    }
    if (auto e = server_->set_tls(cert_pem, key_pem)) {
      log_.error("HTTPS: {}: {}; {}", cert, *e, tls_loaded_ ? "the certificate in force stays" : "HTTP goes on");
      return false;
    }
    tls_loaded_ = true;
    tls_fingerprint_ = http::fingerprint_sha256(cert_pem).value_or("?");
    log_.info("HTTPS: certificate {} SHA-256 fingerprint {}", cert, tls_fingerprint_);
    return true;
  }

  void start_session_log() {
    const SessionsConfig& c = setup_.config.sessions;
    if (!c.enabled) {
      log_.info("sessions: the session log is disabled ([sessions] enabled = false)");
      return;
    }
    sessions::SessionLogConfig sc;
    sc.path = c.database.empty() ? setup_.options.state_dir + "/sessions.db" : c.database;
    sc.update_interval = core::Seconds{c.update_interval_s};
    sc.keep_days = c.keep_days;
    sc.keep_count = c.keep_count;
    sessions_.emplace(
        std::move(sc), *station_, [this](std::function<void()> f) { asio::post(io_, std::move(f)); },
        [this] {
          const std::int64_t epoch = clock_.epoch_now();
          const auto local = clock_.local_of(epoch).time_since_epoch().count();
          return sessions::Instant{clock_.steady(), epoch, static_cast<std::int32_t>(local - epoch)};
        },
        setup_.log);
    station_->attach_history(&*sessions_);
    sessions_->start();
  }

  std::string default_listen() const { return setup_.options.simulate ? "127.0.0.1:8080" : "0.0.0.0:80"; }

  static http::RestOptions rest_options(const Config& c) {
    http::RestOptions rest;
    rest.host_names = c.allowed_hosts;
    if (const auto name = host_name(); !name.empty()) {
      rest.host_names.push_back(name);
      rest.host_names.push_back(name + ".local");
    }
    if (c.redirect_to_https && c.tls_listen) {
      const auto colon = c.tls_listen->rfind(':');
      rest.https_port = std::atoi(c.tls_listen->c_str() + colon + 1);
      std::vector<auth::Network> plain;
      std::string error;
      std::vector<std::string> sources = c.trusted_networks;  // a reverse proxy on this host, by default
      sources.insert(sources.end(), c.plain_http_from.begin(), c.plain_http_from.end());
      for (const auto& text : sources) {
        if (auto n = auth::parse_network(text, error)) plain.push_back(std::move(*n));
      }
      rest.plain_http_ok = [plain = std::move(plain)](const std::string& peer) { return auth::any_contains(plain, peer); };
    }
    return rest;
  }

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
                      asio::post(io_, [this, r = std::move(report)] {
                        if (station_) station_->feed_poll_report(r, setup_.config.modbus.port);
                      });
                    },
                    setup_.log);
    poller_->start();
  }

  void housekeeping(core::TimePoint now) {
    if (!network_read_at_ || now - *network_read_at_ > kNetworkRefresh) {
      station_->set_network(read_network());
      network_read_at_ = now;
    }
    station_->set_pilot_lag(pilot_.max_lag().count());
    station_->housekeeping(now);
    if (sessions_) sessions_->tick();
    const auto last = cp_->last_pilot_sample();
    if (watchdog_ && last && now - *last < kPilotFreshFor) sd_notify(0, "WATCHDOG=1");
  }

  void restart() {
    if (restart_pending_) return;
    restart_pending_ = true;
    const bool charging = station_->snapshot()->status.state == core::ChargeState::C;
    log_.info("restart requested{}", charging ? "; waiting until the car stops charging" : "");
    restart_timer_.expires_after(kRestartDelay);
    restart_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) try_restart();
    });
  }

  void try_restart() {
    if (station_->snapshot()->status.state == core::ChargeState::C) {
      restart_timer_.expires_after(core::Seconds{1});
      restart_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) try_restart();
      });
      return;
    }
    stop(kRestartExitCode, "restarting on request");
  }

  void stop(int exit_code, const std::string& why) {
    log_.info("{}, stopping", why);
    sd_notify(0, "STOPPING=1");
    pilot_.stop();
    control_.stop();
    housekeeping_.stop();
    exit_code_ = exit_code;
    // The board first: nothing below may delay the safe state.
    if (cp_->shutdown(Clock::now())) exit_code_ = exit_code == 0 ? 1 : exit_code;
    if (gpio_board_) {
      if (auto e = gpio_board_->release()) log_.error("board: {}", e->message());
    }
    server_->stop();
    if (poller_) poller_->stop();
    restart_timer_.cancel();
    stop_signals_.cancel();
    other_signals_.cancel();
    station_->save_before_exit();
    if (sessions_) sessions_->stop();
    bridge_->stop();
    io_.stop();
  }

  DaemonSetup setup_;
  spdlog::logger& log_;
  // One thread runs the loop (others only post into it): asio may skip some locking.
  asio::io_context io_{1};
  SystemClock clock_;
  FileWriter writer_;
  sim::World world_;
  std::unique_ptr<hw::GpioBoard> gpio_board_;
  std::optional<hw::Board> board_;
  std::optional<ChargePoint> cp_;
  std::optional<LiveStation> station_;
  std::optional<sessions::SessionLog> sessions_;
  std::optional<auth::Gate> gate_;
  bool tls_loaded_ = false;
  std::string tls_fingerprint_;
  std::int64_t started_epoch_ = 0;
  std::string diagnostics_config_;  // the configuration files for the diagnostics download, redacted
  std::string diagnostics_system_;
  std::optional<std::filesystem::file_time_type> users_mtime_;  // of users.json when last read or written
  std::optional<http::RestApi> api_;
  std::optional<http::HttpServer> server_;
  std::optional<mqtt::Bridge> bridge_;
  std::optional<meters::ModbusPoller> poller_;
  Periodic pilot_;
  Periodic control_;
  Periodic housekeeping_;
  asio::signal_set stop_signals_;
  asio::signal_set other_signals_;
  asio::steady_timer restart_timer_;
  std::optional<core::TimePoint> network_read_at_;
  bool watchdog_ = false;
  std::uint64_t watchdog_usec_ = 0;
  bool restart_pending_ = false;
  int exit_code_ = 0;
};

}  // namespace

int run_daemon(DaemonSetup setup) {
  // A client that goes away mid-write must not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (auto e = prepare_state_dir(setup.options.state_dir)) {
    setup.log->error("{}", *e);
    return 1;
  }
  Daemon daemon(std::move(setup));
  return daemon.run();
}

}  // namespace evsed::app
