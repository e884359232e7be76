#pragma once
// The session log: a front-end of the Station like any other. It follows the
// change feed (and a tick each second), runs the Tracker on the loop, and
// stores the sessions in SQLite on its own worker thread: the running session
// at least every `update_interval` and on every state change, a closed one at
// once. It never holds up charging: a database that cannot be used is logged,
// set aside when it is unreadable, and recording goes on when it can.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evsed/sessions/database.hpp"
#include "evsed/sessions/tracker.hpp"
#include "evsed/station/station.hpp"
#include "evsed/worker/job_thread.hpp"

namespace spdlog {
class logger;
}

namespace evsed::sessions {

struct SessionLogConfig {
  std::string path;                       // the database file
  core::Seconds update_interval{60};      // the running session reaches the disk at least this often
  int keep_days = 0;                      // closed sessions older than this go (0: kept)
  int keep_count = 0;                     // only the newest this many closed sessions stay (0: all)
};

// Limits of the configuration's [sessions] values.
inline constexpr int kMaxUpdateInterval = 60;  // the "at least every 60 s"

class SessionLog final : public station::History {
 public:
  using Post = std::function<void(std::function<void()>)>;  // runs a function on the loop
  using Now = std::function<Instant()>;

  SessionLog(SessionLogConfig config, station::Station& station, Post post, Now now,
             std::shared_ptr<spdlog::logger> log);
  ~SessionLog() override;
  SessionLog(const SessionLog&) = delete;
  SessionLog& operator=(const SessionLog&) = delete;

  // Opens the database off the loop; sessions are followed once it is ready.
  // Requests before then wait behind the opening on the worker, in order.
  void start();
  // Each second (housekeeping): the figures move on, the periodic update.
  void tick();
  // evsed stops: the running session is closed as `shutdown` and this waits
  // until everything is on disk.
  void stop();
  // Blocks until every write given so far is done (tests).
  void drain() { worker_.drain(); }

  // --- station::History ------------------------------------------------------
  [[nodiscard]] std::optional<station::SessionRecord> current() const override;
  [[nodiscard]] station::SessionTotals totals() const override { return totals_; }
  [[nodiscard]] std::optional<station::SessionRecord> last_closed() const override { return last_closed_; }
  void list(const station::SessionQuery& query, Render render,
            std::function<void(station::HistoryResult<std::string>)> done) override;
  void get(std::uint64_t id, std::function<void(station::HistoryResult<station::SessionRecord>)> done) override;
  void summary(station::SummaryPeriod by, const station::SessionQuery& query,
               std::function<void(station::HistoryResult<std::vector<station::SummaryRow>>)> done) override;
  void set_note(std::uint64_t id, std::string note,
                std::function<void(station::HistoryResult<station::SessionRecord>)> done) override;

 private:
  void opened(const OpenReport& report, std::variant<StoredTotals, std::string> totals,
              std::vector<station::SessionRecord> interrupted);
  void observe();
  void write(const station::SessionRecord& r);
  void written(const station::SessionRecord& r, const std::optional<std::string>& error);
  // Runs `job` on the worker and `then` with its result on the loop (if this still lives).
  template <class Job, class Then>
  void off_loop(Job job, Then then);

  SessionLogConfig config_;
  station::Station& station_;
  Post post_;
  Now now_;
  std::shared_ptr<spdlog::logger> log_;
  std::optional<Tracker> tracker_;  // once the database answered (or could not be used)
  bool recording_ = false;          // the database is usable
  station::SessionTotals totals_{};
  std::optional<station::SessionRecord> last_closed_;
  std::uint64_t observed_version_ = 0;
  core::TimePoint last_write_{};
  std::vector<station::SessionRecord> unsaved_;  // closed sessions whose write failed: retried
  bool write_failing_ = false;
  station::Subscription subscription_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Database db_;                     // used on the worker only
  worker::JobThread worker_;        // last: it stops first, after finishing its jobs
};

}  // namespace evsed::sessions
