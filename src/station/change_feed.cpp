#include <algorithm>
#include <utility>

#include "evsed/station/change.hpp"

namespace evsed::station {

struct FeedRegistry {
  struct Entry {
    std::uint64_t id;
    ChangeHandler handler;
    bool removed = false;
  };
  std::vector<Entry> entries;
  std::uint64_t next_id = 1;
};

std::string_view to_string(ChangeKind k) {
  switch (k) {
    case ChangeKind::Status: return "status";
    case ChangeKind::Settings: return "settings";
    case ChangeKind::MqttSettings: return "mqtt_settings";
    case ChangeKind::SessionStarted: return "session_started";
    case ChangeKind::SessionEnded: return "session_ended";
    case ChangeKind::ErrorRaised: return "error_raised";
    case ChangeKind::ErrorCleared: return "error_cleared";
    case ChangeKind::MeterStale: return "meter_stale";
    case ChangeKind::MeterFresh: return "meter_fresh";
    case ChangeKind::SessionRecorded: return "session_recorded";
  }
  return "status";
}

Subscription& Subscription::operator=(Subscription&& o) noexcept {
  if (this != &o) {
    reset();
    registry_ = std::move(o.registry_);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void Subscription::reset() {
  if (auto r = registry_.lock()) {
    // Marked, not erased: the feed may be walking the list right now.
    for (auto& e : r->entries) {
      if (e.id == id_) e.removed = true;
    }
  }
  registry_.reset();
  id_ = 0;
}

ChangeFeed::ChangeFeed() : registry_(std::make_shared<FeedRegistry>()) {}
ChangeFeed::~ChangeFeed() = default;

Subscription ChangeFeed::subscribe(ChangeHandler handler) {
  const auto id = registry_->next_id++;
  registry_->entries.push_back({id, std::move(handler), false});
  return Subscription{registry_, id};
}

void ChangeFeed::raise(Change c) { queue_.push_back(c); }

void ChangeFeed::deliver() {
  if (delivering_) return;  // the outer call delivers what is raised now
  delivering_ = true;
  // Index loops: handlers may subscribe (growing `entries`) and raise (growing `queue_`).
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    const Change c = queue_[i];
    for (std::size_t k = 0; k < registry_->entries.size(); ++k) {
      if (registry_->entries[k].removed) continue;
      ChangeHandler handler = registry_->entries[k].handler;  // a copy: the entry may move
      handler(c);
    }
  }
  queue_.clear();
  auto& entries = registry_->entries;
  entries.erase(std::remove_if(entries.begin(), entries.end(), [](const auto& e) { return e.removed; }),
                entries.end());
  delivering_ = false;
}

std::size_t ChangeFeed::subscribers() const {
  return static_cast<std::size_t>(std::count_if(registry_->entries.begin(), registry_->entries.end(),
                                                [](const auto& e) { return !e.removed; }));
}

}  // namespace evsed::station
