// The sysfs PWM and IIO ADC drivers against a fake sysfs tree: every file they
// write, a whole charging session through them with the simulated car making
// the ADC samples, and what a failing write does.

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "controller_rig.hpp"
#include "evsed/app/charge_point.hpp"
#include "evsed/hw/gpiod_line.hpp"
#include "evsed/hw/iio_adc.hpp"
#include "evsed/hw/sysfs_pwm.hpp"
#include "evsed/sim/ev.hpp"
#include "fake_sysfs.hpp"

namespace evsed::hw {
namespace {

using testing::FakeSysfs;

SysfsPwmConfig pwm_config(const FakeSysfs& f) {
  SysfsPwmConfig c;
  c.sysfs_root = f.sys();
  return c;
}

TEST(SysfsPwm, ExportsConfiguresAndStartsAtFullDuty) {
  FakeSysfs f;
  auto opened = SysfsPwm::open(pwm_config(f));
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<SysfsPwm>>(opened)) << std::get<HwError>(opened).message();
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "period"), "1000000");
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "duty_cycle"), "1000000");  // 100 %: steady +12 V
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "polarity"), "normal");
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "enable"), "1");
}

TEST(SysfsPwm, DutyPerCurrentAndUnexportOnRelease) {
  FakeSysfs f;
  auto pwm = std::move(std::get<std::unique_ptr<SysfsPwm>>(SysfsPwm::open(pwm_config(f))));
  ASSERT_FALSE(pwm->set_duty(core::duty_for_current(core::DeciAmps{160})));  // 272/1024
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "duty_cycle"), "265625");
  ASSERT_FALSE(pwm->set_duty(core::duty_for_current(core::DeciAmps{60})));  // 102/1024
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "duty_cycle"), "99609");
  ASSERT_FALSE(pwm->set_duty(core::kDutySteadyLow));
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "duty_cycle"), "0");
  ASSERT_FALSE(pwm->release());
  for (int i = 0; i < 200 && f.unexported_ != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(f.unexported_, 0);
}

TEST(SysfsPwm, InvertedDriverStage) {
  FakeSysfs f;
  auto c = pwm_config(f);
  c.inverted = true;
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<SysfsPwm>>(SysfsPwm::open(c)));
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "polarity"), "inversed");
}

TEST(SysfsPwm, MissingChipIsOneClearError) {
  FakeSysfs f;
  auto c = pwm_config(f);
  c.chip = 3;
  auto opened = SysfsPwm::open(c);
  ASSERT_TRUE(std::holds_alternative<HwError>(opened));
  EXPECT_NE(std::get<HwError>(opened).message().find("pwmchip3"), std::string::npos);
}

TEST(SysfsPwm, ReadOnlyOrMissingNodesFailWithThePath) {
  FakeSysfs f;
  auto pwm = std::move(std::get<std::unique_ptr<SysfsPwm>>(SysfsPwm::open(pwm_config(f))));
  f.make_read_only(f.pwm() / "duty_cycle");
  auto e = pwm->set_duty(core::kDutySteadyHigh);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message().find("duty_cycle"), std::string::npos);
  EXPECT_EQ(e->error, EACCES);
  std::filesystem::remove(f.pwm() / "duty_cycle");
  auto missing = pwm->set_duty(core::kDutySteadyHigh);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->error, ENOENT);
}

TEST(IioAdc, SysfsModeScalesRawToPilotVolts) {
  FakeSysfs f;
  FakeSysfs::write(f.iio() / "in_voltage0_raw", std::to_string(FakeSysfs::raw_for(9.0)));
  IioAdcConfig c;
  c.sysfs_root = f.sys();
  c.samples_per_window = 3;
  auto adc = std::move(std::get<std::unique_ptr<IioAdc>>(IioAdc::open(c)));
  auto w = std::get<core::PilotWindow>(adc->read_window());
  EXPECT_NEAR(w.max_volts, 9.0, 0.02);
  EXPECT_NEAR(w.min_volts, 9.0, 0.02);
  EXPECT_EQ(core::classify_pilot(w).level, core::PilotLevel::V9);
}

TEST(IioAdc, MissingDeviceIsOneClearError) {
  FakeSysfs f;
  IioAdcConfig c;
  c.sysfs_root = f.sys();
  c.device = 4;
  auto opened = IioAdc::open(c);
  ASSERT_TRUE(std::holds_alternative<HwError>(opened));
  EXPECT_NE(std::get<HwError>(opened).message().find("iio:device4"), std::string::npos);
}

TEST(IioAdc, BufferedModeTakesMinAndMaxOfTheWindow) {
  FakeSysfs f;
  f.make_buffer_fifo();
  IioAdcConfig c;
  c.sysfs_root = f.sys();
  c.dev_root = f.dev().string();
  c.sampling_frequency = 20000;
  auto opened = IioAdc::open(c);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<IioAdc>>(opened)) << std::get<HwError>(opened).message();
  auto adc = std::move(std::get<std::unique_ptr<IioAdc>>(opened));
  EXPECT_EQ(FakeSysfs::read(f.iio() / "scan_elements/in_voltage0_en"), "1");
  EXPECT_EQ(FakeSysfs::read(f.iio() / "sampling_frequency"), "20000");
  EXPECT_EQ(FakeSysfs::read(f.iio() / "buffer/enable"), "1");
  f.write_samples({FakeSysfs::raw_for(6.0), FakeSysfs::raw_for(-12.0), FakeSysfs::raw_for(6.0)});
  auto w = std::get<core::PilotWindow>(adc->read_window());
  EXPECT_NEAR(w.max_volts, 6.0, 0.02);
  EXPECT_NEAR(w.min_volts, -12.0, 0.02);
  const auto r = core::classify_pilot(w);
  EXPECT_EQ(r.level, core::PilotLevel::V6);
  EXPECT_TRUE(r.diode_seen);
}

TEST(IioAdc, ScanTypes) {
  auto t = parse_scan_type("be:u12/16>>4");
  ASSERT_TRUE(t);
  const unsigned char be[] = {0xAB, 0xC0};
  EXPECT_EQ(decode_sample(be, *t), 0xABC);
  auto s = parse_scan_type("le:s12/16>>0");
  ASSERT_TRUE(s);
  const unsigned char le[] = {0xFF, 0x0F};  // 0x0FFF = -1 in 12 bits
  EXPECT_EQ(decode_sample(le, *s), -1);
  EXPECT_FALSE(parse_scan_type("be:u12/12>>0"));
  EXPECT_FALSE(parse_scan_type("nonsense"));
}

TEST(GpioLineSpec, NamesAndChipOffsets) {
  std::string error;
  auto a = parse_line_spec("GPIO17", error);
  EXPECT_EQ(a->name, "GPIO17");
  auto b = parse_line_spec("!gpiochip1:5", error);
  EXPECT_TRUE(b->active_low);
  EXPECT_EQ(b->chip, "gpiochip1");
  EXPECT_EQ(b->offset, 5);
  EXPECT_FALSE(parse_line_spec("", error));
  EXPECT_FALSE(parse_line_spec("gpiochip0:x", error));
  EXPECT_FALSE(error.empty());
}

// The real libgpiod against a real GPIO chip, where this machine has one.
TEST(GpiodLine, RealChip) {
  if (!std::filesystem::exists("/dev/gpiochip0")) {
    GTEST_SKIP() << "no /dev/gpiochip0: this kernel has no GPIO (CONFIG_GPIOLIB off, no gpio-sim); the libgpiod "
                    "adapter is exercised through the link-seam fake in test_hardware instead";
  }
  std::string error;
  auto in = GpiodInput::open(*parse_line_spec("gpiochip0:0", error));
  // Line 0 may be claimed by another driver; either way the adapter must answer, not crash.
  if (auto* e = std::get_if<HwError>(&in)) {
    EXPECT_FALSE(e->message().empty());
  } else {
    EXPECT_TRUE(std::holds_alternative<bool>(std::get<std::unique_ptr<GpiodInput>>(in)->read()));
  }
}

// Contactor and pilot-disconnect lines as the logic above the drivers sees them.
struct RecordingLine final : DigitalOut {
  bool on = false;
  HwResult set(bool active) override {
    on = active;
    return std::nullopt;
  }
};

TEST(GpioBoardSession, ChargesEndToEndThroughTheSysfsDrivers) {
  FakeSysfs f;
  f.make_buffer_fifo();
  auto pwm = std::move(std::get<std::unique_ptr<SysfsPwm>>(SysfsPwm::open(pwm_config(f))));
  IioAdcConfig ac;
  ac.sysfs_root = f.sys();
  ac.dev_root = f.dev().string();
  ac.sampling_frequency = 20000;
  auto adc = std::move(std::get<std::unique_ptr<IioAdc>>(IioAdc::open(ac)));
  RecordingLine c1, c2, cp_off;
  BoardIo io;
  io.pwm = pwm.get();
  io.adc = adc.get();
  io.contactor1 = &c1;
  io.contactor2 = &c2;
  io.pilot_disconnect = &cp_off;
  Board board(io);

  core::TimePoint now = core::TimePoint{} + std::chrono::hours{1};
  auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  app::ChargePoint cp(core::rig_defaults(), board, nullptr, false, now, log);
  sim::Ev car;
  car.plug_in();

  // The car reads the pilot from the PWM files and answers with ADC samples:
  // 20 per 10 ms window, the plateau for the duty's share, -12 V for the rest.
  auto step = [&] {
    sim::Supply s;
    const long duty = std::stol(FakeSysfs::read(f.pwm() / "duty_cycle"));
    s.duty = core::PwmDuty{static_cast<std::int32_t>((duty * 1024 + SysfsPwm::kPeriodNs / 2) / SysfsPwm::kPeriodNs)};
    s.pilot_connected = !cp_off.on;
    s.l1 = c1.on;
    s.l23 = c1.on && c2.on;
    car.step(now, s);
    std::vector<int> samples;
    const int high = static_cast<int>(20 * duty / SysfsPwm::kPeriodNs);
    for (int i = 0; i < 20; ++i) {
      const double v = i < high || duty >= SysfsPwm::kPeriodNs ? car.plateau_volts() : -12.0;
      samples.push_back(FakeSysfs::raw_for(v));
    }
    f.write_samples(samples);
    cp.pilot_period(now);
    if ((now - core::TimePoint{}) % std::chrono::seconds{1} == std::chrono::milliseconds{0}) {
      cp.housekeeping(now, core::local_time(2026, 6, 1, 12, 0));
    }
    if ((now - core::TimePoint{}) % std::chrono::seconds{2} == std::chrono::milliseconds{0}) cp.control_cycle(now);
    now += std::chrono::milliseconds{10};
  };
  for (int i = 0; i < 1500 && car.draw()[0].value() != 160; ++i) step();
  EXPECT_EQ(cp.status(now).state, core::ChargeState::C);
  EXPECT_TRUE(c1.on);
  EXPECT_TRUE(c2.on);
  EXPECT_EQ(FakeSysfs::read(f.pwm() / "duty_cycle"), "265625");  // 16 A
  EXPECT_EQ(car.draw()[0].value(), 160);

  // The duty_cycle node turns read-only: the next change of the offer fails to
  // reach the pilot, so the contactor opens and nothing is offered.
  f.make_read_only(f.pwm() / "duty_cycle");
  core::SettingsPatch lower;
  lower.set(core::Field::OverrideCurrent, 80);
  cp.apply(lower, now);
  EXPECT_TRUE(cp.status(now).errors.has(core::ErrorFlag::HardwareFault));
  EXPECT_FALSE(c1.on);
  EXPECT_FALSE(c2.on);
}

}  // namespace
}  // namespace evsed::hw
