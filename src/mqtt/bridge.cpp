#include "evsed/mqtt/bridge.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mqtt/async_client.h>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "evsed/core/outside_text.hpp"
#include "evsed/mqtt/topics.hpp"
#include "evsed/worker/job_thread.hpp"

namespace evsed::mqtt {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds kKeepAlive{15};
constexpr std::chrono::seconds kFullPublishEvery{10};  // SmartEVSE republishes every 10 s (interfaces.md §3.2)
constexpr std::chrono::seconds kMaxBackoff{60};
constexpr std::chrono::seconds kCommandErrorLogEvery{10};
constexpr std::chrono::milliseconds kGoodbyeTimeout{300};
// Commands wait in a bounded queue and are taken a few per loop turn, so a
// flood of /Set messages cannot hold up the 10 ms pilot tick.
constexpr std::size_t kMaxQueuedCommands = 2000;
constexpr std::size_t kCommandsPerTurn = 16;

// Turns Paho's action results into calls on the loop.
class Listener final : public ::mqtt::iaction_listener {
 public:
  std::function<void()> success;
  std::function<void(std::string)> failure;
  void on_success(const ::mqtt::token&) override { success(); }
  void on_failure(const ::mqtt::token& t) override {
    failure("connect failed (code " + std::to_string(t.get_return_code()) + ")");
  }
};

}  // namespace

struct Bridge::Impl : std::enable_shared_from_this<Bridge::Impl> {
  asio::io_context& io;
  station::Station& station;
  std::shared_ptr<spdlog::logger> log;

  station::MqttConnection options;
  bool configured = false;
  std::string prefix;
  std::uint64_t generation = 0;  // callbacks of an older client are ignored
  std::unique_ptr<::mqtt::async_client> client;
  std::unique_ptr<Listener> listener;
  bool is_connected = false;
  asio::steady_timer retry;
  asio::steady_timer refresh;
  asio::steady_timer soon;  // everything again shortly after a command
  bool full_soon = false;
  std::chrono::seconds backoff{1};
  std::mt19937 rng{std::random_device{}()};
  // Retired clients say goodbye and are destroyed here, one after the other, on
  // one long-lived thread: a broker change costs no thread of its own.
  worker::JobThread retirer;
  station::Subscription subscription;

  std::map<std::string, Publication> published;  // last payload per suffix
  std::optional<DiscoveryContext> announced;
  Clock::time_point last_error_log{};
  unsigned suppressed_errors = 0;
  std::string last_failure;

  Impl(asio::io_context& i, station::Station& s, std::shared_ptr<spdlog::logger> l)
      : io(i), station(s), log(std::move(l)), retry(i), refresh(i), soon(i) {}

  void start() {
    auto self = shared_from_this();
    subscription = station.subscribe([w = std::weak_ptr<Impl>(self)](const station::Change& c) {
      auto self = w.lock();
      if (!self) return;
      if (c.kind == station::ChangeKind::MqttSettings) self->configure(self->station.mqtt_connection());
      if (c.kind == station::ChangeKind::Status) {
        self->announce();  // cheap unless what discovery says changed
        self->publish_state(false);
      }
      if (c.kind == station::ChangeKind::SessionRecorded) {
        self->announce();  // the first one brings "Last Session Energy"
        self->publish_last_session();
      }
    });
    configure(station.mqtt_connection());
    schedule_refresh();
  }

  // --- connection ---------------------------------------------------------

  void configure(const station::MqttConnection& o) {
    if (configured && o.settings == options.settings && o.ca_file == options.ca_file &&
        o.client_cert == options.client_cert && o.client_key == options.client_key &&
        o.discovery == options.discovery) {
      return;
    }
    retire();
    options = o;
    configured = true;
    prefix = station::effective_prefix(options.settings, options.serial);
    backoff = std::chrono::seconds{1};
    if (options.settings.host.empty()) return;
    try {
      const std::string uri = (options.settings.tls ? "ssl://" : "tcp://") + options.settings.host + ":" +
                              std::to_string(options.settings.port);
      client = std::make_unique<::mqtt::async_client>(uri, prefix);
    } catch (const std::exception& e) {
      log->error("mqtt: {}:{}: {}", core::shown(options.settings.host), options.settings.port, core::shown(e.what()));
      client.reset();
      return;
    }
    const auto gen = generation;
    auto self = shared_from_this();
    client->set_connection_lost_handler([self, gen](const std::string& cause) {
      asio::post(self->io, [self, gen, cause] { self->on_lost(gen, cause); });
    });
    client->set_message_callback([self, gen](::mqtt::const_message_ptr msg) {
      self->enqueue(gen, msg->get_topic(), msg->to_string());
    });
    listener = std::make_unique<Listener>();
    listener->success = [self, gen] { asio::post(self->io, [self, gen] { self->on_connected(gen); }); };
    listener->failure = [self, gen](std::string why) {
      asio::post(self->io, [self, gen, why] { self->on_failed(gen, why); });
    };
    connect();
  }

  void connect() {
    if (!client) return;
    ::mqtt::connect_options opts;
    opts.set_keep_alive_interval(kKeepAlive);
    opts.set_clean_session(true);
    opts.set_connect_timeout(std::chrono::seconds{10});
    opts.set_automatic_reconnect(false);  // our own backoff, on the loop
    opts.set_will(::mqtt::will_options(prefix + "/connected", std::string{"offline"}, 0, true));
    if (!options.settings.username.empty()) opts.set_user_name(options.settings.username);
    if (!options.settings.password.empty()) opts.set_password(options.settings.password);
    if (options.settings.tls) {
      ::mqtt::ssl_options ssl;
      if (!options.ca_file.empty()) ssl.set_trust_store(options.ca_file);
      ssl.set_enable_server_cert_auth(true);  // the broker's chain, and
      ssl.set_verify(true);                   // its name: a certificate for another host is refused
      if (!options.client_cert.empty()) {
        ssl.set_key_store(options.client_cert);
        ssl.set_private_key(options.client_key);
      }
      opts.set_ssl(ssl);
    }
    try {
      client->connect(opts, nullptr, *listener);
    } catch (const std::exception& e) {
      on_failed(generation, e.what());
    }
  }

  void set_connected(bool c) {
    is_connected = c;
    station.report_mqtt_connected(c);
  }

  void on_connected(std::uint64_t gen) {
    if (gen != generation || !client) return;
    backoff = std::chrono::seconds{1};
    last_failure.clear();
    log->info("mqtt: connected to {}:{} as {}", core::shown(options.settings.host), options.settings.port,
              core::shown(prefix));
    is_connected = true;
    try {
      client->subscribe(prefix + "/Set/#", 1);
      client->publish(prefix + "/connected", std::string{"online"}, 0, true);
    } catch (const std::exception& e) {
      log->warn("mqtt: {}", core::shown(e.what()));
    }
    announced.reset();
    announce();
    publish_last_session();
    publish_state(true);
    set_connected(true);
  }

  void on_failed(std::uint64_t gen, const std::string& why) {
    if (gen != generation) return;
    set_connected(false);
    if (why != last_failure) {
      // Paho says only -1 when a handshake fails (its TLS error callback would outlive the options it points into).
      const bool handshake = options.settings.tls && why.ends_with("(code -1)");
      log->warn("mqtt: {}:{}: {}{}; retrying", core::shown(options.settings.host), options.settings.port,
                core::shown(why),
                handshake ? " (TLS: is the broker's certificate from ca_file and for this host name? does it want "
                            "client_cert?)"
                          : "");
    }
    last_failure = why;
    schedule_reconnect();
  }

  void on_lost(std::uint64_t gen, const std::string& cause) {
    if (gen != generation) return;
    set_connected(false);
    log->warn("mqtt: connection lost{}", cause.empty() ? "" : ": " + core::shown(cause));
    schedule_reconnect();
  }

  void schedule_reconnect() {
    // Exponential backoff with +-20 % jitter, so many chargers do not return at once.
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const auto delay = std::chrono::milliseconds(static_cast<long>(backoff.count() * 1000 * jitter(rng)));
    backoff = std::min(backoff * 2, kMaxBackoff);
    const auto gen = generation;
    retry.expires_after(delay);
    retry.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
      if (!ec && gen == self->generation) self->connect();
    });
  }

  // A client we are done with says `offline` and disconnects on the retirer's thread.
  void retire() {
    ++generation;
    retry.cancel();
    if (is_connected) set_connected(false);
    published.clear();
    announced.reset();
    if (!client) return;
    retirer.submit([c = std::shared_ptr<::mqtt::async_client>(std::move(client)),
                 l = std::shared_ptr<Listener>(std::move(listener)), topic = prefix + "/connected"]() mutable {
      try {
        if (c->is_connected()) {
          c->publish(topic, std::string{"offline"}, 1, true)->wait_for(kGoodbyeTimeout);
          c->disconnect(static_cast<int>(kGoodbyeTimeout.count()))->wait_for(kGoodbyeTimeout * 2);
        }
      } catch (const std::exception&) {
        // Going away anyway; the broker's LWT covers what we could not say.
      }
      // The client first: destroying it fails a pending connect, which calls the listener.
      c.reset();
      l.reset();
    });
  }

  void stop() {
    subscription.reset();
    refresh.cancel();
    soon.cancel();
    retire();
    retirer.drain();
  }

  // --- publishing ---------------------------------------------------------

  void send(const std::string& topic, const std::string& payload, bool retain) {
    try {
      client->publish(topic, payload, 0, retain);
    } catch (const std::exception& e) {
      log->debug("mqtt: publish {}: {}", core::shown(topic), core::shown(e.what()));
    }
  }

  void announce() {
    if (!is_connected) return;
    const auto snap = station.snapshot();
    DiscoveryContext ctx = discovery_context(*snap, prefix);
    ctx.last_session = station.history().last_closed().has_value();
    if (announced && *announced == ctx) return;  // republished only when what it says changed
    std::vector<DiscoveryMessage> now = options.discovery ? discovery_messages(ctx) : std::vector<DiscoveryMessage>{};
    std::set<std::string> current;
    for (const auto& m : now) {
      current.insert(m.topic);
      send(m.topic, m.payload, true);
    }
    // Entities that no longer apply (or discovery turned off): an empty retained
    // payload makes Home Assistant drop them.
    for (const auto& topic : all_discovery_topics(prefix)) {
      if (!current.count(topic)) send(topic, "", true);
    }
    announced = ctx;
  }

  void publish_state(bool full) {
    if (!is_connected) return;
    auto publications = state_publications(*station.snapshot());
    publications.push_back(session_energy_publication(station.history().current()));
    for (auto& p : publications) {
      auto it = published.find(p.suffix);
      if (!full && it != published.end() && it->second == p) continue;
      // Clocks move every second: they go out with the full refresh only.
      if (!full && it != published.end() && p.suffix == "ESPUptime") continue;
      send(prefix + "/" + p.suffix, p.payload, p.retain);
      published[p.suffix] = std::move(p);
    }
  }

  // The last closed session, retained: a client that connects later still sees it.
  void publish_last_session() {
    if (!is_connected) return;
    if (const auto last = station.history().last_closed()) send(prefix + "/LastSession", station::to_json(*last), true);
  }

  void schedule_refresh() {
    refresh.expires_after(kFullPublishEvery);
    refresh.async_wait([w = std::weak_ptr<Impl>(shared_from_this())](const boost::system::error_code& ec) {
      auto self = w.lock();
      if (ec || !self) return;
      self->announce();
      self->publish_state(true);
      self->schedule_refresh();
    });
  }

  // --- commands -----------------------------------------------------------

  struct Incoming {
    std::uint64_t generation;
    std::string topic;
    std::string payload;
  };
  std::mutex queue_mutex;
  std::deque<Incoming> queue;  // filled on Paho's thread, drained on the loop
  bool drain_posted = false;
  std::size_t dropped = 0;

  // On Paho's thread.
  void enqueue(std::uint64_t gen, std::string topic, std::string payload) {
    std::lock_guard lock(queue_mutex);
    if (queue.size() >= kMaxQueuedCommands) {
      ++dropped;
      return;
    }
    queue.push_back({gen, std::move(topic), std::move(payload)});
    if (!drain_posted) {
      drain_posted = true;
      asio::post(io, [self = shared_from_this()] { self->drain(); });
    }
  }

  void drain() {
    std::vector<Incoming> batch;
    std::size_t lost = 0;
    {
      std::lock_guard lock(queue_mutex);
      while (!queue.empty() && batch.size() < kCommandsPerTurn) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      lost = std::exchange(dropped, 0);
      drain_posted = !queue.empty();
    }
    if (lost) command_error(std::to_string(lost) + " commands dropped: more than the queue holds");
    for (auto& m : batch) on_message(m.generation, m.topic, m.payload);
    // Whatever is left waits behind the timers that are due.
    if (drain_posted) asio::post(io, [self = shared_from_this()] { self->drain(); });
  }

  // `why` is built from outside values already made safe (core::shown).
  void command_error(const std::string& why) {
    if (is_connected && client) send(prefix + "/CommandError", why, false);
    const auto now = Clock::now();
    if (now - last_error_log >= kCommandErrorLogEvery) {
      if (suppressed_errors) {
        log->warn("mqtt: {} ({} more refused commands not logged)", why, suppressed_errors);
      } else {
        log->warn("mqtt: {}", why);
      }
      last_error_log = now;
      suppressed_errors = 0;
    } else {
      ++suppressed_errors;
    }
  }

  void on_message(std::uint64_t gen, const std::string& topic, const std::string& payload) {
    if (gen != generation || !client) return;
    const std::string set_prefix = prefix + "/Set/";
    if (!topic.starts_with(set_prefix)) return;
    const std::string name = topic.substr(set_prefix.size());
    auto parsed = parse_set(name, payload);
    if (auto* why = std::get_if<std::string>(&parsed)) return command_error(*why);
    const std::string what = "Set/" + core::shown(name, 40);
    std::visit([&](const auto& cmd) { execute(what, cmd); }, std::get<SetCommand>(parsed));
    // What changed went out with the change feed; the full set follows once,
    // however many commands arrive meanwhile, so a client sees its answer even
    // when nothing changed.
    if (!full_soon) {
      full_soon = true;
      soon.expires_after(std::chrono::seconds{1});
      soon.async_wait([w = std::weak_ptr<Impl>(shared_from_this())](const boost::system::error_code& ec) {
        auto self = w.lock();
        if (!self) return;
        self->full_soon = false;
        if (!ec) self->publish_state(true);
      });
    }
  }

  void execute(const std::string& what, const station::SettingsChange& change) {
    station.change_settings(change, [w = std::weak_ptr<Impl>(shared_from_this()), what](station::SettingsOutcome o) {
      auto self = w.lock();
      if (!self) return;
      if (o.failure) return self->command_error(what + ": not saved, nothing changed: " + *o.failure);
      for (const auto& f : o.fields) {
        if (!f.applied()) self->command_error(what + ": " + f.reason);
      }
      if (o.panel.color) self->command_error(what + ": " + *o.panel.color);
    });
  }
  void execute(const std::string& what, const station::MeterFeed& feed) {
    if (auto r = station.feed_meter(feed); !r.ok()) command_error(what + ": " + r.reason);
  }
  void execute(const std::string& what, const HomeBatteryFeed& b) {
    if (auto r = station.feed_home_battery(b.deci_amps); !r.ok()) command_error(what + ": " + r.reason);
  }
};

Bridge::Bridge(asio::io_context& io, station::Station& station, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<Impl>(io, station, std::move(log))) {}

Bridge::~Bridge() { impl_->stop(); }

void Bridge::start() { impl_->start(); }
bool Bridge::connected() const { return impl_->is_connected; }
void Bridge::stop() { impl_->stop(); }

}  // namespace evsed::mqtt
