#include "evsed/app/live_station.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "evsed/app/settings_store.hpp"
#include "evsed/core/outside_text.hpp"

namespace evsed::app {

namespace {

using station::Change;
using station::ChangeKind;
using station::FeedRefusal;
using station::FeedResult;

constexpr std::size_t kMaxMqttFile = 64 * 1024;
// Plausible power and energy of an API meter (SmartEVSE takes what it is sent).
constexpr std::int64_t kMaxApiPowerW = 1'000'000;
constexpr std::int64_t kMaxApiEnergyWh = 1'000'000'000'000LL;

std::string_view meter_word(core::MeterRole r) {
  switch (r) {
    case core::MeterRole::Mains: return "mains";
    case core::MeterRole::Ev: return "EV";
    case core::MeterRole::Circuit: return "circuit";
  }
  return "mains";
}

int mains_power_w(const core::MeterReading& r) {
  if (r.power) return r.power->value;
  int w = 0;
  for (auto i : r.currents) w += i.value() * core::kNominalVolts / 10;
  return w;
}

// Whether a meter's last reading is too old to be used (or never came).
bool stale(const core::MeterStatus& m, core::Seconds timeout) {
  return m.configured && (!m.age_s || *m.age_s >= timeout.count());
}

}  // namespace

LiveStation::LiveStation(StationConfig config, ChargePoint& cp, StateFiles& writer, const LocalClock& clock,
                         std::shared_ptr<spdlog::logger> log, core::TimePoint now,
                         std::optional<core::Settings> last_saved)
    : config_(std::move(config)),
      cp_(cp),
      writer_(writer),
      clock_(clock),
      log_(std::move(log)),
      started_(now),
      settings_path_(config_.state_dir + "/settings.json"),
      mqtt_path_(config_.state_dir + "/mqtt.json"),
      last_saved_(std::move(last_saved)),
      mqtt_(config_.mqtt) {
  device_.version = config_.version;
  device_.serial = config_.serial;
  device_.meters = config_.meters;
  device_.simulated = config_.simulated;
  device_.cable_lock_fitted = config_.cable_lock_fitted;

  // MQTT settings set at run time win over the configuration's.
  std::string error;
  if (auto text = read_regular_file(mqtt_path_, kMaxMqttFile, error)) {
    std::string problem;
    if (auto s = station::mqtt_settings_from_json(*text, problem)) {
      mqtt_ = *s;
      mqtt_set_at_run_time_ = true;
    } else {
      log_->error("{}", set_aside(mqtt_path_, problem));
    }
  } else if (!error.empty()) {
    log_->error("{}", set_aside(mqtt_path_, error));
  }
  // Paho reads a CA from a file: the one set at run time lives in the state dir.
  if (!mqtt_.ca_cert.empty()) {
    if (auto e = write_file_atomically(mqtt_ca_path(), mqtt_.ca_cert, FileSecrecy::Secret)) {
      log_->error("MQTT CA certificate: {}", *e);
    }
  }
  update_mqtt_view();

  cp_.on_settings_changed([this] { persist_if_needed(false); });
  cp_.on_mains_reading([this](const core::MeterReading& r) { power_.record(clock_.now(), mains_power_w(r)); });
  cp_.on_custom_button([this](core::CustomButtonAction a) { apply_custom_button(a); });
  refresh(now);
  // A first start, or a file that needed fixing: what runs is written before
  // evsed says it is ready (the loop does not run yet).
  if (!last_saved_) {
    if (auto e = write_file_atomically(settings_path_, SettingsStore::to_json(cp_.settings()))) {
      log_->error("saving settings: {}", *e);
      persist_error_ = e;
    } else {
      last_saved_ = cp_.settings();
    }
  }
  feed_.deliver();
}

LiveStation::~LiveStation() {
  *alive_ = false;
  cp_.on_settings_changed({});
  cp_.on_mains_reading({});
  cp_.on_custom_button({});
}

core::TimePoint LiveStation::now() const { return clock_.steady(); }

station::Subscription LiveStation::subscribe(station::ChangeHandler handler) {
  return feed_.subscribe(std::move(handler));
}

void LiveStation::finish() { feed_.deliver(); }

// ---------------------------------------------------------------------------
// Snapshot and change feed

void LiveStation::refresh(core::TimePoint now) {
  core::Status status = cp_.status(now);
  if (snapshot_ && !device_dirty_ && status == snapshot_->status) return;
  auto next = std::make_shared<station::Snapshot>();
  next->version = snapshot_ ? snapshot_->version + 1 : 1;
  next->status = std::move(status);
  next->device = device_;
  core::LedColour colour = next->status.led.colour;
  const bool mode_colour =
      colour == core::LedColour::Normal || colour == core::LedColour::Smart || colour == core::LedColour::Solar;
  if (device_.panel.custom_button && mode_colour) colour = core::LedColour::Custom;
  next->led_rgb = station::led_rgb(device_.panel.colors, colour);
  const auto& delayed = next->status.settings.delayed;
  if (delayed.start) next->starttime_epoch = clock_.epoch_of(*delayed.start);
  if (delayed.stop) next->stoptime_epoch = clock_.epoch_of(*delayed.stop);
  next->now_epoch = clock_.epoch_now();
  next->uptime_s = std::chrono::duration_cast<core::Seconds>(now - started_).count();
  const auto before = std::move(snapshot_);
  snapshot_ = std::move(next);
  device_dirty_ = false;
  if (before) raise_differences(*before, *snapshot_);
  feed_.raise({ChangeKind::Status, snapshot_->version, std::nullopt, std::nullopt, nullptr});
}

void LiveStation::raise_differences(const station::Snapshot& before, const station::Snapshot& after) {
  const auto v = after.version;
  const auto& a = before.status;
  const auto& b = after.status;
  if (!a.car_connected && b.car_connected) feed_.raise({ChangeKind::SessionStarted, v, std::nullopt, std::nullopt, nullptr});
  if (a.car_connected && !b.car_connected) feed_.raise({ChangeKind::SessionEnded, v, std::nullopt, std::nullopt, nullptr});
  for (auto f : core::kAllErrorFlags) {
    if (!a.errors.has(f) && b.errors.has(f)) feed_.raise({ChangeKind::ErrorRaised, v, f, std::nullopt, nullptr});
    if (a.errors.has(f) && !b.errors.has(f)) feed_.raise({ChangeKind::ErrorCleared, v, f, std::nullopt, nullptr});
  }
  const std::tuple<core::MeterRole, const core::MeterStatus&, const core::MeterStatus&, core::Seconds> meters[] = {
      {core::MeterRole::Mains, a.mains, b.mains, b.settings.mains_meter_timeout},
      {core::MeterRole::Ev, a.ev, b.ev, b.settings.ev_meter_timeout},
      {core::MeterRole::Circuit, a.circuit, b.circuit, b.settings.circuit_meter_timeout}};
  for (const auto& [role, old_m, new_m, timeout] : meters) {
    const bool was = stale(old_m, timeout);
    const bool is = stale(new_m, timeout);
    if (!was && is) feed_.raise({ChangeKind::MeterStale, v, std::nullopt, role, nullptr});
    if (was && !is) feed_.raise({ChangeKind::MeterFresh, v, std::nullopt, role, nullptr});
  }
}

// ---------------------------------------------------------------------------
// The shell's ticks

void LiveStation::pilot_period(core::TimePoint now) {
  cp_.pilot_period(now);
  const core::LedIndication led = cp_.led(now);
  if (!(led == led_shown_)) {
    led_shown_ = led;
    led_since_ = now;
  }
  refresh(now);
  const station::Rgb rgb = snapshot_->led_rgb;
  const bool dark = rgb == station::Rgb{0, 0, 0};
  cp_.drive_led(!dark && core::pattern_lit(led.pattern, std::chrono::duration_cast<core::Milliseconds>(now - led_since_)));
  finish();
}

void LiveStation::housekeeping(core::TimePoint now) {
  cp_.housekeeping(now, clock_.now());
  refresh(now);
  persist_if_needed(true);
  finish();
}

void LiveStation::control_cycle(core::TimePoint now) {
  cp_.control_cycle(now);
  refresh(now);
  finish();
}

void LiveStation::feed_poll_report(const meters::PollReport& r, const std::string& port) {
  const auto t = now();
  for (const auto& reading : r.readings) cp_.feed(reading, t);
  station::ModbusBusView bus{port, r.port_open, r.cycle_time.count()};
  if (device_.modbus != bus) {
    device_.modbus = bus;
    device_dirty_ = true;
  }
  for (std::size_t i = 0; i < r.stats.size(); ++i) {
    if (!r.stats[i]) continue;
    station::MeterPollView v;
    v.polls = r.stats[i]->polls;
    v.good = r.stats[i]->good;
    for (std::size_t k = 0; k < meters::kPollErrorKinds; ++k) {
      v.errors.emplace_back(meters::to_string(static_cast<meters::PollError>(k)), r.stats[i]->errors[k]);
    }
    v.last_error = r.stats[i]->last_error;
    if (device_.meters[i].poll != v) {
      device_.meters[i].poll = std::move(v);
      device_dirty_ = true;
    }
  }
  refresh(t);
  finish();
}

void LiveStation::set_network(const station::NetworkView& network) {
  if (device_.network == network) return;
  device_.network = network;
  device_dirty_ = true;
}

void LiveStation::set_pilot_lag(std::int64_t ms) {
  if (device_.pilot_loop_lag_ms == ms) return;
  device_.pilot_loop_lag_ms = ms;
  device_dirty_ = true;
}

void LiveStation::apply_custom_button(core::CustomButtonAction a) {
  auto& panel = device_.panel;
  panel.custom_button = a == core::CustomButtonAction::Toggle ? !panel.custom_button : a == core::CustomButtonAction::On;
  device_dirty_ = true;
}

// ---------------------------------------------------------------------------
// Settings: tried on a copy of the controller, saved, then applied

void LiveStation::change_settings(station::SettingsChange change, std::function<void(station::SettingsOutcome)> done) {
  PendingChange p{std::move(change), std::move(done), std::nullopt};
  prepare(p);
  pending_.push_back(std::move(p));
  run_pending_changes();
  finish();
}

// What only the Station can judge: local times that a daylight-saving change
// skips, and a stop that is not after the start in real time.
void LiveStation::prepare(PendingChange& p) {
  auto& patch = p.change.patch;
  patch.local_now = clock_.now();
  if (!patch.has(core::Field::Mode) || !patch.delayed.start_given) return;
  const auto& d = patch.delayed;
  auto refuse = [&](bool stop, std::string why) {
    p.refusal = station::DelayedRefusal{stop, std::move(why)};
    patch.values[static_cast<std::size_t>(core::Field::Mode)].reset();
  };
  if (!d.start) return refuse(false, "starttime is not a date and time (YYYY-MM-DDTHH:MM)");
  if (!clock_.exists(*d.start)) {
    return refuse(false, "starttime " + format_local(*d.start, false) + " does not exist here: daylight saving time skips it");
  }
  if (!d.stop_given) return;
  if (!d.stop) return refuse(true, "stoptime is not a date and time (YYYY-MM-DDTHH:MM)");
  if (!clock_.exists(*d.stop)) {
    return refuse(true, "stoptime " + format_local(*d.stop, false) + " does not exist here: daylight saving time skips it");
  }
  if (clock_.epoch_of(*d.stop) <= clock_.epoch_of(*d.start)) {
    return refuse(true, "stoptime " + format_local(*d.stop, false) + " is not after starttime " + format_local(*d.start, false));
  }
}

void LiveStation::run_pending_changes() {
  while (!batch_in_flight_ && !persist_in_flight_ && !pending_.empty()) {
    std::vector<PendingChange> batch;
    while (!pending_.empty()) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    // The whole batch on a copy: what would be on disk afterwards.
    const core::TimePoint t = now();
    core::Controller trial = cp_.controller();
    for (const auto& p : batch) (void)trial.apply(p.change.patch, t);
    const core::Settings& wanted = trial.settings();
    if (erased_ || (last_saved_ && wanted == *last_saved_)) {
      apply_batch(batch);  // nothing new to save
      continue;
    }
    batch_in_flight_ = true;
    auto shared = std::make_shared<std::vector<PendingChange>>(std::move(batch));
    writer_.submit({{FileOp::Kind::Write, settings_path_, SettingsStore::to_json(wanted), FileSecrecy::Plain}},
                   [this, alive = alive_, shared, wanted](std::optional<std::string> error) {
                     if (!*alive) return;
                     batch_in_flight_ = false;
                     if (error) {
                       log_->error("settings not saved: {}", *error);
                       for (auto& p : *shared) {
                         station::SettingsOutcome o;
                         o.failure = "settings not saved: " + *error;
                         o.after = snapshot_;
                         if (p.done) p.done(std::move(o));
                       }
                     } else {
                       last_saved_ = wanted;
                       persist_error_.reset();
                       apply_batch(*shared);
                     }
                     run_pending_changes();
                     persist_if_needed(false);
                     finish();
                   });
  }
}

void LiveStation::apply_batch(std::vector<PendingChange>& batch) {
  const core::TimePoint t = now();
  bool persisted_change = false;
  // The batch is on disk as a whole: its single steps are not saved on their own.
  applying_ = true;
  for (auto& p : batch) {
    station::SettingsOutcome o;
    if (!p.change.patch.empty()) {
      o.fields = cp_.apply(p.change.patch, t).fields;
      for (const auto& f : o.fields) persisted_change |= f.applied() && core::spec(f.field).persisted;
    }
    if (p.refusal) {
      o.fields.push_back({core::Field::Mode, core::FieldResult::Outcome::Rejected, 0, p.refusal->reason});
      std::stable_sort(o.fields.begin(), o.fields.end(), [](const auto& a, const auto& b) { return a.field < b.field; });
      o.delayed = p.refusal;
    }
    if (!p.change.panel.empty()) {
      o.panel = station::apply_panel_patch(device_.panel, p.change.panel);
      device_dirty_ = true;
    }
    refresh(t);
    o.after = snapshot_;
    if (p.done) p.done(std::move(o));
  }
  applying_ = false;
  if (persisted_change && snapshot_) feed_.raise({ChangeKind::Settings, snapshot_->version, std::nullopt, std::nullopt, nullptr});
  persist_if_needed(false);  // what changed meanwhile (the schedule, the switch)
}

// A change the controller made itself (the schedule, the switch) or a retry
// after a failed write: saved in the background, one write at a time.
void LiveStation::persist_if_needed(bool retry_failed) {
  if (erased_ || applying_ || batch_in_flight_ || persist_in_flight_) return;
  if (persist_error_ && !retry_failed) return;  // retried once a second, not in a loop
  const core::Settings current = cp_.settings();
  if (last_saved_ && current == *last_saved_) return;
  persist_in_flight_ = true;
  writer_.submit({{FileOp::Kind::Write, settings_path_, SettingsStore::to_json(current), FileSecrecy::Plain}},
                 [this, alive = alive_, current](std::optional<std::string> error) {
                   if (!*alive) return;
                   persist_in_flight_ = false;
                   if (error) {
                     if (persist_error_ != error) log_->error("saving settings: {}", *error);
                     persist_error_ = error;
                   } else {
                     if (persist_error_) log_->info("settings saved again");
                     persist_error_.reset();
                     last_saved_ = current;
                     if (snapshot_) feed_.raise({ChangeKind::Settings, snapshot_->version, std::nullopt, std::nullopt, nullptr});
                   }
                   run_pending_changes();
                   if (!error) persist_if_needed(false);
                   finish();
                 });
}

std::vector<std::string> LiveStation::reconfigure(StationConfig config, const core::Settings& installer,
                                                 bool sim_mains_meter) {
  const core::TimePoint t = now();
  for (std::size_t i = 0; i < config.meters.size(); ++i) {
    // Poll statistics belong to a meter: kept while it stays the same meter.
    if (config.meters[i].type == device_.meters[i].type && config.meters[i].address == device_.meters[i].address) {
      config.meters[i].poll = device_.meters[i].poll;
    }
  }
  device_.meters = config.meters;
  device_.cable_lock_fitted = config.cable_lock_fitted;
  const bool mqtt_changed = !mqtt_set_at_run_time_ &&
                            (!(config.mqtt == config_.mqtt) || config.mqtt_ca_file != config_.mqtt_ca_file ||
                             config.mqtt_client_cert != config_.mqtt_client_cert ||
                             config.mqtt_client_key != config_.mqtt_client_key ||
                             config.mqtt_discovery != config_.mqtt_discovery);
  const bool discovery_changed = config.mqtt_discovery != config_.mqtt_discovery;
  config_ = std::move(config);
  if (mqtt_changed) mqtt_ = config_.mqtt;
  if (mqtt_set_at_run_time_ && !(config_.mqtt == mqtt_)) {
    log_->info("[mqtt] of the configuration is not used: the broker set at run time ({}) wins", mqtt_path_);
  }
  update_mqtt_view();
  device_dirty_ = true;
  auto fell_back = cp_.reconfigure(installer, sim_mains_meter, t);
  refresh(t);
  if (mqtt_changed || discovery_changed) {
    feed_.raise({ChangeKind::MqttSettings, snapshot_->version, std::nullopt, std::nullopt, nullptr});
  }
  persist_if_needed(false);
  finish();
  return fell_back;
}

void LiveStation::save_before_exit() {
  writer_.drain();
  if (erased_) return;
  const core::Settings current = cp_.settings();
  if (last_saved_ && current == *last_saved_) return;
  if (auto e = write_file_atomically(settings_path_, SettingsStore::to_json(current))) {
    log_->error("saving settings: {}", *e);
  } else {
    last_saved_ = current;
  }
}

// ---------------------------------------------------------------------------
// Meter feeds

FeedResult LiveStation::feed_meter(const station::MeterFeed& f) {
  const auto& info = device_.meters[static_cast<std::size_t>(f.role)];
  if (!info.api) {
    return {FeedRefusal::NotApi,
            "the " + std::string{meter_word(f.role)} + " meter is not API (it is " + info.type + ")"};
  }
  const auto limit = core::kMaxMeterCurrent.value();
  if (f.currents) {
    for (auto c : *f.currents) {
      if (c < -limit || c > limit) {
        return {FeedRefusal::CurrentOutOfRange,
                "each current must be within -" + std::to_string(limit) + ".." + std::to_string(limit) + " dA"};
      }
    }
  }
  if ((f.power_w && (*f.power_w < -kMaxApiPowerW || *f.power_w > kMaxApiPowerW)) ||
      (f.import_wh && (*f.import_wh < 0 || *f.import_wh > kMaxApiEnergyWh)) ||
      (f.export_wh && (*f.export_wh < 0 || *f.export_wh > kMaxApiEnergyWh))) {
    return {FeedRefusal::EnergyOutOfRange, "power must be within -1000000..1000000 W and energy 0..10^12 Wh"};
  }
  const core::TimePoint t = now();
  // What is not given keeps the last value (an EV meter's energy between updates).
  core::MeterReading r;
  if (f.role == core::MeterRole::Ev) r = snapshot_->status.ev.last.value_or(core::MeterReading{});
  r.role = f.role;
  if (f.currents) {
    for (std::size_t i = 0; i < 3; ++i) r.currents[i] = core::DeciAmps{static_cast<std::int32_t>((*f.currents)[i])};
  }
  if (f.power_w) r.power = core::Watts{static_cast<std::int32_t>(*f.power_w)};
  if (f.import_wh) r.import_energy = core::WattHours{*f.import_wh};
  if (f.export_wh) r.export_energy = core::WattHours{*f.export_wh};
  r.taken_at = t;
  cp_.feed(r, t);
  refresh(t);
  finish();
  return {};
}

FeedResult LiveStation::feed_home_battery(std::int64_t deci_amps) {
  const auto limit = core::kMaxMeterCurrent.value();
  if (deci_amps < -limit || deci_amps > limit) {
    return {FeedRefusal::CurrentOutOfRange,
            "the current must be within -" + std::to_string(limit) + ".." + std::to_string(limit) + " dA"};
  }
  const core::TimePoint t = now();
  cp_.feed(core::HomeBatteryReading{core::DeciAmps{static_cast<std::int32_t>(deci_amps)}, t}, t);
  refresh(t);
  finish();
  return {};
}

// ---------------------------------------------------------------------------
// MQTT broker settings

std::string LiveStation::mqtt_ca_path() const { return config_.state_dir + "/mqtt_ca.pem"; }

station::MqttConnection LiveStation::mqtt_connection() const {
  station::MqttConnection c;
  c.settings = mqtt_;
  c.ca_file = mqtt_.ca_cert.empty() ? config_.mqtt_ca_file : mqtt_ca_path();
  c.client_cert = config_.mqtt_client_cert;
  c.client_key = config_.mqtt_client_key;
  c.discovery = config_.mqtt_discovery;
  c.serial = config_.serial;
  return c;
}

void LiveStation::update_mqtt_view() {
  station::MqttView v;
  v.host = mqtt_.host;
  v.port = mqtt_.port;
  v.topic_prefix = station::effective_prefix(mqtt_, config_.serial);
  v.username = mqtt_.username;
  v.password_set = !mqtt_.password.empty();
  v.tls = mqtt_.tls;
  v.ca_cert_set = !mqtt_.ca_cert.empty();
  v.connected = device_.mqtt.connected;
  if (!(device_.mqtt == v)) {
    device_.mqtt = v;
    device_dirty_ = true;
  }
}

void LiveStation::report_session(std::shared_ptr<const station::SessionRecord> closed) {
  if (!closed || !snapshot_) return;
  feed_.raise({ChangeKind::SessionRecorded, snapshot_->version, std::nullopt, std::nullopt, std::move(closed)});
  finish();
}

void LiveStation::report_mqtt_connected(bool connected) {
  if (device_.mqtt.connected == connected) return;
  device_.mqtt.connected = connected;
  device_dirty_ = true;
  refresh(now());
  finish();
}

std::vector<FileOp> LiveStation::mqtt_files(const station::MqttSettings& s) const {
  std::vector<FileOp> ops;
  if (s.ca_cert.empty()) {
    ops.push_back({FileOp::Kind::Remove, mqtt_ca_path(), {}, FileSecrecy::Secret});
  } else {
    ops.push_back({FileOp::Kind::Write, mqtt_ca_path(), s.ca_cert, FileSecrecy::Secret});
  }
  ops.push_back({FileOp::Kind::Write, mqtt_path_, station::to_json(s), FileSecrecy::Secret});
  return ops;
}

void LiveStation::change_mqtt(station::MqttChange change, std::function<void(station::MqttOutcome)> done) {
  mqtt_pending_.push_back({std::move(change), std::move(done)});
  run_pending_mqtt();
  finish();
}

void LiveStation::run_pending_mqtt() {
  while (!mqtt_in_flight_ && !mqtt_pending_.empty()) {
    auto p = std::make_shared<PendingMqtt>(std::move(mqtt_pending_.front()));
    mqtt_pending_.pop_front();
    auto planned = station::plan_mqtt_change(mqtt_, p->change, config_.serial);
    if (auto* e = std::get_if<station::MqttFieldError>(&planned)) {
      station::MqttOutcome o;
      o.refused = e->reason;
      o.refused_field = e->field;
      if (p->done) p->done(std::move(o));
      continue;
    }
    const auto plan = std::get<station::MqttChangePlan>(planned);
    if (erased_) {
      station::MqttOutcome o;
      o.failure = "the settings are being erased";
      if (p->done) p->done(std::move(o));
      continue;
    }
    mqtt_in_flight_ = true;
    writer_.submit(mqtt_files(plan.settings), [this, alive = alive_, p, plan](std::optional<std::string> error) {
      if (!*alive) return;
      mqtt_in_flight_ = false;
      mqtt_saved(*p, plan, error);
      run_pending_mqtt();
      finish();
    });
  }
}

void LiveStation::mqtt_saved(PendingMqtt& p, const station::MqttChangePlan& plan,
                             const std::optional<std::string>& error) {
  station::MqttOutcome o;
  if (error) {
    log_->error("MQTT settings not saved: {}", *error);
    o.failure = "not saved: " + *error;
    if (p.done) p.done(std::move(o));
    return;
  }
  const bool broker_moved = plan.settings.host != mqtt_.host || plan.settings.port != mqtt_.port;
  mqtt_ = plan.settings;
  mqtt_set_at_run_time_ = true;
  if (broker_moved) device_.mqtt.connected = false;
  update_mqtt_view();
  log_->info("MQTT settings changed: broker {}:{}{}", mqtt_.host.empty() ? "(none)" : core::shown(mqtt_.host),
             mqtt_.port, plan.credentials_cleared ? "; the old broker's credentials were cleared" : "");
  if (plan.tls_turned_off) log_->warn("MQTT TLS turned off by request for broker {}", core::shown(mqtt_.host));
  const core::TimePoint t = now();
  refresh(t);
  feed_.raise({ChangeKind::MqttSettings, snapshot_->version, std::nullopt, std::nullopt, nullptr});
  o.credentials_cleared = plan.credentials_cleared;
  o.applied = mqtt_;
  if (p.done) p.done(std::move(o));
}

// ---------------------------------------------------------------------------

std::vector<station::PowerSlot> LiveStation::power_day() const { return power_.last_day(clock_.now()); }

bool LiveStation::restart() {
  const bool charging = snapshot_->status.state == core::ChargeState::C;
  if (restart_) restart_();
  return charging;
}

void LiveStation::erase_settings(std::function<void(std::optional<std::string>)> done) {
  erased_ = true;  // nothing is written back from now on
  writer_.submit({{FileOp::Kind::Remove, settings_path_, {}, FileSecrecy::Plain},
                  {FileOp::Kind::Remove, mqtt_path_, {}, FileSecrecy::Secret},
                  {FileOp::Kind::Remove, mqtt_ca_path(), {}, FileSecrecy::Secret}},
                 [this, alive = alive_, done = std::move(done)](std::optional<std::string> error) {
                   if (!*alive) return;
                   if (error) {
                     erased_ = false;
                     log_->error("erasing settings: {}", *error);
                   } else {
                     log_->info("run-time settings erased");
                     if (restart_) restart_();
                   }
                   if (done) done(error);
                   finish();
                 });
}

}  // namespace evsed::app
