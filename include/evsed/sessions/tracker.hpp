#pragma once
// The session state machine: fed every snapshot the Station publishes (and a
// tick now and then), it opens a session when a car is connected, keeps its
// figures (time, energy, currents, modes, solar share) and closes it, with the
// reason charging ended, when the car is unplugged. Pure: the time comes with
// every call, nothing is stored here.

#include <cstdint>
#include <optional>

#include "evsed/core/units.hpp"
#include "evsed/station/session_record.hpp"
#include "evsed/station/snapshot.hpp"

namespace evsed::sessions {

// One moment on both clocks: durations come from the monotonic one (a DST
// change or a clock step does not stretch a session), dates from the wall one.
struct Instant {
  core::TimePoint steady{};
  std::int64_t epoch_s = 0;       // Unix time
  std::int32_t utc_offset_s = 0;  // local time minus UTC at that moment
};

// A reading older than this is not used for energy or currents (the poller
// reads every 2 s or so; SmartEVSE's EV meter timeout is longer, but a session
// figure should not be built on stale numbers).
inline constexpr core::Seconds kFreshReading{10};
// A phase counts as used when it draws at least this much (dA).
inline constexpr core::DeciAmps kPhaseInUse{10};

struct TrackerStep {
  bool opened = false;         // a session began with this snapshot
  bool state_changed = false;  // the charging state moved: worth writing now
  std::optional<station::SessionRecord> closed;  // the session that ended
};

class Tracker {
 public:
  explicit Tracker(std::uint64_t next_id = 1) : next_id_(next_id) {}

  TrackerStep observe(const station::Snapshot& snap, const Instant& at);
  // evsed is stopping: the open session (if any) ends with `reason`.
  std::optional<station::SessionRecord> close(station::StopReason reason, const Instant& at);

  [[nodiscard]] const std::optional<station::SessionRecord>& current() const { return record_; }
  void set_note(std::string note) {
    if (record_) record_->note = std::move(note);
  }
  [[nodiscard]] std::uint64_t next_id() const { return next_id_; }

 private:
  struct Rates {
    bool charging = false;
    std::int32_t peak_da = 0;      // highest phase current
    double ev_w = 0;               // EV power
    std::optional<double> grid_w;  // mains import (+) / export (-), when known
  };
  struct Cause {
    station::StopReason reason = station::StopReason::Unplugged;
    std::string error;
  };

  void open(const Instant& at);
  void integrate(const Instant& at);
  // Takes a snapshot's values; true when the charging state moved.
  bool take(const station::Snapshot& snap, const Instant& at);
  [[nodiscard]] Cause cause(const core::Status& s, bool charging_stopped) const;
  void refresh_record(const Instant& at);
  station::SessionRecord finish(Cause cause, const Instant& at);

  std::uint64_t next_id_;
  std::optional<station::SessionRecord> record_;
  // The running session's working values.
  Instant opened_at_{};
  Instant last_{};
  Rates rates_{};
  core::Status last_status_{};
  double estimated_wh_ = 0;
  double solar_wh_ = 0;
  bool solar_known_ = false;
  double charging_s_ = 0;
  double current_ds_ = 0;  // integral of the peak current (dA x s) while charging
  bool ev_meter_trusted_ = false;  // its register was read before charging and stayed fresh
  bool ever_charged_ = false;
  std::optional<Cause> stopped_;  // why the last charging stopped
  station::StopReason access_cause_ = station::StopReason::AccessOff;  // why access last went off
};

}  // namespace evsed::sessions
