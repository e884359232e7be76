#include "evsed/meters/poller.hpp"

#include <modbus.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <variant>

namespace evsed::meters {

namespace {

using core::Clock;
using core::TimePoint;
using namespace std::chrono_literals;

constexpr core::Seconds kEnergyInterval{120};  // mains energies, as SmartEVSE
constexpr core::Seconds kExportOffset{60};
constexpr core::Seconds kMaxBackoff{30};

PollError classify(int err) {
  if (err == ETIMEDOUT) return PollError::Timeout;
  if (err == EMBBADCRC) return PollError::Crc;
  if (err >= EMBXILFUN && err <= EMBXGTAR) return PollError::Exception;
  if (err == EMBBADDATA || err == EMBMDATA || err == EMBBADEXC || err == EMBBADSLAVE) return PollError::ByteCount;
  return PollError::Port;  // EIO, ENXIO, EBADF...: the device is gone
}

std::string_view role_name(core::MeterRole r) {
  switch (r) {
    case core::MeterRole::Mains: return "mains";
    case core::MeterRole::Ev: return "EV";
    case core::MeterRole::Circuit: return "circuit";
  }
  return "?";
}

struct MeterState {
  PolledMeter meter;
  MeterStats stats;
  std::optional<core::WattHours> import_energy;
  std::optional<core::WattHours> export_energy;
  std::optional<core::Watts> power;
  TimePoint next_import{};
  TimePoint next_export{};
  std::string logged = "first";
};

// Sleeps until `t` unless a stop is requested; false when stopping.
bool sleep_until(std::stop_token& st, TimePoint t) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_until(lock, st, t, [] { return false; });
  return !st.stop_requested();
}

}  // namespace

std::string_view to_string(PollError e) {
  switch (e) {
    case PollError::Timeout: return "timeout";
    case PollError::Crc: return "crc";
    case PollError::Exception: return "exception";
    case PollError::ByteCount: return "byte_count";
    case PollError::Implausible: return "implausible";
    case PollError::Port: return "port";
  }
  return "?";
}

struct ModbusPoller::Bus {
  modbus_t* ctx = nullptr;
  const BusConfig& config;
  std::shared_ptr<spdlog::logger> log;
  bool rs485_warned = false;

  Bus(const BusConfig& c, std::shared_ptr<spdlog::logger> l) : config(c), log(std::move(l)) {}
  ~Bus() { close(); }

  bool open(std::string& error) {
    ctx = modbus_new_rtu(config.port.c_str(), config.baud, config.parity, 8, config.stop_bits);
    if (!ctx) {
      error = std::string{"cannot set up "} + config.port + ": " + modbus_strerror(errno);
      return false;
    }
    if (modbus_connect(ctx) != 0) {
      error = config.port + ": " + modbus_strerror(errno);
      close();
      return false;
    }
    const auto ms = config.response_timeout.count();
    modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(ms / 1000), static_cast<std::uint32_t>(ms % 1000 * 1000));
    if (config.rs485 && modbus_rtu_set_serial_mode(ctx, MODBUS_RTU_RS485) != 0 && !rs485_warned) {
      rs485_warned = true;  // ptys and some adapters refuse the ioctl; direction may be automatic
      log->warn("modbus: RS-485 mode on {} refused: {}", config.port, modbus_strerror(errno));
    }
    return true;
  }

  void close() {
    if (!ctx) return;
    modbus_close(ctx);
    modbus_free(ctx);
    ctx = nullptr;
  }

  // A slow meter's late reply would look like the answer to the next request
  // (RTU has no transaction ids): after a timeout, wait for the line to stay
  // quiet for twice the response timeout, dropping whatever arrives (1 s at most).
  void drain() {
    const int fd = modbus_get_socket(ctx);
    const int quiet_ms = static_cast<int>(std::min<long>(2 * config.response_timeout.count(), 500));
    for (int i = 0; i < 4; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, quiet_ms) <= 0) break;
      modbus_flush(ctx);
    }
  }

  std::variant<std::vector<std::uint16_t>, PollError> read(int address, const RegisterRead& r) {
    std::this_thread::sleep_for(config.turnaround);
    std::vector<std::uint16_t> regs(r.count);
    modbus_set_slave(ctx, address);
    const int rc = r.function == 3 ? modbus_read_registers(ctx, r.start, r.count, regs.data())
                                   : modbus_read_input_registers(ctx, r.start, r.count, regs.data());
    if (rc == r.count) return regs;
    if (rc >= 0) return PollError::ByteCount;
    const PollError e = classify(errno);
    if (e == PollError::Timeout) {
      drain();
    } else if (e != PollError::Port) {
      modbus_flush(ctx);
    }
    return e;
  }
};

ModbusPoller::ModbusPoller(BusConfig bus, std::vector<PolledMeter> meters, Sink sink,
                           std::shared_ptr<spdlog::logger> log)
    : bus_config_(std::move(bus)), meters_(std::move(meters)), sink_(std::move(sink)), log_(std::move(log)) {}

ModbusPoller::~ModbusPoller() { stop(); }

void ModbusPoller::start() {
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

void ModbusPoller::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void ModbusPoller::run(std::stop_token st) {
  Bus bus(bus_config_, log_);
  std::vector<MeterState> states;
  for (const auto& m : meters_) states.push_back(MeterState{m, {}, {}, {}, {}, Clock::now(), Clock::now() + kExportOffset});
  core::Seconds backoff{1};
  std::string port_logged;
  bool cycle_overrun_logged = false;

  // Counts a request's outcome and logs only when a meter's condition changes.
  auto note = [&](MeterState& s, std::optional<PollError> error, std::string_view what) {
    ++s.stats.polls;
    std::string status;
    if (error) {
      ++s.stats.errors[static_cast<std::size_t>(*error)];
      status = std::string{to_string(*error)} + (what.empty() ? "" : std::string{" ("} + std::string{what} + ")");
    } else {
      ++s.stats.good;
    }
    s.stats.last_error = status;
    if (status == s.logged) return;
    if (status.empty()) {
      log_->info("modbus: {} meter {} at address {} answers", role_name(s.meter.role), name(s.meter.type),
                 s.meter.address);
    } else {
      log_->warn("modbus: {} meter {} at address {}: {}", role_name(s.meter.role), name(s.meter.type),
                 s.meter.address, status);
    }
    s.logged = status;
  };

  while (!st.stop_requested()) {
    const TimePoint cycle_start = Clock::now();
    PollReport report;
    if (!bus.ctx) {
      std::string error;
      if (!bus.open(error)) {
        if (error != port_logged) log_->error("modbus: {}; retrying", error);
        port_logged = error;
        for (auto& s : states) note(s, PollError::Port, error);
        for (auto& s : states) report.stats[static_cast<std::size_t>(s.meter.role)] = s.stats;
        sink_(std::move(report));
        if (!sleep_until(st, Clock::now() + backoff)) break;
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      if (!port_logged.empty() || backoff == core::Seconds{1}) log_->info("modbus: {} open", bus_config_.port);
      port_logged.clear();
      backoff = core::Seconds{1};
    }
    report.port_open = true;
    bool port_lost = false;

    // One request: returns the registers, or notes the failure.
    auto request = [&](MeterState& s, const RegisterRead& r) -> std::optional<std::vector<std::uint16_t>> {
      if (port_lost) return std::nullopt;
      auto result = bus.read(s.meter.address, r);
      if (auto* e = std::get_if<PollError>(&result)) {
        note(s, *e, {});
        if (*e == PollError::Port) port_lost = true;
        return std::nullopt;
      }
      return std::get<std::vector<std::uint16_t>>(std::move(result));
    };
    auto energy = [&](MeterState& s, const RegisterRead& r, std::optional<core::WattHours>& into) {
      auto regs = request(s, r);
      if (!regs) return;
      auto e = decode_energy(s.meter.profile, *regs);
      if (auto* err = std::get_if<DecodeError>(&e)) return note(s, PollError::Implausible, to_string(*err));
      note(s, std::nullopt, {});
      into = std::get<core::WattHours>(e);
    };
    auto currents = [&](MeterState& s) {
      const bool sensorbox = s.meter.type == MeterType::Sensorbox;
      auto regs = request(s, sensorbox ? sensorbox_read() : current_read(s.meter.profile));
      if (!regs) return;
      auto decoded = sensorbox ? decode_sensorbox(*regs, bus_config_.big_cts) : decode_currents(s.meter.profile, *regs);
      if (auto* err = std::get_if<DecodeError>(&decoded)) {
        if (*err == DecodeError::NoNewData) return note(s, std::nullopt, {});
        return note(s, PollError::Implausible, to_string(*err));
      }
      note(s, std::nullopt, {});
      const auto& pc = std::get<PhaseCurrents>(decoded);
      core::MeterReading r;
      r.role = s.meter.role;
      r.currents = pc.currents;
      r.power = pc.power ? pc.power : s.power;
      r.import_energy = s.import_energy;
      r.export_energy = s.export_energy;
      r.taken_at = Clock::now();
      s.stats.last_good = r.taken_at;
      report.readings.push_back(r);
    };
    auto power = [&](MeterState& s) {
      const auto read = power_read(s.meter.profile);
      if (!read) return;
      auto regs = request(s, *read);
      if (!regs) return;
      auto p = decode_power(s.meter.profile, *regs);
      if (auto* err = std::get_if<DecodeError>(&p)) return note(s, PollError::Implausible, to_string(*err));
      note(s, std::nullopt, {});
      s.power = std::get<core::Watts>(p);
    };
    auto has_energy = [](const MeterState& s) { return s.meter.type != MeterType::Sensorbox; };

    // SmartEVSE's order: mains currents, EV energy and power, EV currents,
    // mains energy on its slower schedule, circuit currents.
    for (auto& s : states) {
      if (s.meter.role == core::MeterRole::Mains) currents(s);
    }
    for (auto& s : states) {
      if (s.meter.role != core::MeterRole::Ev) continue;
      energy(s, import_read(s.meter.profile), s.import_energy);
      if (auto r = export_read(s.meter.profile)) energy(s, *r, s.export_energy);
      power(s);
      currents(s);
    }
    for (auto& s : states) {
      if (s.meter.role != core::MeterRole::Mains || !has_energy(s)) continue;
      const auto now = Clock::now();
      if (now >= s.next_import) {
        energy(s, import_read(s.meter.profile), s.import_energy);
        s.next_import = now + kEnergyInterval;
      }
      if (now >= s.next_export) {
        if (auto r = export_read(s.meter.profile)) energy(s, *r, s.export_energy);
        s.next_export = now + kEnergyInterval;
      }
    }
    for (auto& s : states) {
      if (s.meter.role == core::MeterRole::Circuit) currents(s);
    }

    if (port_lost) {
      bus.close();
      report.port_open = false;
    }
    for (auto& s : states) report.stats[static_cast<std::size_t>(s.meter.role)] = s.stats;
    report.cycle_time = std::chrono::duration_cast<core::Milliseconds>(Clock::now() - cycle_start);
    if (report.cycle_time > bus_config_.cycle && !cycle_overrun_logged) {
      cycle_overrun_logged = true;
      log_->warn("modbus: a poll cycle took {} ms, longer than the {} ms interval", report.cycle_time.count(),
                 bus_config_.cycle.count());
    }
    sink_(std::move(report));
    if (!sleep_until(st, port_lost ? Clock::now() + backoff : cycle_start + bus_config_.cycle)) break;
  }
}

std::chrono::microseconds theoretical_read_time(const BusConfig& bus, std::uint16_t registers) {
  // Request: address, function, start (2), count (2), CRC (2) = 8 bytes.
  // Reply: address, function, byte count, data, CRC (2) = 5 + 2n bytes.
  const double bits = 11.0 * (8 + 5 + 2.0 * registers);
  const double gaps = 2 * 3.5 * 11.0;
  const double us = (bits + gaps) * 1e6 / bus.baud;
  return std::chrono::microseconds{static_cast<long>(us + 0.5)} + bus.turnaround;
}

}  // namespace evsed::meters
