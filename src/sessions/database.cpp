#include "evsed/sessions/database.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace evsed::sessions {

using station::SessionRecord;

// Version 1: the sessions. Version 2: totals kept apart from the rows, so
// retention does not lower the count of sessions or the energy ever charged.
const std::vector<Migration> kMigrations{
    {1, R"(CREATE TABLE sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at INTEGER NOT NULL,
  start_offset INTEGER NOT NULL,
  ended_at INTEGER,
  end_offset INTEGER,
  updated_at INTEGER NOT NULL,
  connected_s INTEGER NOT NULL CHECK (connected_s >= 0),
  charging_s INTEGER NOT NULL CHECK (charging_s >= 0),
  energy_wh INTEGER NOT NULL,
  energy_source TEXT NOT NULL CHECK (energy_source IN ('ev_meter', 'estimated')),
  meter_start_wh INTEGER,
  meter_end_wh INTEGER,
  max_current_da INTEGER NOT NULL,
  mean_current_da INTEGER NOT NULL,
  phases INTEGER NOT NULL CHECK (phases BETWEEN 0 AND 3),
  modes TEXT NOT NULL,
  solar_wh INTEGER,
  stop_reason TEXT,
  stop_error TEXT NOT NULL DEFAULT '',
  id_tag TEXT NOT NULL DEFAULT '',
  ocpp_transaction_id INTEGER,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_local_start ON sessions (started_at + start_offset);)"},
    {2, R"(CREATE TABLE totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sessions INTEGER NOT NULL,
  energy_wh INTEGER NOT NULL
);
INSERT INTO totals (id, sessions, energy_wh)
  SELECT 1, COUNT(*), COALESCE(SUM(CASE WHEN stop_reason IS NOT NULL THEN energy_wh ELSE 0 END), 0) FROM sessions;)"},
};

int latest_schema_version() { return kMigrations.back().to_version; }

// A prepared statement, kept for the life of the connection; reset on each use.
class Database::Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : sql_(sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK) {
      stmt_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  [[nodiscard]] bool ok() const { return stmt_ != nullptr; }
  [[nodiscard]] const std::string& sql() const { return sql_; }
  Statement& start() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_ = 1;
    return *this;
  }
  Statement& bind(std::int64_t v) {
    sqlite3_bind_int64(stmt_, next_++, v);
    return *this;
  }
  Statement& bind(const std::string& v) {
    sqlite3_bind_text(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  template <class T>
  Statement& bind(const std::optional<T>& v) {
    if (v) return bind(static_cast<std::int64_t>(*v));
    sqlite3_bind_null(stmt_, next_++);
    return *this;
  }
  Statement& bind_null() {
    sqlite3_bind_null(stmt_, next_++);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  [[nodiscard]] std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] bool null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  [[nodiscard]] std::optional<std::int64_t> maybe(int col) const {
    if (null(col)) return std::nullopt;
    return integer(col);
  }
  [[nodiscard]] std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string{};
  }

 private:
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
};

namespace {

constexpr std::string_view kColumns =
    "id, started_at, start_offset, ended_at, end_offset, updated_at, connected_s, charging_s, energy_wh, "
    "energy_source, meter_start_wh, meter_end_wh, max_current_da, mean_current_da, phases, modes, solar_wh, "
    "stop_reason, stop_error, id_tag, ocpp_transaction_id, note";

std::string utc_stamp(std::int64_t epoch) {
  using namespace std::chrono;
  const sys_seconds t{seconds{epoch}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

std::int64_t day_start(station::LocalDay d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d.time_since_epoch()).count();
}

}  // namespace

Database::Database(std::string path) : path_(std::move(path)) {}

Database::~Database() { close(); }

void Database::close() {
  statements_.clear();
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

std::string Database::error(std::string_view what) const {
  return std::string{what} + ": " + (db_ ? sqlite3_errmsg(db_) : "no database");
}

Database::Statement& Database::statement(std::string_view sql) {
  for (auto& s : statements_) {
    if (s->sql() == sql) return s->start();
  }
  statements_.push_back(std::make_unique<Statement>(db_, sql));
  return statements_.back()->start();
}

OpenReport Database::open(std::int64_t now_epoch) { return open_file(now_epoch, false); }

OpenReport Database::open_file(std::int64_t now_epoch, bool after_set_aside) {
  OpenReport report;
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool existed = fs::exists(path_, ec);
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr) !=
      SQLITE_OK) {
    report.message = error("cannot open " + path_);
    close();
    return report;
  }
  sqlite3_busy_timeout(db_, 2000);
  sqlite3_extended_result_codes(db_, 1);

  // A file that is not a database, or a damaged one, is kept for a look and replaced.
  auto check = [&]() -> std::optional<std::string> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK) return error("quick_check");
    std::optional<std::string> bad;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      const std::string first = t ? reinterpret_cast<const char*>(t) : "";
      if (first != "ok") bad = "damaged: " + first;
    } else {
      bad = error("quick_check");
    }
    sqlite3_finalize(st);
    return bad;
  };
  if (auto bad = check()) {
    const int code = sqlite3_extended_errcode(db_);
    const bool unreadable = bad->starts_with("damaged") || (code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT;
    close();
    if (!unreadable || after_set_aside || !existed) {
      report.message = *bad;
      return report;
    }
    const std::string aside = path_ + ".corrupt-" + utc_stamp(now_epoch);
    fs::rename(path_, aside, ec);
    if (ec) {
      report.message = *bad + "; and it cannot be moved aside: " + ec.message();
      return report;
    }
    for (const char* suffix : {"-wal", "-shm"}) {
      if (fs::exists(path_ + suffix, ec)) fs::rename(path_ + suffix, aside + suffix, ec);
    }
    OpenReport fresh = open_file(now_epoch, true);
    if (fresh.outcome == OpenReport::Outcome::Created) {
      fresh.outcome = OpenReport::Outcome::SetAside;
      fresh.set_aside_as = aside;
      fresh.message = path_ + " was unreadable (" + *bad + "): moved to " + aside + ", a fresh log started";
    }
    return fresh;
  }

  int version = 0;
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  if (version > latest_schema_version()) {
    report.outcome = OpenReport::Outcome::TooNew;
    report.message = path_ + " has schema version " + std::to_string(version) + ", newer than this evsed's (" +
                     std::to_string(latest_schema_version()) + "): left as it is, sessions are not recorded";
    close();
    return report;
  }
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (sqlite3_exec(db_, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      report.message = error(pragma);
      close();
      return report;
    }
  }
  if (version < latest_schema_version()) {
    if (auto e = migrate(version)) {
      report.message = *e;
      close();
      return report;
    }
    if (version > 0) report.migrated_from = version;
  }
  report.outcome = existed && version > 0 ? OpenReport::Outcome::Opened : OpenReport::Outcome::Created;
  report.message = path_ + (report.outcome == OpenReport::Outcome::Created ? ": a new session log" : ": session log opened");
  if (report.migrated_from > 0) {
    report.message += " (schema " + std::to_string(version) + " -> " + std::to_string(latest_schema_version()) + ")";
  }
  return report;
}

// Each step in its own transaction with its version: a power cut between
// steps leaves a valid older schema that the next start carries on from.
std::optional<std::string> Database::migrate(int from) {
  for (const auto& m : kMigrations) {
    if (m.to_version <= from) continue;
    const std::string sql = "BEGIN IMMEDIATE;\n" + std::string{m.sql} + "\nPRAGMA user_version = " +
                            std::to_string(m.to_version) + ";\nCOMMIT;";
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string e = "schema migration to version " + std::to_string(m.to_version) + ": " + (msg ? msg : "failed");
      sqlite3_free(msg);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return e;
    }
  }
  return std::nullopt;
}

namespace {

// Reads a row in kColumns order.
template <class St>
SessionRecord read_row(const St& s) {
  SessionRecord r;
  r.id = static_cast<std::uint64_t>(s.integer(0));
  r.started_at = s.integer(1);
  r.start_offset_s = static_cast<std::int32_t>(s.integer(2));
  r.ended_at = s.maybe(3);
  if (auto o = s.maybe(4)) r.end_offset_s = static_cast<std::int32_t>(*o);
  r.updated_at = s.integer(5);
  r.connected_s = s.integer(6);
  r.charging_s = s.integer(7);
  r.energy_wh = s.integer(8);
  r.energy_source = station::energy_source_from(s.text(9)).value_or(station::EnergySource::Estimated);
  r.meter_start_wh = s.maybe(10);
  r.meter_end_wh = s.maybe(11);
  r.max_current_da = static_cast<std::int32_t>(s.integer(12));
  r.mean_current_da = static_cast<std::int32_t>(s.integer(13));
  r.phases = static_cast<int>(s.integer(14));
  r.modes = station::mode_set_from(s.text(15)).value_or(station::ModeSet{});
  r.solar_wh = s.maybe(16);
  if (!s.null(17)) r.stop_reason = station::stop_reason_from(s.text(17)).value_or(station::StopReason::Interrupted);
  r.stop_error = s.text(18);
  r.id_tag = s.text(19);
  r.ocpp_transaction_id = s.maybe(20);
  r.note = s.text(21);
  return r;
}

}  // namespace

std::optional<std::string> Database::save(const SessionRecord& r) {
  if (!db_) return "no session log";
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return error("begin");
  auto fail = [&](std::string_view what) {
    std::string e = error(what);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return e;
  };
  auto& before = statement("SELECT stop_reason IS NOT NULL FROM sessions WHERE id = ?");
  before.bind(static_cast<std::int64_t>(r.id));
  const int rc = before.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail("read session");
  const bool existed = rc == SQLITE_ROW;
  const bool was_closed = existed && before.integer(0) != 0;
  before.start();

  auto& up = statement(
      "INSERT INTO sessions (id, started_at, start_offset, ended_at, end_offset, updated_at, connected_s, charging_s, "
      "energy_wh, energy_source, meter_start_wh, meter_end_wh, max_current_da, mean_current_da, phases, modes, "
      "solar_wh, stop_reason, stop_error, id_tag, ocpp_transaction_id, note) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, start_offset = excluded.start_offset, "
      "ended_at = excluded.ended_at, end_offset = excluded.end_offset, updated_at = excluded.updated_at, "
      "connected_s = excluded.connected_s, charging_s = excluded.charging_s, energy_wh = excluded.energy_wh, "
      "energy_source = excluded.energy_source, meter_start_wh = excluded.meter_start_wh, "
      "meter_end_wh = excluded.meter_end_wh, max_current_da = excluded.max_current_da, "
      "mean_current_da = excluded.mean_current_da, phases = excluded.phases, modes = excluded.modes, "
      "solar_wh = excluded.solar_wh, stop_reason = excluded.stop_reason, stop_error = excluded.stop_error, "
      "id_tag = excluded.id_tag, ocpp_transaction_id = excluded.ocpp_transaction_id");
  up.bind(static_cast<std::int64_t>(r.id)).bind(r.started_at).bind(static_cast<std::int64_t>(r.start_offset_s));
  up.bind(r.ended_at).bind(r.end_offset_s).bind(r.updated_at).bind(r.connected_s).bind(r.charging_s);
  up.bind(r.energy_wh).bind(std::string{station::to_string(r.energy_source)});
  up.bind(r.meter_start_wh).bind(r.meter_end_wh);
  up.bind(static_cast<std::int64_t>(r.max_current_da)).bind(static_cast<std::int64_t>(r.mean_current_da));
  up.bind(static_cast<std::int64_t>(r.phases)).bind(station::to_string(r.modes)).bind(r.solar_wh);
  if (r.stop_reason) {
    up.bind(std::string{station::to_string(*r.stop_reason)});
  } else {
    up.bind_null();
  }
  up.bind(r.stop_error).bind(r.id_tag).bind(r.ocpp_transaction_id).bind(r.note);
  if (up.step() != SQLITE_DONE) return fail("save session " + std::to_string(r.id));

  const std::int64_t new_session = existed ? 0 : 1;
  const std::int64_t energy = r.stop_reason && !was_closed ? r.energy_wh : 0;
  if (new_session != 0 || energy != 0) {
    auto& t = statement("UPDATE totals SET sessions = sessions + ?, energy_wh = energy_wh + ? WHERE id = 1");
    t.bind(new_session).bind(energy);
    if (t.step() != SQLITE_DONE) return fail("totals");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  return std::nullopt;
}

std::variant<std::vector<SessionRecord>, std::string> Database::close_interrupted() {
  if (!db_) return std::string{"no session log"};
  std::vector<SessionRecord> open;
  {
    static const std::string sql = "SELECT " + std::string{kColumns} + " FROM sessions WHERE stop_reason IS NULL ORDER BY id";
    auto& q = statement(sql);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) open.push_back(read_row(q));
    if (rc != SQLITE_DONE) return error("read open sessions");
    q.start();
  }
  for (auto& r : open) {
    // Its last known values: the end is when they were taken.
    r.ended_at = r.updated_at;
    r.end_offset_s = r.start_offset_s;
    r.stop_reason = station::StopReason::Interrupted;
    if (auto e = save(r)) return *e;
  }
  return open;
}

std::variant<StoredTotals, std::string> Database::totals() {
  if (!db_) return std::string{"no session log"};
  StoredTotals t;
  auto& q = statement(
      "SELECT t.sessions, t.energy_wh, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'sessions'), 0) "
      "FROM totals t WHERE t.id = 1");
  const int rc = q.step();
  if (rc == SQLITE_ROW) {
    t.totals.sessions = static_cast<std::uint64_t>(q.integer(0));
    t.totals.energy_wh = q.integer(1);
    t.next_id = static_cast<std::uint64_t>(q.integer(2)) + 1;
  } else if (rc != SQLITE_DONE) {
    return error("read totals");
  } else {
    auto& ins = statement("INSERT INTO totals (id, sessions, energy_wh) VALUES (1, 0, 0)");
    if (ins.step() != SQLITE_DONE) return error("create totals");
  }
  q.start();
  return t;
}

std::variant<std::vector<SessionRecord>, std::string> Database::list(const station::SessionQuery& q) {
  if (!db_) return std::string{"no session log"};
  static const std::string sql = "SELECT " + std::string{kColumns} +
                                 " FROM sessions WHERE (?1 IS NULL OR started_at + start_offset >= ?1) AND "
                                 "(?2 IS NULL OR started_at + start_offset < ?2) "
                                 "ORDER BY started_at DESC, id DESC LIMIT ?3 OFFSET ?4";
  auto& s = statement(sql);
  s.bind(q.from ? std::optional<std::int64_t>{day_start(*q.from)} : std::nullopt);
  s.bind(q.to ? std::optional<std::int64_t>{day_start(*q.to + std::chrono::days{1})} : std::nullopt);
  s.bind(q.limit.value_or(-1)).bind(q.offset);
  std::vector<SessionRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_row(s));
  s.start();
  if (rc != SQLITE_DONE) return error("list sessions");
  return out;
}

std::variant<std::optional<SessionRecord>, std::string> Database::get(std::uint64_t id) {
  if (!db_) return std::string{"no session log"};
  static const std::string sql = "SELECT " + std::string{kColumns} + " FROM sessions WHERE id = ?";
  auto& s = statement(sql);
  s.bind(static_cast<std::int64_t>(id));
  const int rc = s.step();
  std::optional<SessionRecord> r;
  if (rc == SQLITE_ROW) r = read_row(s);
  s.start();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("read session");
  return r;
}

std::variant<std::vector<station::SummaryRow>, std::string> Database::summary(station::SummaryPeriod by,
                                                                              const station::SessionQuery& q) {
  if (!db_) return std::string{"no session log"};
  auto& s = statement(
      "SELECT strftime(?1, started_at + start_offset, 'unixepoch') AS period, COUNT(*), SUM(energy_wh), "
      "SUM(charging_s), SUM(solar_wh) FROM sessions WHERE (?2 IS NULL OR started_at + start_offset >= ?2) AND "
      "(?3 IS NULL OR started_at + start_offset < ?3) GROUP BY period ORDER BY period");
  s.bind(std::string{by == station::SummaryPeriod::Month ? "%Y-%m" : "%Y"});
  s.bind(q.from ? std::optional<std::int64_t>{day_start(*q.from)} : std::nullopt);
  s.bind(q.to ? std::optional<std::int64_t>{day_start(*q.to + std::chrono::days{1})} : std::nullopt);
  std::vector<station::SummaryRow> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    station::SummaryRow row;
    row.period = s.text(0);
    row.sessions = s.integer(1);
    row.energy_wh = s.integer(2);
    row.charging_s = s.integer(3);
    row.solar_wh = s.maybe(4);
    out.push_back(std::move(row));
  }
  s.start();
  if (rc != SQLITE_DONE) return error("summary");
  return out;
}

std::variant<bool, std::string> Database::set_note(std::uint64_t id, const std::string& note) {
  if (!db_) return std::string{"no session log"};
  auto& s = statement("UPDATE sessions SET note = ? WHERE id = ?");
  s.bind(note).bind(static_cast<std::int64_t>(id));
  if (s.step() != SQLITE_DONE) return error("save the note");
  return sqlite3_changes(db_) > 0;
}

std::variant<std::int64_t, std::string> Database::prune(int keep_days, int keep_count, std::int64_t now_epoch) {
  if (!db_) return std::string{"no session log"};
  std::int64_t gone = 0;
  if (keep_days > 0) {
    auto& s = statement("DELETE FROM sessions WHERE stop_reason IS NOT NULL AND ended_at < ?");
    s.bind(now_epoch - static_cast<std::int64_t>(keep_days) * 86400);
    if (s.step() != SQLITE_DONE) return error("retention by age");
    gone += sqlite3_changes(db_);
  }
  if (keep_count > 0) {
    auto& s = statement(
        "DELETE FROM sessions WHERE stop_reason IS NOT NULL AND id NOT IN "
        "(SELECT id FROM sessions WHERE stop_reason IS NOT NULL ORDER BY id DESC LIMIT ?)");
    s.bind(static_cast<std::int64_t>(keep_count));
    if (s.step() != SQLITE_DONE) return error("retention by count");
    gone += sqlite3_changes(db_);
  }
  return gone;
}

}  // namespace evsed::sessions
