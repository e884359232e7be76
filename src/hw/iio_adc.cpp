#include "evsed/hw/iio_adc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>

#include "evsed/hw/sysfs.hpp"

namespace evsed::hw {

namespace {
// A stalled buffer this many windows in a row is a fault (the watchdog relies on it).
constexpr int kMaxEmptyWindows = 10;
}  // namespace

std::optional<ScanType> parse_scan_type(const std::string& s) {
  ScanType t;
  char endian[3] = {};
  char sign = 0;
  int repeat = 0;
  if (std::sscanf(s.c_str(), "%2[bl]e:%c%d/%dX%d>>%d", endian, &sign, &t.bits, &t.storage_bits, &repeat, &t.shift) ==
      6) {
    // repeated channels are not used here
  } else if (std::sscanf(s.c_str(), "%2[bl]e:%c%d/%d>>%d", endian, &sign, &t.bits, &t.storage_bits, &t.shift) != 5) {
    return std::nullopt;
  }
  t.big_endian = endian[0] == 'b';
  t.is_signed = sign == 's';
  if (t.bits < 1 || t.bits > 64 || (t.storage_bits != 8 && t.storage_bits != 16 && t.storage_bits != 32 &&
                                    t.storage_bits != 64) || t.shift < 0 || t.shift >= t.storage_bits) {
    return std::nullopt;
  }
  return t;
}

long long decode_sample(const unsigned char* data, const ScanType& t) {
  const int bytes = t.storage_bits / 8;
  unsigned long long v = 0;
  for (int i = 0; i < bytes; ++i) {
    const int at = t.big_endian ? i : bytes - 1 - i;
    v = (v << 8) | data[at];
  }
  v >>= t.shift;
  const unsigned long long mask = t.bits >= 64 ? ~0ULL : ((1ULL << t.bits) - 1);
  v &= mask;
  if (t.is_signed && t.bits < 64 && (v & (1ULL << (t.bits - 1)))) v |= ~mask;
  return static_cast<long long>(v);
}

std::variant<std::unique_ptr<IioAdc>, HwError> IioAdc::open(const IioAdcConfig& c) {
  std::unique_ptr<IioAdc> adc(new IioAdc(c));
  adc->dir_ = c.sysfs_root + "/bus/iio/devices/iio:device" + std::to_string(c.device);
  if (!path_exists(adc->dir_)) return HwError{"ADC " + adc->dir_ + " not found (is the ADC's overlay enabled?)", ENOENT};
  const std::string ch = "in_voltage" + std::to_string(c.channel);
  // Scale and offset per channel, or for all voltage channels.
  auto scale = read_number(adc->dir_ + "/" + ch + "_scale");
  if (std::holds_alternative<HwError>(scale)) scale = read_number(adc->dir_ + "/in_voltage_scale");
  if (auto* e = std::get_if<HwError>(&scale)) return *e;
  adc->scale_mv_ = std::get<double>(scale);
  auto offset = read_number(adc->dir_ + "/" + ch + "_offset");
  if (std::holds_alternative<HwError>(offset)) offset = read_number(adc->dir_ + "/in_voltage_offset");
  if (auto* v = std::get_if<double>(&offset)) adc->raw_offset_ = *v;

  if (c.sampling_frequency > 0) {
    const std::string scan = adc->dir_ + "/scan_elements/" + ch;
    auto type = read_attribute(scan + "_type");
    if (auto* e = std::get_if<HwError>(&type)) return *e;
    const auto parsed = parse_scan_type(std::get<std::string>(type));
    if (!parsed) return HwError{"unknown sample format '" + std::get<std::string>(type) + "' in " + scan + "_type", EINVAL};
    adc->scan_ = *parsed;
    (void)write_attribute(adc->dir_ + "/buffer/enable", "0");
    if (auto e = write_attribute(scan + "_en", "1")) return *e;
    if (auto e = write_attribute(adc->dir_ + "/sampling_frequency", std::to_string(c.sampling_frequency))) return *e;
    if (auto e = write_attribute(adc->dir_ + "/buffer/length", std::to_string(std::max(64, c.sampling_frequency / 10)))) {
      return *e;
    }
    if (auto e = write_attribute(adc->dir_ + "/buffer/enable", "1")) return *e;
    const std::string dev = c.dev_root + "/iio:device" + std::to_string(c.device);
    adc->buffer_fd_ = ::open(dev.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (adc->buffer_fd_ < 0) return HwError{"open " + dev, errno};
  } else {
    const std::string raw = adc->dir_ + "/" + ch + "_raw";
    adc->raw_fd_ = ::open(raw.c_str(), O_RDONLY | O_CLOEXEC);
    if (adc->raw_fd_ < 0) return HwError{"open " + raw, errno};
  }
  return adc;
}

IioAdc::~IioAdc() {
  if (raw_fd_ >= 0) ::close(raw_fd_);
  if (buffer_fd_ >= 0) {
    ::close(buffer_fd_);
    (void)write_attribute(dir_ + "/buffer/enable", "0");
  }
}

double IioAdc::to_pilot(long long raw) const {
  const double adc_volts = (static_cast<double>(raw) + raw_offset_) * scale_mv_ / 1000.0;
  return config_.gain * adc_volts + config_.offset;
}

HwValue<core::PilotWindow> IioAdc::read_window() { return buffer_fd_ >= 0 ? read_buffer() : read_sysfs(); }

HwValue<core::PilotWindow> IioAdc::read_sysfs() {
  double lo = std::numeric_limits<double>::max();
  double hi = std::numeric_limits<double>::lowest();
  for (int i = 0; i < std::max(1, config_.samples_per_window); ++i) {
    char buf[32];
    const ssize_t n = ::pread(raw_fd_, buf, sizeof buf - 1, 0);
    if (n <= 0) return HwError{"read " + dir_ + "/in_voltage" + std::to_string(config_.channel) + "_raw", n < 0 ? errno : EIO};
    buf[n] = '\0';
    char* end = nullptr;
    const long long raw = std::strtoll(buf, &end, 10);
    if (end == buf) return HwError{"not a number in " + dir_ + "/in_voltage" + std::to_string(config_.channel) + "_raw", EINVAL};
    const double v = to_pilot(raw);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return core::PilotWindow{lo, hi};
}

HwValue<core::PilotWindow> IioAdc::read_buffer() {
  unsigned char buf[4096];
  while (true) {
    const ssize_t n = ::read(buffer_fd_, buf, sizeof buf);
    if (n > 0) {
      pending_.insert(pending_.end(), buf, buf + n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return HwError{"read " + config_.dev_root + "/iio:device" + std::to_string(config_.device), errno};
    }
    break;
  }
  const std::size_t bytes = static_cast<std::size_t>(scan_.storage_bits / 8);
  const std::size_t count = pending_.size() / bytes;
  if (count == 0) {
    if (++empty_windows_ > kMaxEmptyWindows || !last_) {
      if (empty_windows_ > kMaxEmptyWindows) {
        return HwError{"no samples from " + config_.dev_root + "/iio:device" + std::to_string(config_.device), EIO};
      }
      return core::PilotWindow{0.0, 0.0};
    }
    return *last_;
  }
  empty_windows_ = 0;
  double lo = std::numeric_limits<double>::max();
  double hi = std::numeric_limits<double>::lowest();
  for (std::size_t i = 0; i < count; ++i) {
    const double v = to_pilot(decode_sample(pending_.data() + i * bytes, scan_));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count * bytes));
  last_ = core::PilotWindow{lo, hi};
  return *last_;
}

HwValue<double> IioAdc::read_volts(int channel) {
  auto raw = read_integer(dir_ + "/in_voltage" + std::to_string(channel) + "_raw");
  if (auto* e = std::get_if<HwError>(&raw)) return *e;
  return (static_cast<double>(std::get<long long>(raw)) + raw_offset_) * scale_mv_ / 1000.0;
}

}  // namespace evsed::hw
