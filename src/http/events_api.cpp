#include "evsed/http/events_api.hpp"

#include <algorithm>

namespace evsed::http {

std::string sse_frame(std::string_view event, std::string_view data, std::string_view id) {
  std::string f;
  f.reserve(data.size() + 64);
  if (!id.empty()) {
    f += "id: ";
    f += id;
    f += '\n';
  }
  f += "event: ";
  f += event;
  f += '\n';
  // A line break in the data starts another data line (the format's rule).
  std::size_t start = 0;
  while (true) {
    const auto nl = data.find('\n', start);
    f += "data: ";
    f += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    f += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  f += '\n';
  return f;
}

std::shared_ptr<const std::string> EventsApi::settings_frame() {
  const auto version = station_.snapshot()->version;
  if (!frame_ || frame_version_ != version) {
    const auto bytes = settings_();
    frame_ = std::make_shared<const std::string>(sse_frame("settings", bytes ? *bytes : "{}", std::to_string(version)));
    frame_version_ = version;
  }
  return frame_;
}

HttpResponse EventsApi::open() {
  HttpResponse r;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers = {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}};
  r.stream = [this](std::shared_ptr<StreamSink> sink) {
    if (!subscription_) {
      subscription_ = station_.subscribe([this](const station::Change& c) { on_change(c); });
    }
    sink->push(std::make_shared<const std::string>("retry: " + std::to_string(kEventRetryMs) + "\n\n"));
    sink->push(settings_frame());
    clients_.push_back(std::move(sink));
  };
  return r;
}

void EventsApi::broadcast(const std::shared_ptr<const std::string>& frame) {
  std::erase_if(clients_, [](const auto& c) { return !c->open(); });
  for (const auto& c : clients_) c->push(frame);
  if (clients_.empty()) subscription_.reset();
}

void EventsApi::on_change(const station::Change& c) {
  switch (c.kind) {
    case station::ChangeKind::SessionRecorded:
      if (c.session) {
        broadcast(std::make_shared<const std::string>(sse_frame("session", station::to_json(*c.session))));
      }
      break;
    default:
      // Everything else shows in the snapshot: one frame per version, whatever the kind.
      if (station_.snapshot()->version != frame_version_ || !frame_) broadcast(settings_frame());
      break;
  }
}

}  // namespace evsed::http
