#pragma once
// The MQTT bridge (Paho MQTT C++ behind this header): connects with LWT and
// keep-alive, reconnects with a jittered backoff, publishes SmartEVSE's topics
// and Home Assistant discovery from the Station's change feed (at once on a
// change, everything every 10 s), and turns <prefix>/Set/... into Station
// commands. Paho calls back on its own threads; every callback is posted into
// the Asio loop before it touches anything. Nothing here blocks the loop.

#include <memory>

#include "evsed/station/station.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace evsed::mqtt {

class Bridge {
 public:
  // Connects to the broker the Station names, and follows its changes.
  Bridge(boost::asio::io_context& io, station::Station& station, std::shared_ptr<spdlog::logger> log);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  void start();
  [[nodiscard]] bool connected() const;
  // Deliberate stop: `offline` first, then disconnect (bounded, off the loop).
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace evsed::mqtt
