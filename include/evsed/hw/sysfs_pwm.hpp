#pragma once
// The control pilot's 1 kHz PWM through the kernel's sysfs PWM class
// (/sys/class/pwm/pwmchipN/pwmM).

#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include "evsed/hw/io.hpp"

namespace evsed::hw {

struct SysfsPwmConfig {
  std::string sysfs_root = "/sys";
  int chip = 0;
  int channel = 0;
  bool inverted = false;  // the driver stage inverts: ask the kernel for "inversed" polarity
  std::chrono::milliseconds export_wait{1000};  // udev may need a moment for the new directory
  friend bool operator==(const SysfsPwmConfig&, const SysfsPwmConfig&) = default;
};

class SysfsPwm final : public PilotPwm {
 public:
  static constexpr long kPeriodNs = 1'000'000;  // 1 kHz

  // Exports the channel if needed and starts it at 100 % (steady +12 V, no current offered).
  static std::variant<std::unique_ptr<SysfsPwm>, HwError> open(const SysfsPwmConfig& c);

  HwResult set_duty(core::PwmDuty duty) override;
  // 100 % duty, then unexport: the daemon's way out.
  HwResult release();

  [[nodiscard]] const std::string& channel_path() const { return dir_; }

 private:
  SysfsPwm(std::string chip_dir, std::string dir, int channel) : chip_dir_(std::move(chip_dir)), dir_(std::move(dir)), channel_(channel) {}
  std::string chip_dir_;
  std::string dir_;
  int channel_;
};

// Duty in nanoseconds of the 1 ms period for a SmartEVSE duty (1/1024).
long duty_ns(core::PwmDuty duty);

}  // namespace evsed::hw
