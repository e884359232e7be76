// The REST parameter parser (interfaces.md §2.0) and the GET /settings mapping rules.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller_rig.hpp"
#include "evsed/http/params.hpp"
#include "evsed/http/settings_json.hpp"

namespace evsed::http {
namespace {

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
  EXPECT_EQ(Params::parse("x=" + std::string(2048, 'a')).has("x"), false);
  EXPECT_EQ(Params::parse("x=" + std::string(2047, 'a')).has("x"), true);
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
  const auto j = nlohmann::json::parse(settings_json(rig.status(), DeviceView{}));
  EXPECT_EQ(j["evse"]["state"], "Charging Stopped - No Power Available");
  EXPECT_EQ(j["evse"]["error"], "None");
  EXPECT_EQ(j["evse"]["error_id"], 0);
  EXPECT_EQ(j["evsed"]["errors"][0], "less_6a");
}

TEST(SettingsJson, ErrorIdIsTheHighestBit) {
  core::ControllerRig rig;
  rig.handle(core::TemperatureReading{70});
  const auto j = nlohmann::json::parse(settings_json(rig.status(), DeviceView{}));
  EXPECT_EQ(j["evse"]["error"], "Temperature High");
  EXPECT_EQ(j["evse"]["error_id"], 3);
}

TEST(SettingsJson, ModeIdFollowsAccessFirst) {
  core::Status s;
  s.access = core::AccessStatus::Pause;
  s.mode = core::ChargeMode::Smart;
  EXPECT_EQ(rest_mode_id(s), 4);
  s.access = core::AccessStatus::Off;
  EXPECT_EQ(rest_mode_id(s), 0);
  s.access = core::AccessStatus::On;
  EXPECT_EQ(rest_mode_id(s), 3);
  s.mode = core::ChargeMode::Solar;
  EXPECT_EQ(rest_mode_id(s), 2);
}

}  // namespace
}  // namespace evsed::http
