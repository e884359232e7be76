#pragma once
// GET /events: Server-Sent Events from the Station's change feed. On connect
// the whole GET /settings snapshot (its version as the event id); then a new
// snapshot whenever it changes, and each recorded session. Every client gets
// the same bytes, serialized once per version; a slow client is dropped by the
// server rather than slowing the others, and the browser's EventSource
// reconnects by itself.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "evsed/http/http_types.hpp"
#include "evsed/station/station.hpp"

namespace evsed::http {

// The reconnection delay the stream asks browsers for (SSE "retry:").
inline constexpr int kEventRetryMs = 2000;

class EventsApi {
 public:
  // `settings` gives GET /settings as shared bytes for the snapshot now.
  using SettingsBytes = std::function<std::shared_ptr<const std::string>()>;
  EventsApi(station::Station& station, SettingsBytes settings) : station_(station), settings_(std::move(settings)) {}

  HttpResponse open();
  [[nodiscard]] std::size_t clients() const { return clients_.size(); }

 private:
  void on_change(const station::Change& c);
  void broadcast(const std::shared_ptr<const std::string>& frame);
  std::shared_ptr<const std::string> settings_frame();

  station::Station& station_;
  SettingsBytes settings_;
  std::vector<std::shared_ptr<StreamSink>> clients_;
  station::Subscription subscription_;
  std::uint64_t frame_version_ = 0;
  std::shared_ptr<const std::string> frame_;
};

// One SSE frame: "id:", "event:", one "data:" line per line of `data`.
std::string sse_frame(std::string_view event, std::string_view data, std::string_view id = {});

}  // namespace evsed::http
