#pragma once
// The change feed: what front-ends subscribe to instead of polling. Changes are
// delivered on the event loop, in the order they happened, each carrying the
// snapshot version it led to.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "evsed/core/error_flags.hpp"
#include "evsed/core/meter_reading.hpp"
#include "evsed/station/session_record.hpp"

namespace evsed::station {

enum class ChangeKind : std::uint8_t {
  Status,          // the snapshot changed (anything observable)
  Settings,        // run-time settings changed and are on disk
  MqttSettings,    // the MQTT broker settings changed and are on disk
  SessionStarted,  // a car was plugged in (state left A)
  SessionEnded,    // back to A
  ErrorRaised,     // `error` set
  ErrorCleared,    // `error` cleared
  MeterStale,      // `meter`'s last reading is older than its timeout (or never came)
  MeterFresh,      // `meter` reads again
  SessionRecorded, // the session log closed a session and it is on disk (`session`)
};

std::string_view to_string(ChangeKind k);  // "status", "settings", "session_started", ...

struct Change {
  ChangeKind kind = ChangeKind::Status;
  std::uint64_t version = 0;  // snapshot version after the change
  std::optional<core::ErrorFlag> error;
  std::optional<core::MeterRole> meter;
  std::shared_ptr<const SessionRecord> session;
};

using ChangeHandler = std::function<void(const Change&)>;

struct FeedRegistry;

// Delivery lasts as long as this lives (and the feed does).
class Subscription {
 public:
  Subscription() = default;
  Subscription(std::weak_ptr<FeedRegistry> registry, std::uint64_t id) : registry_(std::move(registry)), id_(id) {}
  Subscription(Subscription&& o) noexcept = default;
  Subscription& operator=(Subscription&& o) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }
  void reset();
  [[nodiscard]] explicit operator bool() const { return id_ != 0; }

 private:
  std::weak_ptr<FeedRegistry> registry_;
  std::uint64_t id_ = 0;
};

// Subscribers and a queue: changes raised while delivering (a handler that
// sends a command) are delivered after the current ones, never lost, never
// re-entrant.
class ChangeFeed {
 public:
  ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;
  ~ChangeFeed();

  [[nodiscard]] Subscription subscribe(ChangeHandler handler);
  // Queues a change; delivered by the next deliver().
  void raise(Change c);
  // Delivers everything queued, including what handlers raise meanwhile.
  void deliver();
  [[nodiscard]] std::size_t subscribers() const;

 private:
  std::shared_ptr<FeedRegistry> registry_;
  std::vector<Change> queue_;
  bool delivering_ = false;
};

}  // namespace evsed::station
