// MQTT topics, /Set parsing and discovery (interfaces.md §3), without a broker.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller_rig.hpp"
#include "evsed/mqtt/topics.hpp"

namespace evsed::mqtt {
namespace {

const Publication* find(const std::vector<Publication>& pubs, std::string_view suffix) {
  for (const auto& p : pubs) {
    if (p.suffix == suffix) return &p;
  }
  return nullptr;
}

station::Snapshot snapshot_of(const core::Status& s) {
  station::Snapshot snap;
  snap.status = s;
  return snap;
}

TEST(MqttTopics, StatePayloadsAndRetainFlags) {
  core::Settings s = core::rig_defaults();
  s.has_mains_meter = true;  // an API mains meter
  core::ControllerRig rig(s);
  rig.plug_in_and_charge();
  const auto pubs = state_publications(snapshot_of(rig.status()));
  EXPECT_EQ(find(pubs, "StateID")->payload, "C");
  EXPECT_TRUE(find(pubs, "StateID")->retain);
  EXPECT_EQ(find(pubs, "State")->payload, "Charging");
  EXPECT_EQ(find(pubs, "MaxCurrent")->payload, "160");
  EXPECT_EQ(find(pubs, "NrOfPhases")->payload, "3");
  EXPECT_EQ(find(pubs, "Mode")->payload, "Normal");
  EXPECT_EQ(find(pubs, "Access")->payload, "Allow");
  EXPECT_EQ(find(pubs, "EVPlugState")->payload, "Connected");
  EXPECT_FALSE(find(pubs, "MainsCurrentL1")->retain);
  EXPECT_EQ(find(pubs, "EVCurrentL1"), nullptr);  // no EV meter
  EXPECT_EQ(find(pubs, "CableLock"), nullptr);    // no lock actuator
  EXPECT_EQ(find(pubs, "WiFiRSSI"), nullptr);     // no Wi-Fi
}

TEST(MqttTopics, ErrorIsNotRewrittenForLess6A) {
  core::Settings s = core::rig_defaults();
  s.has_mains_meter = true;
  s.mode = core::ChargeMode::Smart;
  core::ControllerRig rig(s);
  rig.car = core::PilotLevel::V9;
  rig.run_for(core::Seconds{3});
  const auto pubs = state_publications(snapshot_of(rig.status()));
  EXPECT_EQ(find(pubs, "Error")->payload, "No Power Available");
  EXPECT_EQ(find(pubs, "State")->payload, "Charging Stopped");
}

template <class T>
const T& command(const std::variant<SetCommand, std::string>& parsed) {
  return std::get<T>(std::get<SetCommand>(parsed));
}

TEST(MqttSet, ModeNeedsExactNames) {
  const auto ok = parse_set("Mode", "Smart");
  ASSERT_TRUE(std::holds_alternative<SetCommand>(ok));
  EXPECT_EQ(command<station::SettingsChange>(ok).patch.get(core::Field::Mode),
            static_cast<std::int64_t>(core::ModeChoice::Smart));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("Mode", "smart")));
}

TEST(MqttSet, MainsMeterThreeOrFiveFields) {
  auto r = parse_set("MainsMeter", "10:-20:30:-1:5000");
  ASSERT_TRUE(std::holds_alternative<SetCommand>(r));
  const auto& m = command<station::MeterFeed>(r);
  EXPECT_EQ(m.role, core::MeterRole::Mains);
  EXPECT_EQ((*m.currents)[1], -20);
  EXPECT_FALSE(m.power_w);
  EXPECT_EQ(m.import_wh, 5000);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("MainsMeter", "10:20")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("MainsMeter", "a:b:c")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("EVMeter", "1:2:3")));  // needs W and Wh
  // The range (and whether the meter is API) is the Station's to decide.
  EXPECT_EQ((*command<station::MeterFeed>(parse_set("MainsMeter", "10:20:2001")).currents)[2], 2001);
}

TEST(MqttSet, EnableC2ByDigitOrName) {
  EXPECT_EQ(command<station::SettingsChange>(parse_set("EnableC2", "4")).patch.get(core::Field::EnableC2), 4);
  EXPECT_EQ(command<station::SettingsChange>(parse_set("EnableC2", "Always Off")).patch.get(core::Field::EnableC2), 1);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("EnableC2", "Sometimes")));
}

TEST(MqttSet, Colors) {
  auto c = parse_set("ColorSolar", "1,2,3");
  const auto& color = command<station::SettingsChange>(c).panel.color;
  ASSERT_TRUE(color);
  EXPECT_EQ(color->first, station::ColorSetting::Solar);
  EXPECT_EQ(color->second[2], 3);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("ColorSolar", "1,2")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("Colorsolar", "1,2,3")));
}

TEST(MqttSet, OutsideTextInErrorsIsEscapedAndCapped) {
  const auto e = std::get<std::string>(parse_set("Mode", "x\nerror: forged" + std::string(5000, 'A')));
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_NE(e.find("\\n"), std::string::npos);
  EXPECT_LT(e.size(), 300u);
}

TEST(MqttDiscovery, FollowsTheConfiguration) {
  DiscoveryContext c;
  c.prefix = "SmartEVSE-1";
  c.version = "0.1.0";
  const auto none = discovery_messages(c);
  c.ev_meter = true;
  c.cable_lock = true;
  const auto more = discovery_messages(c);
  EXPECT_GT(more.size(), none.size());
  for (const auto& m : more) {
    const auto j = nlohmann::json::parse(m.payload);
    EXPECT_EQ(m.topic.find("homeassistant/"), 0u);
    EXPECT_EQ(j["availability_topic"], "SmartEVSE-1/connected");
    EXPECT_EQ(j["device"]["sw_version"], "0.1.0");
  }
  const auto mode = std::find_if(more.begin(), more.end(),
                                 [](const auto& m) { return m.topic == "homeassistant/select/SmartEVSE-1-Mode/config"; });
  ASSERT_NE(mode, more.end());
  EXPECT_EQ(nlohmann::json::parse(mode->payload)["command_topic"], "SmartEVSE-1/Set/Mode");
  EXPECT_EQ(nlohmann::json::parse(mode->payload)["default_entity_id"], "select.smartevse_1_mode");
}

}  // namespace
}  // namespace evsed::mqtt
