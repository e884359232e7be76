// Ranges and relations of settings (interfaces.md §4), and capacity intervals.

#include <gtest/gtest.h>

#include "controller_rig.hpp"
#include "evsed/core/settings.hpp"
#include "evsed/core/settings_fields.hpp"

namespace evsed::core {
namespace {

TEST(Settings, DefaultsAreValid) { EXPECT_FALSE(validate_settings(Settings{}).has_value()); }

TEST(Settings, EachRangeIsChecked) {
  auto bad = [](auto mutate) {
    Settings s;
    mutate(s);
    return validate_settings(s);
  };
  EXPECT_EQ(bad([](Settings& s) { s.min_current = Amps{5}; })->key, "current_min");
  EXPECT_EQ(bad([](Settings& s) { s.max_current = Amps{81}; })->key, "current_max");
  EXPECT_EQ(bad([](Settings& s) { s.max_mains = Amps{9}; })->key, "current_main");
  EXPECT_EQ(bad([](Settings& s) { s.max_circuit = Amps{161}; })->key, "current_max_circuit");
  EXPECT_EQ(bad([](Settings& s) { s.max_temp_c = 76; })->key, "max_temp");
  EXPECT_EQ(bad([](Settings& s) { s.max_sum_mains = Amps{5}; })->key, "current_max_sum_mains");
  EXPECT_FALSE(bad([](Settings& s) { s.max_sum_mains = Amps{0}; }).has_value());
  EXPECT_EQ(bad([](Settings& s) { s.solar_stop_time = Minutes{61}; })->key, "solar_stop_time");
  EXPECT_EQ(bad([](Settings& s) { s.enable_c2 = static_cast<EnableC2>(5); })->key, "enable_C2");
  EXPECT_EQ(bad([](Settings& s) { s.capacity_intervals = {{1440, 5000}}; })->key, "intervals.start");
}

TEST(Settings, MinCurrentMayNotExceedMaxCurrent) {
  Settings s;
  s.max_current = Amps{10};
  s.min_current = Amps{12};
  auto e = validate_settings(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "current_min");
  EXPECT_NE(e->message().find("current_max"), std::string::npos);
}

TEST(Settings, ErrorMessageNamesKeyValueAndRange) {
  auto e = check_range(ranges::kCurrentMain, 300);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message(), "current_main = 300 is not allowed (allowed: 10..200)");
}

TEST(Settings, CapacityIntervalInForceFollowsTheLocalMinute) {
  Settings s;
  s.capacity_mode = CapacityMode::Interval;
  s.capacity_intervals = {{7 * 60, 2400}, {22 * 60, 9300}};
  EXPECT_EQ(effective_max_sum_mains(s, local_time(2026, 1, 5, 8, 0)).value(), 10);   // (2400-100)/230
  EXPECT_EQ(effective_max_sum_mains(s, local_time(2026, 1, 5, 23, 0)).value(), 40);  // (9300-100)/230
  EXPECT_EQ(effective_max_sum_mains(s, local_time(2026, 1, 5, 3, 0)).value(), 40);   // before the first: the last
  s.capacity_mode = CapacityMode::Fixed;
  s.max_sum_mains = Amps{25};
  EXPECT_EQ(effective_max_sum_mains(s, local_time(2026, 1, 5, 3, 0)).value(), 25);
  s.capacity_mode = CapacityMode::Disabled;
  EXPECT_EQ(effective_max_sum_mains(s, local_time(2026, 1, 5, 3, 0)).value(), 0);
}

TEST(SettingsPatch, RejectedValuesChangeNothing) {
  ControllerRig rig;
  const Settings before = rig.c.settings();
  SettingsPatch p;
  p.set(Field::CurrentMin, 20);
  p.set(Field::MaxSumMains, 5);
  p.set(Field::SolarStartCurrent, 49);
  p.set(Field::EnableC2, 9);
  p.set(Field::Mode, 7);  // not a ModeChoice
  p.set(Field::OverrideCurrent, 30);
  auto r = rig.apply(p);
  EXPECT_EQ(rig.c.settings(), before);
  EXPECT_EQ(rig.status().override_current.value(), 0);
  ASSERT_EQ(r.fields.size(), 6u);
  for (const auto& f : r.fields) EXPECT_EQ(f.outcome, FieldResult::Outcome::Rejected) << spec(f.field).name;
  EXPECT_FALSE(r.commands.settings_changed);
}

TEST(SettingsPatch, SmartWithoutMainsMeterIsIgnoredWithAReason) {
  ControllerRig rig;
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Smart);
  auto r = rig.apply(p);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].outcome, FieldResult::Outcome::Ignored);
  EXPECT_NE(r.fields[0].reason.find("mains meter"), std::string::npos);
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Normal);
}

TEST(SettingsPatch, OverrideIsIgnoredInSolar) {
  Settings s = rig_defaults();
  s.has_mains_meter = true;
  s.mode = ChargeMode::Solar;
  ControllerRig rig(s);
  SettingsPatch p;
  p.set(Field::OverrideCurrent, 100);
  auto r = rig.apply(p);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].outcome, FieldResult::Outcome::Ignored);
  EXPECT_EQ(rig.status().override_current.value(), 0);
}

TEST(SettingsPatch, AcceptedValuesAreAppliedAndMarkedForSaving) {
  ControllerRig rig;
  SettingsPatch p;
  p.set(Field::CurrentMin, 8);
  p.set(Field::SolarStartCurrent, 10);
  p.set(Field::SolarMaxImport, 2);
  p.set(Field::SolarStopTime, 5);
  p.set(Field::MaxSumMains, 40);
  p.set(Field::MaxSumMainsTime, 3);
  p.set(Field::EnableC2, 4);
  auto r = rig.apply(p);
  for (const auto& f : r.fields) EXPECT_EQ(f.outcome, FieldResult::Outcome::Applied) << spec(f.field).name;
  EXPECT_TRUE(r.commands.settings_changed);
  const Settings& s = rig.c.settings();
  EXPECT_EQ(s.min_current.value(), 8);
  EXPECT_EQ(s.solar_start_current.value(), 10);
  EXPECT_EQ(s.solar_max_import.value(), 2);
  EXPECT_EQ(s.solar_stop_time, Minutes{5});
  EXPECT_EQ(s.max_sum_mains.value(), 40);
  EXPECT_EQ(s.capacity_mode, CapacityMode::Fixed);
  EXPECT_EQ(s.max_sum_mains_time, Minutes{3});
  EXPECT_EQ(s.enable_c2, EnableC2::Auto);
}

TEST(Reconfigure, InstallerValuesChangeRunTimeValuesStay) {
  Settings s = rig_defaults();
  s.has_mains_meter = true;
  ControllerRig rig(s);
  SettingsPatch p;
  p.set(Field::Mode, ModeChoice::Smart);
  p.set(Field::CurrentMin, 12);
  p.set(Field::SolarStopTime, 7);
  rig.apply(p);
  Settings installer = s;
  installer.max_current = Amps{20};
  Commands c;
  EXPECT_TRUE(rig.c.reconfigure(installer, rig.now, c).empty());
  EXPECT_EQ(rig.c.settings().max_current.value(), 20);
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Smart) << "run-time values are kept";
  EXPECT_EQ(rig.c.settings().min_current.value(), 12);
  EXPECT_EQ(rig.c.settings().solar_stop_time, Minutes{7});
  EXPECT_TRUE(c.settings_changed);
  // A lower current_max than the run-time current_min: it falls back, and says so.
  installer.max_current = Amps{10};
  installer.has_mains_meter = false;
  const auto fell_back = rig.c.reconfigure(installer, rig.now, c);
  ASSERT_EQ(fell_back.size(), 2u);
  EXPECT_NE(fell_back[0].find("current_min"), std::string::npos);
  EXPECT_EQ(rig.c.settings().min_current, installer.min_current);
  EXPECT_EQ(rig.c.settings().mode, ChargeMode::Normal) << "no Smart without a mains meter";
  EXPECT_FALSE(validate_settings(rig.c.settings()));
}

}  // namespace
}  // namespace evsed::core
