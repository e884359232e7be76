// The session log's SQLite file on disk: round trips, totals, filters by the
// local day, summaries, retention, notes with SQL in them, interrupted
// sessions, every older schema migrated, a newer one left alone, a corrupt
// file set aside.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "evsed/sessions/database.hpp"

namespace evsed::sessions {
namespace {

namespace fs = std::filesystem;
using station::SessionRecord;
using station::StopReason;

constexpr std::int64_t kDay = 86400;
// 2026-11-01 00:00:00 UTC
constexpr std::int64_t kNov1 = 1'793'491'200;

class SessionDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("evsed-db-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                       "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    path = (dir / "sessions.db").string();
  }
  void TearDown() override { fs::remove_all(dir); }

  static SessionRecord closed(std::uint64_t id, std::int64_t start, std::int64_t wh, std::int32_t offset = 3600) {
    SessionRecord r;
    r.id = id;
    r.started_at = start;
    r.start_offset_s = offset;
    r.ended_at = start + 3600;
    r.end_offset_s = offset;
    r.updated_at = start + 3600;
    r.connected_s = 3600;
    r.charging_s = 3000;
    r.energy_wh = wh;
    r.max_current_da = 160;
    r.mean_current_da = 150;
    r.phases = 3;
    r.modes.add(core::ChargeMode::Normal);
    r.stop_reason = StopReason::Unplugged;
    return r;
  }

  template <class T>
  static T value(std::variant<T, std::string> v) {
    if (auto* e = std::get_if<std::string>(&v)) ADD_FAILURE() << *e;
    return std::holds_alternative<T>(v) ? std::get<T>(std::move(v)) : T{};
  }

  static std::string sql_text(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out = t ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  fs::path dir;
  std::string path;
};

TEST_F(SessionDatabase, AFreshFileIsCreatedInWalMode) {
  Database db(path);
  const auto r = db.open(kNov1);
  EXPECT_EQ(r.outcome, OpenReport::Outcome::Created) << r.message;
  ASSERT_TRUE(db.usable());
  EXPECT_EQ(sql_text(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(sql_text(path, "PRAGMA user_version"), std::to_string(latest_schema_version()));
  const auto t = value(db.totals());
  EXPECT_EQ(t.next_id, 1U);
  EXPECT_EQ(t.totals.sessions, 0U);
}

TEST_F(SessionDatabase, ARecordComesBackAsItWasSaved) {
  Database db(path);
  db.open(kNov1);
  SessionRecord r = closed(1, kNov1, 7345);
  r.energy_source = station::EnergySource::EvMeter;
  r.meter_start_wh = 100'000;
  r.meter_end_wh = 107'345;
  r.solar_wh = 2000;
  r.modes.add(core::ChargeMode::Solar);
  r.stop_reason = StopReason::Error;
  r.stop_error = "temp_high";
  r.id_tag = "04A1B2C3";
  r.ocpp_transaction_id = 77;
  r.note = "Dienstwagen – März";
  ASSERT_FALSE(db.save(r));
  const auto back = value(db.get(1));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(value(db.get(2))) << "no such session";
}

TEST_F(SessionDatabase, TotalsCountEachSessionOnceAndItsEnergyAtTheClose) {
  Database db(path);
  db.open(kNov1);
  SessionRecord running = closed(1, kNov1, 500);
  running.ended_at.reset();
  running.end_offset_s.reset();
  running.stop_reason.reset();
  ASSERT_FALSE(db.save(running));
  running.energy_wh = 900;
  ASSERT_FALSE(db.save(running));  // a periodic update
  auto t = value(db.totals());
  EXPECT_EQ(t.totals.sessions, 1U);
  EXPECT_EQ(t.totals.energy_wh, 0) << "an open session's energy is not in the totals yet";
  ASSERT_FALSE(db.save(closed(1, kNov1, 1000)));
  ASSERT_FALSE(db.save(closed(1, kNov1, 1000)));  // saved again (a retry): counted once
  t = value(db.totals());
  EXPECT_EQ(t.totals.sessions, 1U);
  EXPECT_EQ(t.totals.energy_wh, 1000);
  EXPECT_EQ(t.next_id, 2U);
}

TEST_F(SessionDatabase, AnUpdateKeepsTheUsersNote) {
  Database db(path);
  db.open(kNov1);
  auto r = closed(1, kNov1, 10);
  r.stop_reason.reset();
  r.ended_at.reset();
  ASSERT_FALSE(db.save(r));
  EXPECT_TRUE(value(db.set_note(1, "company car")));
  ASSERT_FALSE(db.save(r));  // the session log's next update carries no note
  EXPECT_EQ(value(db.get(1))->note, "company car");
  EXPECT_FALSE(value(db.set_note(42, "x"))) << "no such session";
}

TEST_F(SessionDatabase, SqlInANoteIsStoredAsText) {
  Database db(path);
  db.open(kNov1);
  ASSERT_FALSE(db.save(closed(1, kNov1, 10)));
  const std::string evil = "'); DROP TABLE sessions; -- \" ; DELETE FROM totals; %_ \\";
  EXPECT_TRUE(value(db.set_note(1, evil)));
  EXPECT_EQ(value(db.get(1))->note, evil);
  EXPECT_EQ(value(db.list({})).size(), 1U);
  EXPECT_EQ(value(db.totals()).totals.sessions, 1U);
}

TEST_F(SessionDatabase, OpenSessionsOfAnEndedRunAreClosedAsInterrupted) {
  {
    Database db(path);
    db.open(kNov1);
    auto r = closed(1, kNov1, 1234);
    r.ended_at.reset();
    r.end_offset_s.reset();
    r.stop_reason.reset();
    r.updated_at = kNov1 + 600;
    ASSERT_FALSE(db.save(r));
    ASSERT_FALSE(db.save(closed(2, kNov1 - kDay, 50)));
  }  // as after kill -9: nothing else happened
  Database db(path);
  EXPECT_EQ(db.open(kNov1 + kDay).outcome, OpenReport::Outcome::Opened);
  const auto closed_now = value(db.close_interrupted());
  ASSERT_EQ(closed_now.size(), 1U);
  EXPECT_EQ(closed_now[0].id, 1U);
  EXPECT_EQ(closed_now[0].stop_reason, StopReason::Interrupted);
  EXPECT_EQ(closed_now[0].ended_at, kNov1 + 600) << "ends when its values were last taken";
  EXPECT_EQ(closed_now[0].energy_wh, 1234);
  EXPECT_EQ(value(db.get(1))->stop_reason, StopReason::Interrupted);
  EXPECT_EQ(value(db.totals()).totals.energy_wh, 1284);
  EXPECT_TRUE(value(db.close_interrupted()).empty()) << "once";
}

TEST_F(SessionDatabase, ListsAreNewestFirstAndFilteredByTheLocalDay) {
  Database db(path);
  db.open(kNov1);
  // 2026-10-31 23:30 UTC is 2026-11-01 00:30 in UTC+1: a November session.
  ASSERT_FALSE(db.save(closed(1, kNov1 - 1800, 100, 3600)));
  ASSERT_FALSE(db.save(closed(2, kNov1 + 10 * 3600, 200, 3600)));
  ASSERT_FALSE(db.save(closed(3, kNov1 + kDay + 3600, 300, 3600)));
  // 2026-11-30 23:30 UTC in UTC+1 is 1 December.
  ASSERT_FALSE(db.save(closed(4, kNov1 + 29 * kDay + 23 * 3600 + 1800, 400, 3600)));

  auto ids = [&](station::SessionQuery q) {
    std::vector<std::uint64_t> out;
    for (const auto& r : value(db.list(q))) out.push_back(r.id);
    return out;
  };
  using namespace std::chrono;
  const station::LocalDay nov1 = sys_days{2026y / November / 1};
  EXPECT_EQ(ids({}), (std::vector<std::uint64_t>{4, 3, 2, 1}));
  EXPECT_EQ(ids({nov1, nov1, std::nullopt, 0}), (std::vector<std::uint64_t>{2, 1}));
  EXPECT_EQ(ids({nov1 + days{1}, std::nullopt, std::nullopt, 0}), (std::vector<std::uint64_t>{4, 3}));
  EXPECT_EQ(ids({std::nullopt, sys_days{2026y / November / 30}, std::nullopt, 0}), (std::vector<std::uint64_t>{3, 2, 1}));
  EXPECT_EQ(ids({sys_days{2026y / December / 1}, sys_days{2026y / December / 1}, std::nullopt, 0}),
            (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(ids({std::nullopt, std::nullopt, 2, 0}), (std::vector<std::uint64_t>{4, 3}));
  EXPECT_EQ(ids({std::nullopt, std::nullopt, 2, 2}), (std::vector<std::uint64_t>{2, 1}));
  EXPECT_EQ(ids({std::nullopt, std::nullopt, 10, 1'000'000}), (std::vector<std::uint64_t>{}));
}

TEST_F(SessionDatabase, MonthAndYearTotals) {
  Database db(path);
  db.open(kNov1);
  ASSERT_FALSE(db.save(closed(1, kNov1 - 1800, 1000, 3600)));   // November (local)
  ASSERT_FALSE(db.save(closed(2, kNov1 - 5 * kDay, 2000, 3600)));  // October
  auto with_solar = closed(3, kNov1 + 3 * kDay, 4000, 3600);
  with_solar.solar_wh = 1500;
  ASSERT_FALSE(db.save(with_solar));
  const auto months = value(db.summary(station::SummaryPeriod::Month, {}));
  ASSERT_EQ(months.size(), 2U);
  EXPECT_EQ(months[0].period, "2026-10");
  EXPECT_EQ(months[0].sessions, 1);
  EXPECT_EQ(months[0].energy_wh, 2000);
  EXPECT_FALSE(months[0].solar_wh);
  EXPECT_EQ(months[1].period, "2026-11");
  EXPECT_EQ(months[1].sessions, 2);
  EXPECT_EQ(months[1].energy_wh, 5000);
  EXPECT_EQ(months[1].solar_wh, 1500);
  const auto years = value(db.summary(station::SummaryPeriod::Year, {}));
  ASSERT_EQ(years.size(), 1U);
  EXPECT_EQ(years[0].period, "2026");
  EXPECT_EQ(years[0].energy_wh, 7000);
  EXPECT_EQ(years[0].charging_s, 9000);
}

TEST_F(SessionDatabase, RetentionByCountAndAgeKeepsTheTotalsAndNeverReusesAnId) {
  Database db(path);
  db.open(kNov1);
  for (std::uint64_t id = 1; id <= 10; ++id) {
    ASSERT_FALSE(db.save(closed(id, kNov1 + static_cast<std::int64_t>(id) * kDay, 100)));
  }
  auto running = closed(11, kNov1 - 400 * kDay, 5);  // open, however old: never deleted
  running.stop_reason.reset();
  running.ended_at.reset();
  ASSERT_FALSE(db.save(running));
  EXPECT_EQ(value(db.prune(0, 5, kNov1)), 5);
  EXPECT_EQ(value(db.list({})).size(), 6U);
  EXPECT_EQ(value(db.prune(0, 0, kNov1)), 0) << "0 and 0: keep everything";
  // Closed before 2026-11-09 (kNov1 + 8 days + 1 h) go at 3 days' age on 11-12.
  EXPECT_EQ(value(db.prune(3, 0, kNov1 + 11 * kDay)), 2);
  const auto left = value(db.list({}));
  ASSERT_EQ(left.size(), 4U);
  EXPECT_EQ(left.back().id, 11U);
  const auto t = value(db.totals());
  EXPECT_EQ(t.totals.sessions, 11U);
  EXPECT_EQ(t.totals.energy_wh, 1000);
  EXPECT_EQ(t.next_id, 12U);
}

TEST_F(SessionDatabase, EveryOlderSchemaIsMigratedWithItsData) {
  for (int from = 0; from < latest_schema_version(); ++from) {
    fs::remove(path);
    fs::remove(path + "-wal");
    fs::remove(path + "-shm");
    {
      sqlite3* raw = nullptr;
      ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
      for (const auto& m : kMigrations) {
        if (m.to_version > from) break;
        ASSERT_EQ(sqlite3_exec(raw, std::string{m.sql}.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
      }
      if (from >= 1) {
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO sessions (started_at, start_offset, ended_at, end_offset, updated_at, "
                               "connected_s, charging_s, energy_wh, energy_source, max_current_da, mean_current_da, "
                               "phases, modes, stop_reason, note) VALUES "
                               "(1793491200, 3600, 1793494800, 3600, 1793494800, 3600, 3000, 4321, 'estimated', 160, "
                               "150, 3, 'normal', 'unplugged', 'kept');",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
      }
      sqlite3_exec(raw, ("PRAGMA user_version = " + std::to_string(from)).c_str(), nullptr, nullptr, nullptr);
      sqlite3_close(raw);
    }
    Database db(path);
    const auto r = db.open(kNov1);
    ASSERT_TRUE(db.usable()) << "from " << from << ": " << r.message;
    EXPECT_EQ(sql_text(path, "PRAGMA user_version"), std::to_string(latest_schema_version())) << from;
    const auto t = value(db.totals());
    if (from >= 1) {
      EXPECT_EQ(r.migrated_from, from);
      EXPECT_EQ(value(db.get(1))->note, "kept");
      EXPECT_EQ(t.totals.sessions, 1U) << "totals filled from the rows";
      EXPECT_EQ(t.totals.energy_wh, 4321);
      EXPECT_EQ(t.next_id, 2U);
    } else {
      EXPECT_EQ(t.totals.sessions, 0U);
    }
    ASSERT_FALSE(db.save(closed(t.next_id, kNov1 + kDay, 1)));
  }
}

TEST_F(SessionDatabase, ANewerSchemaIsLeftAlone) {
  {
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_exec(raw, "CREATE TABLE future (x); PRAGMA user_version = 99;", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  std::ifstream in(path, std::ios::binary);
  const std::string before{std::istreambuf_iterator<char>(in), {}};
  Database db(path);
  const auto r = db.open(kNov1);
  EXPECT_EQ(r.outcome, OpenReport::Outcome::TooNew);
  EXPECT_NE(r.message.find("newer"), std::string::npos) << r.message;
  EXPECT_FALSE(db.usable());
  EXPECT_TRUE(db.save(closed(1, kNov1, 1))) << "nothing is written";
  std::ifstream again(path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), {}), before);
}

TEST_F(SessionDatabase, ACorruptFileIsMovedAsideAndAFreshLogStarted) {
  {
    std::ofstream out(path, std::ios::binary);
    out << "this is not a database, but it was once: "
        << std::string(8192, '\x5a');
  }
  Database db(path);
  const auto r = db.open(kNov1);
  EXPECT_EQ(r.outcome, OpenReport::Outcome::SetAside) << r.message;
  EXPECT_EQ(r.set_aside_as, path + ".corrupt-20261101T000000Z");
  EXPECT_TRUE(fs::exists(r.set_aside_as));
  EXPECT_NE(r.message.find(r.set_aside_as), std::string::npos);
  ASSERT_TRUE(db.usable());
  EXPECT_FALSE(db.save(closed(1, kNov1, 1)));
  EXPECT_EQ(value(db.list({})).size(), 1U);
}

TEST_F(SessionDatabase, ADamagedDatabaseIsMovedAsideToo) {
  {
    Database db(path);
    db.open(kNov1);
    for (std::uint64_t id = 1; id <= 200; ++id) ASSERT_FALSE(db.save(closed(id, kNov1 + static_cast<std::int64_t>(id), 1)));
  }
  {
    // Checkpointed into the main file; then the pages after the schema are overwritten.
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4096);
    const std::string junk(4096 * 3, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  Database db(path);
  const auto r = db.open(kNov1);
  EXPECT_EQ(r.outcome, OpenReport::Outcome::SetAside) << r.message;
  EXPECT_TRUE(db.usable());
}

TEST_F(SessionDatabase, AMissingDirectoryFailsWithoutCreatingIt) {
  Database db((dir / "nowhere" / "sessions.db").string());
  const auto r = db.open(kNov1);
  EXPECT_EQ(r.outcome, OpenReport::Outcome::Failed);
  EXPECT_FALSE(db.usable());
  EXPECT_FALSE(fs::exists(dir / "nowhere"));
}

}  // namespace
}  // namespace evsed::sessions
