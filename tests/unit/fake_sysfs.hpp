#pragma once
// A fake sysfs (and /dev) tree in a temporary directory, with just enough of
// the kernel to drive it: writing a channel to a pwmchip's `export` makes its
// pwmN directory appear, as the PWM class does. The IIO ADC's buffered device
// is a FIFO the test writes samples into.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace evsed::testing {

namespace fs = std::filesystem;

class FakeSysfs {
 public:
  FakeSysfs() : root_(fs::temp_directory_path() / ("evsed-sysfs-" + std::to_string(::getpid()) + "-" +
                                                   std::to_string(counter()++))) {
    fs::create_directories(pwmchip());
    write(pwmchip() / "export", "");
    write(pwmchip() / "unexport", "");
    write(pwmchip() / "npwm", "2");
    fs::create_directories(iio());
    write(iio() / "in_voltage0_raw", "2048");
    write(iio() / "in_voltage1_raw", "0");
    write(iio() / "in_voltage_scale", "0.805664062");  // mV per LSB: 3.3 V / 4096
    fs::create_directories(iio() / "scan_elements");
    write(iio() / "scan_elements/in_voltage0_en", "0");
    write(iio() / "scan_elements/in_voltage0_type", "be:u12/16>>0");
    write(iio() / "sampling_frequency", "0");
    fs::create_directories(iio() / "buffer");
    write(iio() / "buffer/enable", "0");
    write(iio() / "buffer/length", "0");
    fs::create_directories(dev());
    fs::create_directories(root_ / "sys/class/thermal/thermal_zone0");
    write(root_ / "sys/class/thermal/thermal_zone0/temp", "31500");
    kernel_ = std::thread([this] { emulate_export(); });
  }

  ~FakeSysfs() {
    stop_ = true;
    kernel_.join();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  [[nodiscard]] std::string sys() const { return (root_ / "sys").string(); }
  [[nodiscard]] fs::path pwmchip() const { return root_ / "sys/class/pwm/pwmchip0"; }
  [[nodiscard]] fs::path pwm() const { return pwmchip() / "pwm0"; }
  [[nodiscard]] fs::path iio() const { return root_ / "sys/bus/iio/devices/iio:device0"; }
  [[nodiscard]] fs::path dev() const { return root_ / "dev"; }

  static void write(const fs::path& p, const std::string& v) { std::ofstream(p) << v << "\n"; }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
  }

  // Raw ADC counts for a pilot voltage, through the reference divider
  // (V_adc = 1.70 V + 0.125 V_pilot) and this ADC's 0.8057 mV per count.
  static int raw_for(double pilot_volts) {
    const double adc = 1.70 + 0.125 * pilot_volts;
    return static_cast<int>(adc * 1000.0 / 0.805664062 + 0.5);
  }

  // Buffered device: a FIFO, opened here for writing so reads never block.
  void make_buffer_fifo() {
    const auto path = dev() / "iio:device0";
    ::mkfifo(path.c_str(), 0600);
    reader_keepalive_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
    writer_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  }
  void write_samples(const std::vector<int>& raws) {
    std::vector<unsigned char> bytes;
    for (int r : raws) {
      bytes.push_back(static_cast<unsigned char>(r >> 8));
      bytes.push_back(static_cast<unsigned char>(r & 0xFF));
    }
    if (::write(writer_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("the fake ADC buffer is full");
    }
  }

  // Turns an attribute into a real read-only sysfs node: writes fail with
  // EACCES even for root, as they do on the real /sys.
  void make_read_only(const fs::path& p) {
    fs::remove(p);
    fs::create_symlink("/sys/devices/system/cpu/online", p);
  }

 private:
  static std::atomic<int>& counter() {
    static std::atomic<int> c{0};
    return c;
  }

  void emulate_export() {
    while (!stop_) {
      const std::string exported = read(pwmchip() / "export");
      if (!exported.empty()) {
        // The kernel's new directory appears complete: build it aside, then move it in.
        const auto dir = pwmchip() / ("pwm" + exported);
        const auto staging = root_ / ("staging-pwm" + exported);
        fs::create_directories(staging);
        for (const char* f : {"period", "duty_cycle", "enable"}) write(staging / f, "0");
        write(staging / "polarity", "normal");
        fs::rename(staging, dir);
        write(pwmchip() / "export", "");
      }
      const std::string unexported = read(pwmchip() / "unexport");
      if (!unexported.empty()) {
        std::error_code ec;
        fs::remove_all(pwmchip() / ("pwm" + unexported), ec);
        unexported_ = std::stoi(unexported);
        write(pwmchip() / "unexport", "");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  fs::path root_;
  std::atomic<bool> stop_{false};
  std::thread kernel_;
  int writer_ = -1;
  int reader_keepalive_ = -1;

 public:
  std::atomic<int> unexported_{-1};  // the last channel unexported
};

}  // namespace evsed::testing
