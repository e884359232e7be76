#pragma once
// The MQTT bridge (Paho MQTT C++ behind this header): connects with LWT and
// keep-alive, reconnects with a jittered backoff, publishes SmartEVSE's topics
// and Home Assistant discovery, and takes <prefix>/Set/... commands. Paho calls
// back on its own threads; every callback is posted into the Asio loop before
// it touches anything. Nothing here blocks the loop on the network.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "evsed/core/controller.hpp"
#include "evsed/hw/panel.hpp"
#include "evsed/mqtt/mqtt_settings.hpp"
#include "evsed/mqtt/topics.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace evsed::mqtt {

// What the bridge needs from the daemon.
class MqttBackend {
 public:
  virtual ~MqttBackend() = default;
  virtual core::Status status() = 0;
  virtual core::PatchResult apply(core::SettingsPatch patch) = 0;
  virtual void feed(const core::Event& event) = 0;
  virtual hw::PanelState& panel() = 0;
  virtual StateContext state_context() = 0;
  virtual DiscoveryContext discovery_context() = 0;  // prefix is filled in by the bridge
  virtual SetContext set_context() = 0;
};

struct BridgeOptions {
  MqttSettings settings;
  bool discovery = true;
  std::string ca_file;  // PEM file for TLS; empty: the system's CAs
  friend bool operator==(const BridgeOptions&, const BridgeOptions&) = default;
};

class Bridge {
 public:
  Bridge(boost::asio::io_context& io, MqttBackend& backend, std::shared_ptr<spdlog::logger> log, unsigned serial);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Connects (or moves to another broker); an empty host turns MQTT off.
  void configure(const BridgeOptions& options);
  // Every second: publish what changed, everything every 10 s.
  void tick();
  [[nodiscard]] bool connected() const;
  // Deliberate stop: `offline` first, then disconnect (bounded, off the loop).
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace evsed::mqtt
