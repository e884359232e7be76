#pragma once
// Pilot sense through Linux IIO: in_voltageX_raw x scale (+ offset) from sysfs,
// or the buffered character device /dev/iio:deviceN at a set sampling rate.
// Each window delivers the min and max pilot voltage since the last one,
// converted from ADC volts by the board's divider: V_pilot = gain * V_adc + offset.

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evsed/hw/io.hpp"

namespace evsed::hw {

struct IioAdcConfig {
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";
  int device = 0;
  int channel = 0;
  double gain = 8.0;      // reference divider: V_adc = 1.70 V + 0.125 V_pilot
  double offset = -13.6;
  int samples_per_window = 20;  // sysfs mode: reads per 10 ms window
  int sampling_frequency = 0;   // > 0: buffered mode at this many samples per second
  friend bool operator==(const IioAdcConfig&, const IioAdcConfig&) = default;
};

// "be:u12/16>>4" and the like (IIO scan element type).
struct ScanType {
  bool big_endian = false;
  bool is_signed = false;
  int bits = 16;
  int storage_bits = 16;
  int shift = 0;
};
std::optional<ScanType> parse_scan_type(const std::string& s);
// Raw value of one sample stored at `data`.
long long decode_sample(const unsigned char* data, const ScanType& t);

class IioAdc final : public PilotAdc {
 public:
  static std::variant<std::unique_ptr<IioAdc>, HwError> open(const IioAdcConfig& c);
  ~IioAdc() override;

  HwValue<core::PilotWindow> read_window() override;
  // One sysfs reading of any channel of the same device, in ADC volts (proximity pilot).
  HwValue<double> read_volts(int channel);

 private:
  explicit IioAdc(IioAdcConfig c) : config_(std::move(c)) {}
  HwValue<core::PilotWindow> read_sysfs();
  HwValue<core::PilotWindow> read_buffer();
  [[nodiscard]] double to_pilot(long long raw) const;

  IioAdcConfig config_;
  std::string dir_;
  double scale_mv_ = 1.0;
  double raw_offset_ = 0.0;
  int raw_fd_ = -1;
  int buffer_fd_ = -1;
  ScanType scan_;
  std::vector<unsigned char> pending_;
  int empty_windows_ = 0;
  std::optional<core::PilotWindow> last_;
};

}  // namespace evsed::hw
