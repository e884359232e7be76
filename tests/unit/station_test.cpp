// The Station: patch results per field, the change feed, snapshot versions,
// and persistence (a change is answered once it is on disk, in order).

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fstream>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "station_rig.hpp"

namespace evsed::app {
namespace {

using core::Field;
using core::FieldResult;
using station::ChangeKind;

// A value every field takes (within its range and the rig's settings), and one it must refuse.
std::pair<std::int64_t, std::int64_t> good_and_bad(const core::FieldSpec& f) {
  switch (f.field) {
    case Field::OverrideCurrent: return {100, 30};  // 10 A; 3 A is below current_min
    case Field::MaxSumMains: return {40, 5};        // 0 or 10..600
    case Field::Mode: return {static_cast<std::int64_t>(core::ModeChoice::Smart), 9};
    default: return {f.range.lo == -1 ? 100 : f.range.lo + (f.range.hi > f.range.lo ? 1 : 0), f.range.hi + 1};
  }
}

TEST(Station, EveryFieldIsAppliedOrRefusedWithATypedResult) {
  for (const auto& f : core::kFields) {
    StationRig rig;
    const auto [good, bad] = good_and_bad(f);
    station::SettingsChange ok;
    if (f.field == Field::CapacityIntervals) {
      ok.patch.set_intervals({{420, 2400}});
    } else {
      ok.patch.set(f.field, good);
    }
    const auto applied = rig.change(ok);
    ASSERT_FALSE(applied.failure) << f.name;
    const FieldResult* r = applied.field(f.field);
    ASSERT_NE(r, nullptr) << f.name;
    EXPECT_EQ(r->outcome, FieldResult::Outcome::Applied) << f.name << ": " << r->reason;
    if (f.field == Field::CapacityIntervals) {
      EXPECT_EQ(r->value, 1);
      EXPECT_EQ(applied.after->status.settings.capacity_intervals.size(), 1u);
    } else {
      EXPECT_EQ(r->value, good) << f.name;
    }

    if (f.unit == core::FieldUnit::List || f.field == Field::DisableOverrideCurrent) continue;
    StationRig again;
    const auto before = again.station.snapshot()->status.settings;
    const auto refused = again.set(f.field, bad);
    const FieldResult* rr = refused.field(f.field);
    ASSERT_NE(rr, nullptr) << f.name;
    EXPECT_EQ(rr->outcome, FieldResult::Outcome::Rejected) << f.name;
    EXPECT_FALSE(rr->reason.empty()) << f.name;
    EXPECT_EQ(refused.after->status.settings, before) << f.name << ": a refused value changed nothing";
  }
}

TEST(Station, ChangesArriveInOrderAndNoneIsLostInOneTurn) {
  StationRig rig;
  std::vector<station::Change> seen;
  auto sub = rig.station.subscribe([&](const station::Change& c) { seen.push_back(c); });
  const auto v0 = rig.station.snapshot()->version;
  // Three things in one loop turn: a mains reading, a setting, the reading's meter coming fresh.
  station::MeterFeed feed;
  feed.currents = std::array<std::int64_t, 3>{50, 60, 70};
  ASSERT_TRUE(rig.station.feed_meter(feed).ok());
  std::optional<station::SettingsOutcome> out;
  rig.station.change_settings([] {
    station::SettingsChange c;
    c.patch.set(Field::SolarStopTime, 7);
    return c;
  }(), [&](station::SettingsOutcome o) { out = std::move(o); });
  rig.files.run_posted();
  ASSERT_TRUE(out);
  std::vector<ChangeKind> kinds;
  for (const auto& c : seen) kinds.push_back(c.kind);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), ChangeKind::MeterFresh), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), ChangeKind::Settings), kinds.end());
  EXPECT_GE(std::count(kinds.begin(), kinds.end(), ChangeKind::Status), 2);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].version, seen[i - 1].version);
  EXPECT_GT(seen.front().version, v0);
  EXPECT_EQ(seen.back().version, rig.station.snapshot()->version);
}

TEST(Station, ARefusedPatchRaisesNothing) {
  StationRig rig;
  rig.run_for(core::Milliseconds{300});  // the inputs' first levels are known (debounced: 120 ms)
  rig.station.control_cycle(rig.clock.steady_now);  // and the regulation has run once
  std::vector<station::Change> seen;
  auto sub = rig.station.subscribe([&](const station::Change& c) { seen.push_back(c); });
  const auto v = rig.station.snapshot()->version;
  const auto o = rig.set(Field::CurrentMin, 99);
  EXPECT_FALSE(o.field(Field::CurrentMin)->applied());
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(rig.station.snapshot()->version, v);
  EXPECT_EQ(rig.files.writes, 0u) << "nothing to save";
}

TEST(Station, TheVersionMovesOnlyWithWhatIsObservable) {
  StationRig rig;
  rig.run_for(core::Milliseconds{300});  // the inputs' first levels are known (debounced: 120 ms)
  const auto idle = rig.station.snapshot();
  rig.run_for(core::Milliseconds{100});
  EXPECT_EQ(rig.station.snapshot()->version, idle->version) << "idle ticks change nothing";
  EXPECT_EQ(rig.station.snapshot().get(), idle.get()) << "the same snapshot is handed out";
  rig.world.car().plug_in();
  rig.run_for(core::Milliseconds{1000});
  const auto plugged = rig.station.snapshot();
  EXPECT_GT(plugged->version, idle->version);
  EXPECT_TRUE(plugged->status.car_connected);
  EXPECT_EQ(idle->status.car_connected, false) << "a snapshot handed out never changes";
}

TEST(Station, SessionsAndErrorsAreAnnounced) {
  StationRig rig;
  std::vector<station::Change> seen;
  auto sub = rig.station.subscribe([&](const station::Change& c) { seen.push_back(c); });
  rig.world.car().plug_in();
  rig.run_for(core::Milliseconds{1000});
  rig.world.board().set_temperature(80);
  rig.clock.steady_now += core::Seconds{1};
  rig.station.housekeeping(rig.clock.steady_now);
  rig.world.car().unplug();
  rig.run_for(core::Milliseconds{7000});  // after the 5 s pilot disconnect of B1
  auto has = [&](ChangeKind k, std::optional<core::ErrorFlag> e = std::nullopt) {
    return std::any_of(seen.begin(), seen.end(), [&](const auto& c) { return c.kind == k && (!e || c.error == e); });
  };
  EXPECT_TRUE(has(ChangeKind::SessionStarted));
  EXPECT_TRUE(has(ChangeKind::ErrorRaised, core::ErrorFlag::TempHigh));
  EXPECT_TRUE(has(ChangeKind::SessionEnded));
}

TEST(Station, AChangeThatCannotBeSavedIsNotApplied) {
  StationRig rig;
  std::vector<station::Change> seen;
  auto sub = rig.station.subscribe([&](const station::Change& c) { seen.push_back(c); });
  rig.files.failure = "write settings.json.tmp: No space left on device";
  const auto before = rig.station.snapshot()->status.settings;
  const auto o = rig.set(Field::SolarStopTime, 9);
  ASSERT_TRUE(o.failure);
  EXPECT_NE(o.failure->find("No space left"), std::string::npos);
  EXPECT_TRUE(o.fields.empty());
  EXPECT_EQ(rig.station.snapshot()->status.settings, before);
  EXPECT_TRUE(std::none_of(seen.begin(), seen.end(), [](const auto& c) { return c.kind == ChangeKind::Settings; }));
  rig.files.failure.reset();
  EXPECT_TRUE(rig.set(Field::SolarStopTime, 9).field(Field::SolarStopTime)->applied());
}

TEST(Station, VolatileChangesNeedNoDisk) {
  StationRig rig;
  const auto writes = rig.files.writes;
  std::optional<station::SettingsOutcome> out;
  station::SettingsChange c;
  c.patch.set(Field::OverrideCurrent, 80);
  c.panel.custom_button = true;
  rig.station.change_settings(c, [&](station::SettingsOutcome o) { out = std::move(o); });
  ASSERT_TRUE(out) << "answered at once: override current and panel values are not kept";
  EXPECT_EQ(rig.files.writes, writes);
  EXPECT_TRUE(out->after->device.panel.custom_button);
  EXPECT_EQ(out->after->status.override_current.value(), 80);
}

TEST(Station, DelayedTimesADstGapSkipsAreRefused) {
  StationRig rig;
  using namespace std::chrono;
  rig.clock.local = local_days{year{2027} / 3 / 27} + hours{12};
  rig.clock.gap_start = local_days{year{2027} / 3 / 28} + hours{2};
  station::SettingsChange c;
  c.patch.set(Field::Mode, core::ModeChoice::Normal);
  c.patch.delayed.start_given = true;
  c.patch.delayed.start = local_days{year{2027} / 3 / 28} + hours{1} + minutes{30};
  c.patch.delayed.stop_given = true;
  c.patch.delayed.stop = local_days{year{2027} / 3 / 28} + hours{2} + minutes{15};
  c.patch.delayed.repeat = 1;
  const auto o = rig.change(c);
  ASSERT_TRUE(o.delayed);
  EXPECT_TRUE(o.delayed->stop);
  EXPECT_NE(o.delayed->reason.find("does not exist"), std::string::npos);
  EXPECT_EQ(o.field(Field::Mode)->outcome, FieldResult::Outcome::Rejected);
  EXPECT_FALSE(o.after->status.settings.delayed.start);
  // A stop before the start (in real time) is refused too; a good pair is taken.
  c.patch.delayed.stop = local_days{year{2027} / 3 / 28} + hours{1};
  EXPECT_TRUE(rig.change(c).delayed);
  c.patch.delayed.stop = local_days{year{2027} / 3 / 28} + hours{4};
  const auto good = rig.change(c);
  EXPECT_FALSE(good.delayed);
  EXPECT_TRUE(good.field(Field::Mode)->applied());
  EXPECT_TRUE(good.after->starttime_epoch);
  EXPECT_GT(*good.after->stoptime_epoch, *good.after->starttime_epoch);
}

TEST(Station, MeterFeedsAreJudgedHere) {
  StationRig rig;
  station::MeterFeed ev;
  ev.role = core::MeterRole::Ev;
  ev.currents = std::array<std::int64_t, 3>{1, 2, 3};
  const auto not_api = rig.station.feed_meter(ev);
  EXPECT_EQ(not_api.refusal, station::FeedRefusal::NotApi);
  EXPECT_NE(not_api.reason.find("not API (it is Disabled)"), std::string::npos);
  station::MeterFeed mains;
  mains.currents = std::array<std::int64_t, 3>{2000, -2000, 0};
  EXPECT_TRUE(rig.station.feed_meter(mains).ok()) << "the range is inclusive, the same for REST and MQTT";
  mains.currents = std::array<std::int64_t, 3>{2001, 0, 0};
  EXPECT_EQ(rig.station.feed_meter(mains).refusal, station::FeedRefusal::CurrentOutOfRange);
  EXPECT_EQ(rig.station.snapshot()->status.mains.last->currents[0].value(), 2000);
  EXPECT_FALSE(rig.station.feed_home_battery(-2001).ok());
  EXPECT_TRUE(rig.station.feed_home_battery(-500).ok());
}

TEST(Station, MqttCredentialsStayWithTheirBroker) {
  StationRig rig;
  std::optional<station::MqttOutcome> out;
  auto change = [&](station::MqttChange c) {
    out.reset();
    rig.station.change_mqtt(std::move(c), [&](station::MqttOutcome o) { out = std::move(o); });
    rig.files.run_posted();
    return *out;
  };
  station::MqttChange first;
  first.host = "broker.a";
  first.username = "owner";
  first.password = "secret";
  EXPECT_FALSE(change(first).credentials_cleared);
  EXPECT_EQ(rig.station.mqtt_connection().settings.password, "secret");
  station::MqttChange moved;
  moved.host = "broker.b";
  const auto o = change(moved);
  EXPECT_TRUE(o.credentials_cleared);
  EXPECT_EQ(rig.station.mqtt_connection().settings.password, "");
  EXPECT_FALSE(rig.station.snapshot()->device.mqtt.password_set);
  station::MqttChange bad;
  bad.password = std::string{"p\xff"};
  EXPECT_TRUE(change(bad).refused);
  EXPECT_EQ(rig.station.mqtt_connection().settings.host, "broker.b");
  EXPECT_EQ(rig.station.snapshot()->device.mqtt.username, "");
  EXPECT_EQ(rig.station.snapshot()->device.mqtt.host, "broker.b");
}

// The real FileWriter on a temporary directory: rapid patches are answered in
// order, each once it is on disk, and the file ends as the last acknowledged one.
TEST(StationPersistence, RapidPatchesEndOnDiskAsTheLastAcknowledged) {
  const auto dir = std::filesystem::temp_directory_path() / ("evsed-persist-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  boost::asio::io_context io;
  FileWriter writer([&](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
  StationRig rig(station_rig_settings(), &writer, dir.string());
  std::vector<std::int64_t> acknowledged;
  for (int i = 0; i < 60; ++i) {
    const std::int64_t value = i % 61;
    station::SettingsChange c;
    c.patch.set(Field::SolarStopTime, value);
    rig.station.change_settings(c, [&acknowledged, value, &dir](station::SettingsOutcome o) {
      ASSERT_FALSE(o.failure);
      // When it is answered, the file already holds it or a later value.
      std::ifstream in(dir / "settings.json");
      const auto j = nlohmann::json::parse(in);
      EXPECT_GE(j["solar_stop_time"].get<std::int64_t>(), value);
      acknowledged.push_back(value);
    });
    if (i % 7 == 0) {
      io.restart();
      io.poll();
    }
  }
  for (int turns = 0; acknowledged.size() < 60 && turns < 1000; ++turns) {
    writer.drain();
    io.restart();
    io.poll();
  }
  ASSERT_EQ(acknowledged.size(), 60u);
  EXPECT_TRUE(std::is_sorted(acknowledged.begin(), acknowledged.end())) << "answered in the order sent";
  std::ifstream in(dir / "settings.json");
  EXPECT_EQ(nlohmann::json::parse(in)["solar_stop_time"], acknowledged.back());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace evsed::app
