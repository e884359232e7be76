#include "evsed/sessions/session_log.hpp"

#include <spdlog/spdlog.h>

#include <utility>

// GCC 12 warns (wrongly) that a std::variant holding a vector, moved through a
// std::function, "may be used uninitialized" (a false positive of that release).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace evsed::sessions {

using station::HistoryError;
using station::HistoryResult;
using station::SessionRecord;

namespace {

HistoryError failed(std::string why) { return {HistoryError::Kind::Failed, std::move(why)}; }
HistoryError unavailable() { return {HistoryError::Kind::Unavailable, "the session log is not available (see the log)"}; }

struct Opened {
  OpenReport report;
  std::variant<StoredTotals, std::string> totals = std::string{"not read"};
  std::vector<SessionRecord> interrupted;
  std::string interrupted_error;
  std::optional<SessionRecord> newest;
};

}  // namespace

SessionLog::SessionLog(SessionLogConfig config, station::Station& station, Post post, Now now,
                       std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)),
      station_(station),
      post_(std::move(post)),
      now_(std::move(now)),
      log_(std::move(log)),
      db_(config_.path) {}

SessionLog::~SessionLog() {
  subscription_.reset();
  worker_.drain();
}

template <class Job, class Then>
void SessionLog::off_loop(Job job, Then then) {
  worker_.submit([this, job = std::move(job), then = std::move(then), alive = std::weak_ptr<bool>(alive_)]() mutable {
    auto result = job();
    post_([alive, then = std::move(then), result = std::move(result)]() mutable {
      if (alive.lock()) then(std::move(result));
    });
  });
}

void SessionLog::start() {
  const std::int64_t epoch = now_().epoch_s;
  const int keep_days = config_.keep_days;
  const int keep_count = config_.keep_count;
  off_loop(
      [this, epoch, keep_days, keep_count] {
        Opened o;
        o.report = db_.open(epoch);
        if (!db_.usable()) return o;
        auto closed = db_.close_interrupted();
        if (auto* list = std::get_if<std::vector<SessionRecord>>(&closed)) {
          o.interrupted = std::move(*list);
        } else {
          o.interrupted_error = std::get<std::string>(closed);
        }
        o.totals = db_.totals();
        (void)db_.prune(keep_days, keep_count, epoch);
        if (auto newest = db_.list({std::nullopt, std::nullopt, 1, 0});
            std::holds_alternative<std::vector<SessionRecord>>(newest)) {
          auto& list = std::get<std::vector<SessionRecord>>(newest);
          if (!list.empty() && !list.front().open()) o.newest = list.front();
        }
        return o;
      },
      [this](Opened o) {
        using Outcome = OpenReport::Outcome;
        switch (o.report.outcome) {
          case Outcome::Opened:
          case Outcome::Created: log_->info("sessions: {}", o.report.message); break;
          case Outcome::SetAside: log_->error("sessions: {}", o.report.message); break;
          case Outcome::TooNew:
          case Outcome::Failed:
            log_->error("sessions: {}; charging goes on without a session log", o.report.message);
            break;
        }
        std::uint64_t next_id = 1;
        if (auto* t = std::get_if<StoredTotals>(&o.totals)) {
          recording_ = true;
          totals_ = t->totals;
          next_id = t->next_id;
        } else if (db_.usable()) {
          log_->error("sessions: {}; charging goes on without a session log", std::get<std::string>(o.totals));
        }
        if (!o.interrupted_error.empty()) log_->error("sessions: {}", o.interrupted_error);
        last_closed_ = o.newest;
        for (const auto& r : o.interrupted) {
          log_->warn("sessions: session {} was left open when evsed last ended: closed as interrupted with its "
                     "values of {} ({} Wh)",
                     r.id, station::iso8601(r.updated_at, r.start_offset_s), r.energy_wh);
          station_.report_session(std::make_shared<const SessionRecord>(r));
        }
        tracker_.emplace(next_id);
        subscription_ = station_.subscribe([this](const station::Change& c) {
          if (c.kind != station::ChangeKind::SessionRecorded) observe();
        });
        observe();
      });
}

void SessionLog::observe() {
  if (!tracker_) return;
  const auto snap = station_.snapshot();
  const Instant at = now_();
  TrackerStep step = tracker_->observe(*snap, at);
  if (step.opened) {
    ++totals_.sessions;
    log_->info("sessions: session {} started", tracker_->current()->id);
  }
  if (step.closed) {
    log_->info("sessions: session {} ended ({}), {} Wh {}", step.closed->id, station::to_string(*step.closed->stop_reason),
               step.closed->energy_wh, station::to_string(step.closed->energy_source));
    write(*step.closed);
    // A car plugged in again within the same snapshot is not possible: A lies between.
    return;
  }
  if (const auto& cur = tracker_->current()) {
    if (step.opened || step.state_changed || at.steady - last_write_ >= config_.update_interval) {
      last_write_ = at.steady;
      write(*cur);
    }
  }
}

void SessionLog::tick() {
  if (!unsaved_.empty()) {
    auto retry = std::move(unsaved_);
    unsaved_.clear();
    for (const auto& r : retry) write(r);
  }
  observe();
}

void SessionLog::write(const SessionRecord& r) {
  if (!recording_) return;
  off_loop([this, r] { return db_.save(r); },
           [this, r](std::optional<std::string> error) { written(r, error); });
}

void SessionLog::written(const SessionRecord& r, const std::optional<std::string>& error) {
  if (error) {
    if (!write_failing_) log_->error("sessions: cannot save session {}: {}; retrying", r.id, *error);
    write_failing_ = true;
    if (!r.open()) unsaved_.push_back(r);
    return;
  }
  if (write_failing_) log_->info("sessions: saving again");
  write_failing_ = false;
  if (r.open()) return;
  totals_.energy_wh += r.energy_wh;
  if (!last_closed_ || last_closed_->id <= r.id) last_closed_ = r;
  station_.report_session(std::make_shared<const SessionRecord>(r));
  if (config_.keep_days > 0 || config_.keep_count > 0) {
    const int days = config_.keep_days;
    const int count = config_.keep_count;
    const std::int64_t epoch = now_().epoch_s;
    off_loop([this, days, count, epoch] { return db_.prune(days, count, epoch); },
             [this](std::variant<std::int64_t, std::string> r) {
               if (auto* e = std::get_if<std::string>(&r)) log_->warn("sessions: {}", *e);
             });
  }
}

void SessionLog::stop() {
  subscription_.reset();
  if (tracker_) {
    if (auto closed = tracker_->close(station::StopReason::Shutdown, now_()); closed && recording_) {
      worker_.submit([this, r = *closed] {
        if (auto e = db_.save(r)) log_->error("sessions: cannot save session {} at shutdown: {}", r.id, *e);
      });
    }
  }
  for (const auto& r : unsaved_) {
    worker_.submit([this, r] { (void)db_.save(r); });
  }
  unsaved_.clear();
  worker_.drain();
}

std::optional<SessionRecord> SessionLog::current() const {
  if (!tracker_) return std::nullopt;
  return tracker_->current();
}

void SessionLog::list(const station::SessionQuery& query, Render render,
                      std::function<void(HistoryResult<std::string>)> done) {
  off_loop(
      [this, query, render = std::move(render), live = current()]() -> HistoryResult<std::string> {
        if (!db_.usable()) return unavailable();
        auto rows = db_.list(query);
        if (auto* e = std::get_if<std::string>(&rows)) return failed(*e);
        auto& list = std::get<std::vector<SessionRecord>>(rows);
        if (live) {
          for (auto& r : list) {
            if (r.id == live->id) r = *live;  // its values of now, not of the last update
          }
        }
        return render(list);
      },
      [done = std::move(done)](HistoryResult<std::string> r) { done(std::move(r)); });
}

void SessionLog::get(std::uint64_t id, std::function<void(HistoryResult<SessionRecord>)> done) {
  if (auto live = current(); live && live->id == id) return done(*live);
  off_loop(
      [this, id]() -> HistoryResult<SessionRecord> {
        if (!db_.usable()) return unavailable();
        auto r = db_.get(id);
        if (auto* e = std::get_if<std::string>(&r)) return failed(*e);
        auto& found = std::get<std::optional<SessionRecord>>(r);
        if (!found) return HistoryError{HistoryError::Kind::NotFound, "no session " + std::to_string(id)};
        return *found;
      },
      [done = std::move(done)](HistoryResult<SessionRecord> r) { done(std::move(r)); });
}

void SessionLog::summary(station::SummaryPeriod by, const station::SessionQuery& query,
                         std::function<void(HistoryResult<std::vector<station::SummaryRow>>)> done) {
  off_loop(
      [this, by, query]() -> HistoryResult<std::vector<station::SummaryRow>> {
        if (!db_.usable()) return unavailable();
        auto r = db_.summary(by, query);
        if (auto* e = std::get_if<std::string>(&r)) return failed(*e);
        return std::get<std::vector<station::SummaryRow>>(std::move(r));
      },
      [done = std::move(done)](HistoryResult<std::vector<station::SummaryRow>> r) { done(std::move(r)); });
}

void SessionLog::set_note(std::uint64_t id, std::string note,
                          std::function<void(HistoryResult<SessionRecord>)> done) {
  if (auto why = station::note_problem(note)) return done(HistoryError{HistoryError::Kind::Invalid, *why});
  auto live = current();
  if (live && live->id != id) live.reset();
  if (live) live->note = note;
  off_loop(
      [this, id, note, live]() -> HistoryResult<SessionRecord> {
        if (!db_.usable()) return unavailable();
        auto changed = db_.set_note(id, note);
        if (auto* e = std::get_if<std::string>(&changed)) return failed(*e);
        if (!std::get<bool>(changed)) {
          if (!live) return HistoryError{HistoryError::Kind::NotFound, "no session " + std::to_string(id)};
          if (auto e = db_.save(*live)) return failed(*e);  // not written yet: the first write carries the note
        }
        if (live) return *live;
        auto r = db_.get(id);
        if (auto* e = std::get_if<std::string>(&r)) return failed(*e);
        auto& found = std::get<std::optional<SessionRecord>>(r);
        if (!found) return HistoryError{HistoryError::Kind::NotFound, "no session " + std::to_string(id)};
        return *found;
      },
      [this, id, note, done = std::move(done)](HistoryResult<SessionRecord> r) {
        // The running session keeps the note in memory too, once it is on disk.
        if (std::holds_alternative<SessionRecord>(r) && tracker_ && tracker_->current() &&
            tracker_->current()->id == id) {
          tracker_->set_note(note);
        }
        done(std::move(r));
      });
}

}  // namespace evsed::sessions
