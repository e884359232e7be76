// The REST parameter parser (interfaces.md §2.0) and the GET /settings mapping rules.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller_rig.hpp"
#include "evsed/http/params.hpp"
#include "evsed/http/settings_json.hpp"

namespace evsed::http {
namespace {

station::Snapshot snapshot_of(const core::Status& s) {
  station::Snapshot snap;
  snap.status = s;
  return snap;
}

TEST(Params, AtolLikeTheFirmware) {
  EXPECT_EQ(parse_atol("83.0"), 83);
  EXPECT_EQ(parse_atol("abc"), 0);
  EXPECT_EQ(parse_atol("  -12x"), -12);
  EXPECT_EQ(parse_atol("+7"), 7);
  EXPECT_EQ(parse_atol(""), 0);
  EXPECT_EQ(parse_atol("99999999999999999999999"), 1'000'000'000'000LL);
}

TEST(Params, NamesAreCaseInsensitiveAndTheFirstWins) {
  auto p = Params::parse("Mode=3&mode=1&STOP_TIMER=5");
  EXPECT_EQ(p.number("mode"), 3);
  EXPECT_EQ(p.get("stop_timer"), "5");
  EXPECT_FALSE(p.has("backlight"));
}

TEST(Params, BareKeysAreEmptyAndBadEscapesAreAbsent) {
  auto p = Params::parse("1&a=%zz&b=%41%2b+c&d=");
  EXPECT_TRUE(p.has("1"));
  EXPECT_EQ(p.get("1"), "");
  EXPECT_FALSE(p.has("a"));
  EXPECT_EQ(p.get("b"), "A+ c");
  EXPECT_EQ(p.get("d"), "");
  // Too long: not used, but named, so the request can be refused with it.
  const auto big = Params::parse("x=" + std::string(Params::kMaxValue + 1, 'a') + "&y=1");
  EXPECT_FALSE(big.has("x"));
  EXPECT_EQ(big.oversized(), "x");
  EXPECT_EQ(big.number("y"), 1);
  EXPECT_EQ(Params::parse("x=" + std::string(Params::kMaxValue, 'a')).has("x"), true);
}

TEST(Params, QueryComesBeforeTheFormBody) {
  auto p = Params::parse("mode=1", "mode=2&stop_timer=4");
  EXPECT_EQ(p.number("mode"), 1);
  EXPECT_EQ(p.number("stop_timer"), 4);
}

TEST(SettingsJson, Less6AMovesIntoTheStateName) {
  core::Settings s = core::rig_defaults();
  s.has_mains_meter = true;
  s.mode = core::ChargeMode::Smart;
  core::ControllerRig rig(s);
  rig.car = core::PilotLevel::V9;
  rig.run_for(core::Seconds{3});  // no mains data: refused with LESS_6A
  const auto j = nlohmann::json::parse(settings_json(snapshot_of(rig.status())));
  EXPECT_EQ(j["evse"]["state"], "Charging Stopped - No Power Available");
  EXPECT_EQ(j["evse"]["error"], "None");
  EXPECT_EQ(j["evse"]["error_id"], 0);
  EXPECT_EQ(j["evsed"]["errors"][0], "less_6a");
}

TEST(SettingsJson, ErrorIdIsTheHighestBit) {
  core::ControllerRig rig;
  rig.handle(core::TemperatureReading{70});
  const auto j = nlohmann::json::parse(settings_json(snapshot_of(rig.status())));
  EXPECT_EQ(j["evse"]["error"], "Temperature High");
  EXPECT_EQ(j["evse"]["error_id"], 3);
}

TEST(SettingsJson, ModeIdFollowsAccessFirst) {
  auto id = [](core::AccessStatus a, core::ChargeMode m) { return rest_mode(core::mode_choice(a, m)).id; };
  EXPECT_EQ(id(core::AccessStatus::Pause, core::ChargeMode::Smart), 4);
  EXPECT_EQ(id(core::AccessStatus::Off, core::ChargeMode::Smart), 0);
  EXPECT_EQ(id(core::AccessStatus::On, core::ChargeMode::Smart), 3);
  EXPECT_EQ(id(core::AccessStatus::On, core::ChargeMode::Solar), 2);
  EXPECT_EQ(rest_mode(core::ModeChoice::Normal).name, "NORMAL");
  EXPECT_EQ(mode_choice_from_rest_id(2), core::ModeChoice::Solar);
  EXPECT_EQ(mode_choice_from_rest_id(5), std::nullopt);
}

}  // namespace
}  // namespace evsed::http
