#include "evsed/mqtt/bridge.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mqtt/async_client.h>
#include <deque>
#include <mutex>
#include <random>
#include <set>

namespace evsed::mqtt {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds kKeepAlive{15};
constexpr std::chrono::seconds kFullPublishEvery{10};
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
  MqttBackend& backend;
  std::shared_ptr<spdlog::logger> log;
  unsigned serial;

  BridgeOptions options;
  std::string prefix;
  std::uint64_t generation = 0;  // callbacks of an older client are ignored
  std::unique_ptr<::mqtt::async_client> client;
  std::unique_ptr<Listener> listener;
  bool is_connected = false;
  asio::steady_timer retry;
  std::chrono::seconds backoff{1};
  std::mt19937 rng{std::random_device{}()};
  std::vector<std::thread> goodbyes;  // retired clients saying offline, off the loop

  std::map<std::string, Publication> published;  // last payload per suffix
  Clock::time_point last_full{};
  bool full_due = false;  // a /Set came in: everything again with the next tick
  std::optional<std::vector<DiscoveryMessage>> announced;
  Clock::time_point last_error_log{};
  unsigned suppressed_errors = 0;
  std::string last_failure;

  Impl(asio::io_context& i, MqttBackend& b, std::shared_ptr<spdlog::logger> l, unsigned s)
      : io(i), backend(b), log(std::move(l)), serial(s), retry(i) {}

  ~Impl() {
    for (auto& t : goodbyes) t.join();
  }

  // --- connection ---------------------------------------------------------

  void configure(const BridgeOptions& o) {
    if (o == options && client) return;
    retire();
    options = o;
    prefix = effective_prefix(options.settings, serial);
    backoff = std::chrono::seconds{1};
    if (options.settings.host.empty()) return;
    try {
      const std::string uri =
          (options.settings.tls ? "ssl://" : "tcp://") + options.settings.host + ":" + std::to_string(options.settings.port);
      client = std::make_unique<::mqtt::async_client>(uri, prefix);
    } catch (const std::exception& e) {
      log->error("mqtt: {}:{}: {}", options.settings.host, options.settings.port, e.what());
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
      ssl.set_enable_server_cert_auth(true);
      opts.set_ssl(ssl);
    }
    try {
      client->connect(opts, nullptr, *listener);
    } catch (const std::exception& e) {
      on_failed(generation, e.what());
    }
  }

  void on_connected(std::uint64_t gen) {
    if (gen != generation || !client) return;
    is_connected = true;
    backoff = std::chrono::seconds{1};
    last_failure.clear();
    log->info("mqtt: connected to {}:{} as {}", options.settings.host, options.settings.port, prefix);
    try {
      client->subscribe(prefix + "/Set/#", 1);
      client->publish(prefix + "/connected", std::string{"online"}, 0, true);
    } catch (const std::exception& e) {
      log->warn("mqtt: {}", e.what());
    }
    announced.reset();
    announce();
    publish_state(true);
  }

  void on_failed(std::uint64_t gen, const std::string& why) {
    if (gen != generation) return;
    is_connected = false;
    if (why != last_failure) log->warn("mqtt: {}:{}: {}; retrying", options.settings.host, options.settings.port, why);
    last_failure = why;
    schedule_reconnect();
  }

  void on_lost(std::uint64_t gen, const std::string& cause) {
    if (gen != generation) return;
    is_connected = false;
    log->warn("mqtt: connection lost{}", cause.empty() ? "" : ": " + cause);
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

  // A client we are done with says `offline` and disconnects on its own thread.
  void retire() {
    ++generation;
    retry.cancel();
    is_connected = false;
    published.clear();
    announced.reset();
    if (!client) return;
    goodbyes.emplace_back([c = std::move(client), l = std::move(listener), topic = prefix + "/connected"]() {
      try {
        if (c->is_connected()) {
          c->publish(topic, std::string{"offline"}, 1, true)->wait_for(kGoodbyeTimeout);
          c->disconnect(static_cast<int>(kGoodbyeTimeout.count()))->wait_for(kGoodbyeTimeout * 2);
        }
      } catch (const std::exception&) {
        // Going away anyway; the broker's LWT covers what we could not say.
      }
    });
  }

  void stop() {
    retire();
    for (auto& t : goodbyes) t.join();
    goodbyes.clear();
  }

  // --- publishing ---------------------------------------------------------

  void send(const std::string& topic, const std::string& payload, bool retain) {
    try {
      client->publish(topic, payload, 0, retain);
    } catch (const std::exception& e) {
      log->debug("mqtt: publish {}: {}", topic, e.what());
    }
  }

  void announce() {
    DiscoveryContext ctx = backend.discovery_context();
    ctx.prefix = prefix;
    std::vector<DiscoveryMessage> now = options.discovery ? discovery_messages(ctx) : std::vector<DiscoveryMessage>{};
    if (announced && announced->size() == now.size() &&
        std::equal(now.begin(), now.end(), announced->begin(),
                   [](const auto& a, const auto& b) { return a.topic == b.topic && a.payload == b.payload; })) {
      return;
    }
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
    announced = std::move(now);
  }

  void publish_state(bool full) {
    if (!is_connected) return;
    const auto now = Clock::now();
    if (now - last_full >= kFullPublishEvery) full = true;
    for (auto& p : state_publications(backend.status(), backend.state_context())) {
      auto it = published.find(p.suffix);
      if (!full && it != published.end() && it->second == p) continue;
      send(prefix + "/" + p.suffix, p.payload, p.retain);
      published[p.suffix] = std::move(p);
    }
    if (full) last_full = now;
  }

  void tick() {
    if (!is_connected) return;
    announce();  // republished only when the configuration behind it changed
    publish_state(full_due);
    full_due = false;
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

  void command_error(const std::string& why) {
    send(prefix + "/CommandError", why, false);
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
    auto parsed = parse_set(name, payload, backend.set_context());
    if (auto* why = std::get_if<std::string>(&parsed)) {
      command_error(*why);
    } else {
      std::visit([&](const auto& cmd) { execute(name, cmd); }, std::get<SetCommand>(parsed));
    }
    // What the command changed goes out now; the full set with the next tick
    // (once, however many commands arrive in between).
    publish_state(false);
    full_due = true;
  }

  void execute(const std::string& name, const core::SettingsPatch& patch) {
    const auto result = backend.apply(patch);
    for (const auto& f : result.fields) {
      if (f.outcome != core::FieldResult::Outcome::Applied) command_error("Set/" + name + ": " + f.detail);
    }
  }
  void execute(const std::string&, const core::MeterReading& r) { backend.feed(r); }
  void execute(const std::string&, const core::HomeBatteryReading& r) { backend.feed(r); }
  void execute(const std::string&, const PanelChange& c) {
    hw::PanelState& panel = backend.panel();
    if (c.custom_button) panel.custom_button = *c.custom_button;
    if (c.color) {
      const auto& [key, rgb] = *c.color;
      hw::Rgb& target = key == "off"      ? panel.colors.off
                        : key == "normal" ? panel.colors.normal
                        : key == "smart"  ? panel.colors.smart
                        : key == "solar"  ? panel.colors.solar
                                          : panel.colors.custom;
      target = rgb;
    }
  }
};

Bridge::Bridge(asio::io_context& io, MqttBackend& backend, std::shared_ptr<spdlog::logger> log, unsigned serial)
    : impl_(std::make_shared<Impl>(io, backend, std::move(log), serial)) {}

Bridge::~Bridge() { impl_->stop(); }

void Bridge::configure(const BridgeOptions& options) { impl_->configure(options); }
void Bridge::tick() { impl_->tick(); }
bool Bridge::connected() const { return impl_->is_connected; }
void Bridge::stop() { impl_->stop(); }

}  // namespace evsed::mqtt
