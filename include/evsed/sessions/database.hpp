#pragma once
// The session log's SQLite file: WAL, synchronous=FULL (a committed session
// survives a power cut), every statement prepared once with bound values,
// the schema versioned in PRAGMA user_version and migrated step by step.
// Not thread-safe: the session log uses it from its one worker thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "evsed/station/history.hpp"
#include "evsed/station/session_record.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace evsed::sessions {

// Each step takes the schema from version i to i + 1; the last is what evsed writes.
struct Migration {
  int to_version;
  std::string_view sql;
};
extern const std::vector<Migration> kMigrations;
int latest_schema_version();

struct OpenReport {
  enum class Outcome : std::uint8_t {
    Opened,    // an existing log, migrated if it was older
    Created,   // a fresh file
    SetAside,  // the old file was unreadable: moved aside, a fresh one started
    TooNew,    // written by a newer evsed: left alone, nothing recorded
    Failed,    // cannot be opened or created (directory missing, read-only)
  } outcome = Outcome::Failed;
  std::string message;       // for the log
  std::string set_aside_as;  // where the unreadable file went
  int migrated_from = -1;    // the version it had, when it was migrated
};

// Stored figures that live beside the sessions.
struct StoredTotals {
  std::uint64_t next_id = 1;
  station::SessionTotals totals;
};

class Database {
 public:
  explicit Database(std::string path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (or creates) the file; `now_epoch` names a file set aside.
  OpenReport open(std::int64_t now_epoch);
  [[nodiscard]] bool usable() const { return db_ != nullptr; }
  [[nodiscard]] const std::string& path() const { return path_; }

  // Inserts or updates by id (the note is the user's: an update keeps it).
  // Counts a new id in the totals, and the energy once when it closes.
  std::optional<std::string> save(const station::SessionRecord& r);
  // Sessions left open by an evsed that ended without closing them (kill,
  // crash, power loss): closed as interrupted with their last values.
  std::variant<std::vector<station::SessionRecord>, std::string> close_interrupted();
  std::variant<StoredTotals, std::string> totals();

  std::variant<std::vector<station::SessionRecord>, std::string> list(const station::SessionQuery& q);
  std::variant<std::optional<station::SessionRecord>, std::string> get(std::uint64_t id);
  std::variant<std::vector<station::SummaryRow>, std::string> summary(station::SummaryPeriod by,
                                                                      const station::SessionQuery& q);
  // False when there is no such session.
  std::variant<bool, std::string> set_note(std::uint64_t id, const std::string& note);
  // Closed sessions older than `keep_days` (0: no limit) and beyond the newest
  // `keep_count` (0: no limit) go; the totals stay. Returns how many went.
  std::variant<std::int64_t, std::string> prune(int keep_days, int keep_count, std::int64_t now_epoch);

 private:
  class Statement;
  Statement& statement(std::string_view sql);
  [[nodiscard]] std::string error(std::string_view what) const;
  OpenReport open_file(std::int64_t now_epoch, bool after_set_aside);
  std::optional<std::string> migrate(int from);
  void close();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::vector<std::unique_ptr<Statement>> statements_;
};

}  // namespace evsed::sessions
