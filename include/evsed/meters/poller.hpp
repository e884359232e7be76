#pragma once
// Polls the RS-485 meters with libmodbus RTU on its own thread (libmodbus
// blocks), never on the event loop. Every cycle ends in one report: the good
// readings with the time they were taken, and per-meter statistics. The sink is
// called on the poller thread; the daemon posts the report into its loop.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "evsed/core/meter_reading.hpp"
#include "evsed/meters/profile.hpp"

namespace spdlog {
class logger;
}

namespace evsed::meters {

struct BusConfig {
  std::string port = "/dev/ttyAMA0";
  int baud = 9600;
  char parity = 'N';
  int stop_bits = 1;
  core::Milliseconds response_timeout{150};
  core::Milliseconds turnaround{10};  // quiet time before each request
  core::Milliseconds cycle{2000};
  bool rs485 = false;  // switch the UART to RS-485 mode (the ioctl fails on ptys)
  bool big_cts = false;  // Sensorbox CTs doubled (MaxMains above 100 A)
};

struct PolledMeter {
  core::MeterRole role = core::MeterRole::Mains;
  MeterType type = MeterType::Disabled;
  MeterProfile profile;  // for every type but the Sensorbox
  int address = 1;
};

enum class PollError : std::uint8_t { Timeout, Crc, Exception, ByteCount, Implausible, Port };
inline constexpr std::size_t kPollErrorKinds = 6;
std::string_view to_string(PollError e);

struct MeterStats {
  std::uint64_t polls = 0;  // requests sent
  std::uint64_t good = 0;   // good replies
  std::array<std::uint64_t, kPollErrorKinds> errors{};
  std::optional<core::TimePoint> last_good;
  std::string last_error;  // empty while the meter answers
};

struct PollReport {
  std::vector<core::MeterReading> readings;
  std::array<std::optional<MeterStats>, 3> stats;  // by MeterRole; empty if not polled
  bool port_open = false;
  core::Milliseconds cycle_time{0};
};

class ModbusPoller {
 public:
  using Sink = std::function<void(PollReport)>;

  ModbusPoller(BusConfig bus, std::vector<PolledMeter> meters, Sink sink, std::shared_ptr<spdlog::logger> log);
  ~ModbusPoller();
  ModbusPoller(const ModbusPoller&) = delete;
  ModbusPoller& operator=(const ModbusPoller&) = delete;

  void start();
  void stop();

  struct Bus;  // libmodbus, in poller.cpp

 private:
  void run(std::stop_token stop);

  BusConfig bus_config_;
  std::vector<PolledMeter> meters_;
  Sink sink_;
  std::shared_ptr<spdlog::logger> log_;
  std::jthread thread_;
};

// Wire time of one read at this bus speed: request and reply frames (11 bits
// per character), two 3.5-character gaps and the turnaround (bench/modbus.sh).
std::chrono::microseconds theoretical_read_time(const BusConfig& bus, std::uint16_t registers);

}  // namespace evsed::meters
