#include "evsed/hw/sysfs_pwm.hpp"

#include <cerrno>
#include <thread>

#include "evsed/hw/sysfs.hpp"

namespace evsed::hw {

long duty_ns(core::PwmDuty duty) {
  if (duty.value >= core::kDutySteadyHigh.value) return SysfsPwm::kPeriodNs;
  if (duty.value <= 0) return 0;
  return static_cast<long>(duty.value) * SysfsPwm::kPeriodNs / 1024;
}

std::variant<std::unique_ptr<SysfsPwm>, HwError> SysfsPwm::open(const SysfsPwmConfig& c) {
  const std::string chip = c.sysfs_root + "/class/pwm/pwmchip" + std::to_string(c.chip);
  const std::string dir = chip + "/pwm" + std::to_string(c.channel);
  if (!path_exists(chip)) {
    return HwError{"PWM chip " + chip + " not found (is the pwm overlay enabled in config.txt?)", ENOENT};
  }
  if (!path_exists(dir)) {
    if (auto e = write_attribute(chip + "/export", std::to_string(c.channel))) return *e;
    const auto deadline = std::chrono::steady_clock::now() + c.export_wait;
    while (!path_exists(dir + "/enable")) {
      if (std::chrono::steady_clock::now() > deadline) return HwError{"PWM channel " + dir + " did not appear", ETIMEDOUT};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // Polarity can only change while disabled; the period before the duty.
  (void)write_attribute(dir + "/enable", "0");
  if (auto e = write_attribute(dir + "/period", std::to_string(kPeriodNs))) return *e;
  if (auto e = write_attribute(dir + "/polarity", c.inverted ? "inversed" : "normal")) return *e;
  if (auto e = write_attribute(dir + "/duty_cycle", std::to_string(kPeriodNs))) return *e;
  if (auto e = write_attribute(dir + "/enable", "1")) return *e;
  return std::unique_ptr<SysfsPwm>(new SysfsPwm(chip, dir, c.channel));
}

HwResult SysfsPwm::set_duty(core::PwmDuty duty) {
  return write_attribute(dir_ + "/duty_cycle", std::to_string(duty_ns(duty)));
}

HwResult SysfsPwm::release() {
  HwResult r = set_duty(core::kDutySteadyHigh);
  if (auto e = write_attribute(chip_dir_ + "/unexport", std::to_string(channel_)); e && !r) r = e;
  return r;
}

}  // namespace evsed::hw
