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

TEST(MqttTopics, StatePayloadsAndRetainFlags) {
  core::ControllerRig rig;
  rig.plug_in_and_charge();
  StateContext c;
  c.mains_meter = meters::MeterType::Api;
  const auto pubs = state_publications(rig.status(), c);
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
  const auto pubs = state_publications(rig.status(), StateContext{});
  EXPECT_EQ(find(pubs, "Error")->payload, "No Power Available");
  EXPECT_EQ(find(pubs, "State")->payload, "Charging Stopped");
}

SetContext api_context() {
  SetContext c;
  c.mains_meter = meters::MeterType::Api;
  c.ev_meter = meters::MeterType::Api;
  c.circuit_meter = meters::MeterType::Api;
  return c;
}

TEST(MqttSet, ModeNeedsExactNames) {
  const auto ok = parse_set("Mode", "Smart", api_context());
  ASSERT_TRUE(std::holds_alternative<SetCommand>(ok));
  EXPECT_EQ(std::get<core::SettingsPatch>(std::get<SetCommand>(ok)).mode, 3);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("Mode", "smart", api_context())));
}

TEST(MqttSet, MainsMeterThreeOrFiveFields) {
  auto r = parse_set("MainsMeter", "10:-20:30:-1:5000", api_context());
  ASSERT_TRUE(std::holds_alternative<SetCommand>(r));
  const auto& m = std::get<core::MeterReading>(std::get<SetCommand>(r));
  EXPECT_EQ(m.currents[1].value(), -20);
  EXPECT_FALSE(m.power);
  EXPECT_EQ(m.import_energy->value, 5000);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("MainsMeter", "10:20", api_context())));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("MainsMeter", "10:20:2000", api_context())));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("MainsMeter", "a:b:c", api_context())));
  SetContext sim = api_context();
  sim.mains_meter = meters::MeterType::Sim;
  const auto refused = parse_set("MainsMeter", "1:2:3", sim);
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_NE(std::get<std::string>(refused).find("not API"), std::string::npos);
}

TEST(MqttSet, EnableC2ByDigitOrName) {
  auto d = parse_set("EnableC2", "4", api_context());
  EXPECT_EQ(std::get<core::SettingsPatch>(std::get<SetCommand>(d)).enable_c2, 4);
  auto n = parse_set("EnableC2", "Always Off", api_context());
  EXPECT_EQ(std::get<core::SettingsPatch>(std::get<SetCommand>(n)).enable_c2, 1);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("EnableC2", "5", api_context())));
}

TEST(MqttSet, Colors) {
  auto c = parse_set("ColorSolar", "1,2,3", api_context());
  const auto& change = std::get<PanelChange>(std::get<SetCommand>(c));
  EXPECT_EQ(change.color->first, "solar");
  EXPECT_EQ(change.color->second.b, 3);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("ColorSolar", "1,2", api_context())));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_set("ColorSolar", "1,2,256", api_context())));
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
