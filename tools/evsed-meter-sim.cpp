// evsed-meter-sim: a Modbus-RTU energy meter simulator (libmodbus server).
// Serves any SmartEVSE meter profile at any address on a serial device, with
// values and faults changed at run time through commands on stdin. Several
// meters can share the device, as on an RS-485 bus: requests are framed here
// (libmodbus' own server serves a single address and, after a request for
// another one, waits for that slave's reply), answers come from libmodbus.

#include <modbus.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evsed/meters/meter_type.hpp"
#include "evsed/meters/profile.hpp"

namespace {

using namespace evsed::meters;

enum class Fault { None, Silence, Crc, Exception, Slow, Short };

struct Meter {
  MeterType type = MeterType::Disabled;
  MeterProfile profile;
  int address = 0;
  MeterValues values;
  Fault fault = Fault::None;
  modbus_t* reply_ctx = nullptr;  // shares the bus descriptor, answers as this address
  modbus_mapping_t* mapping = nullptr;
  std::uint64_t requests = 0;
};

const char* kUsage =
    "Usage: evsed-meter-sim --device PATH --meter TYPE@ADDRESS [--meter TYPE@ADDRESS ...]\n"
    "                       [--baud 9600] [--parity N|E|O] [--stop-bits 1|2] [--slow-ms 500]\n"
    "                       [--wire-time]   (answer only after the frames' time on a real wire)\n"
    "                       [--custom ORDER,TYPE,FUNCTION,IREG,IDIV,PREG,PDIV,EREG,EDIV]\n"
    "Serves SmartEVSE meter profiles (\"Eastron3P\", \"ABB\", \"Phoenix C\", ...) on a serial device.\n"
    "Commands on stdin, one per line; each is answered \"ok\" or \"error: ...\" on stdout:\n"
    "  set ADDRESS currents L1 L2 L3      amperes, - = export; power follows at 230 V\n"
    "  set ADDRESS power L1 L2 L3         watts per phase\n"
    "  set ADDRESS energy IMPORT EXPORT   kWh\n"
    "  fault ADDRESS none|silence|crc|exception|slow|short\n"
    "  stats ADDRESS                      requests answered so far\n"
    "  quit\n";

std::uint16_t crc16(const std::uint8_t* data, std::size_t n) {
  std::uint16_t crc = 0xFFFF;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

void refresh(Meter& m) {
  RegisterImage image;
  if (m.type == MeterType::Sensorbox) {
    encode_sensorbox(m.values, image);
  } else {
    encode_meter(m.profile, m.values, image);
  }
  std::memcpy(m.mapping->tab_input_registers, image.input.data(), sizeof(std::uint16_t) * 65535);
  std::memcpy(m.mapping->tab_registers, image.holding.data(), sizeof(std::uint16_t) * 65535);
}

// A read reply built by hand, for the faults libmodbus would never send.
std::vector<std::uint8_t> read_reply(const Meter& m, const std::uint8_t* q, bool good_crc, bool short_count) {
  const int function = q[1];
  const int start = (q[2] << 8) | q[3];
  int count = (q[4] << 8) | q[5];
  if (short_count && count > 1) --count;
  const std::uint16_t* bank = function == 3 ? m.mapping->tab_registers : m.mapping->tab_input_registers;
  // A short reply is consistent in itself (byte count = data) but carries one
  // register less than asked for.
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(m.address), static_cast<std::uint8_t>(function),
                                static_cast<std::uint8_t>(2 * count)};
  for (int i = 0; i < count && start + i < 65535; ++i) {
    out.push_back(static_cast<std::uint8_t>(bank[start + i] >> 8));
    out.push_back(static_cast<std::uint8_t>(bank[start + i] & 0xFF));
  }
  std::uint16_t crc = crc16(out.data(), out.size());
  if (!good_crc) crc ^= 0x5A5A;
  out.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  out.push_back(static_cast<std::uint8_t>(crc >> 8));
  return out;
}

class Simulator {
 public:
  int run(int argc, char** argv);

 private:
  bool parse(int argc, char** argv);
  std::string command(const std::string& line);
  void serve(Meter& m, const std::uint8_t* q, int length);
  Meter* find(int address);

  std::string device_;
  int baud_ = 9600;
  char parity_ = 'N';
  int stop_bits_ = 1;
  int slow_ms_ = 500;
  bool wire_time_ = false;
  std::optional<CustomMeter> custom_;
  std::vector<std::pair<MeterType, int>> wanted_;
  std::vector<std::unique_ptr<Meter>> meters_;
  std::mutex mutex_;
  std::atomic<bool> quit_{false};
  int fd_ = -1;
};

bool Simulator::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--device") {
      device_ = value();
    } else if (arg == "--baud") {
      baud_ = std::stoi(value());
    } else if (arg == "--parity") {
      parity_ = value().at(0);
    } else if (arg == "--stop-bits") {
      stop_bits_ = std::stoi(value());
    } else if (arg == "--wire-time") {
      wire_time_ = true;
    } else if (arg == "--slow-ms") {
      slow_ms_ = std::stoi(value());
    } else if (arg == "--meter") {
      const std::string v = value();
      const auto at = v.rfind('@');
      if (at == std::string::npos) throw std::runtime_error("--meter wants TYPE@ADDRESS, got " + v);
      const auto type = meter_type_from_name(v.substr(0, at));
      if (!type || !(is_modbus(*type))) throw std::runtime_error("not a Modbus meter type: " + v.substr(0, at));
      const int address = std::stoi(v.substr(at + 1));
      if (address < 1 || address > 247) throw std::runtime_error("address must be 1..247");
      wanted_.emplace_back(*type, address);
    } else if (arg == "--custom") {
      std::istringstream in(value());
      std::string part;
      std::vector<int> f;
      while (std::getline(in, part, ',')) f.push_back(std::stoi(part));
      if (f.size() != 9) throw std::runtime_error("--custom wants 9 comma-separated numbers");
      CustomMeter c;
      c.order = static_cast<Endianness>(f[0]);
      c.data = static_cast<DataType>(f[1]);
      c.function = f[2];
      c.current_reg = static_cast<std::uint16_t>(f[3]);
      c.current_div = f[4];
      c.power_reg = static_cast<std::uint16_t>(f[5]);
      c.power_div = f[6];
      c.energy_reg = static_cast<std::uint16_t>(f[7]);
      c.energy_div = f[8];
      custom_ = c;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return false;
    } else {
      throw std::runtime_error("unknown option " + arg);
    }
  }
  if (device_.empty() || wanted_.empty()) throw std::runtime_error("--device and at least one --meter are needed");
  return true;
}

Meter* Simulator::find(int address) {
  for (auto& m : meters_) {
    if (m->address == address) return m.get();
  }
  return nullptr;
}

std::string Simulator::command(const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb.empty()) return "";
  if (verb == "quit") {
    quit_ = true;
    return "ok";
  }
  int address = 0;
  in >> address;
  std::lock_guard lock(mutex_);
  Meter* m = find(address);
  if (!m) return "error: no meter at address " + std::to_string(address);
  if (verb == "stats") return "ok " + std::to_string(m->requests);
  std::string what;
  in >> what;
  if (verb == "fault") {
    static const std::map<std::string, Fault> kFaults{{"none", Fault::None},       {"silence", Fault::Silence},
                                                      {"crc", Fault::Crc},         {"exception", Fault::Exception},
                                                      {"slow", Fault::Slow},       {"short", Fault::Short}};
    auto it = kFaults.find(what);
    if (it == kFaults.end()) return "error: unknown fault " + what;
    m->fault = it->second;
    return "ok";
  }
  if (verb != "set") return "error: unknown command " + verb;
  double a = 0, b = 0, c = 0;
  if (what == "currents" && (in >> a >> b >> c)) {
    m->values.currents_a = {a, b, c};
    m->values.power_w = {a * 230.0, b * 230.0, c * 230.0};
  } else if (what == "power" && (in >> a >> b >> c)) {
    m->values.power_w = {a, b, c};
  } else if (what == "energy" && (in >> a >> b)) {
    m->values.import_kwh = a;
    m->values.export_kwh = b;
  } else {
    return "error: usage: set ADDRESS currents|power L1 L2 L3, or set ADDRESS energy IMPORT EXPORT";
  }
  refresh(*m);
  return "ok";
}

void Simulator::serve(Meter& m, const std::uint8_t* q, int length) {
  ++m.requests;
  if (wire_time_ && (q[1] == 3 || q[1] == 4)) {
    // A pty moves bytes at once; a real line takes 11 bits per character, and
    // 3.5 characters of silence after each frame.
    const int registers = (q[4] << 8) | q[5];
    const double chars = 8 + 5 + 2.0 * registers + 2 * 3.5;
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(chars * 11 * 1e6 / baud_)));
  }
  switch (m.fault) {
    case Fault::Silence: return;
    case Fault::Exception: modbus_reply_exception(m.reply_ctx, q, MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE); return;
    case Fault::Slow:
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_));
      modbus_reply(m.reply_ctx, q, length, m.mapping);
      return;
    case Fault::Crc:
    case Fault::Short: {
      if (q[1] != 3 && q[1] != 4) return;
      const auto reply = read_reply(m, q, m.fault != Fault::Crc, m.fault == Fault::Short);
      if (::write(fd_, reply.data(), reply.size()) < 0) std::cerr << "evsed-meter-sim: write: " << std::strerror(errno) << "\n";
      return;
    }
    case Fault::None: modbus_reply(m.reply_ctx, q, length, m.mapping); return;
  }
}

int Simulator::run(int argc, char** argv) {
  try {
    if (!parse(argc, argv)) return 0;
  } catch (const std::exception& e) {
    std::cerr << "evsed-meter-sim: " << e.what() << "\n" << kUsage;
    return 2;
  }
  modbus_t* bus = modbus_new_rtu(device_.c_str(), baud_, parity_, 8, stop_bits_);
  if (!bus) {
    std::cerr << "evsed-meter-sim: " << modbus_strerror(errno) << "\n";
    return 1;
  }
  modbus_set_slave(bus, wanted_.front().second);
  if (modbus_connect(bus) != 0) {
    std::cerr << "evsed-meter-sim: " << device_ << ": " << modbus_strerror(errno) << "\n";
    return 1;
  }
  fd_ = modbus_get_socket(bus);
  for (const auto& [type, address] : wanted_) {
    auto m = std::make_unique<Meter>();
    m->type = type;
    m->address = type == MeterType::Sensorbox ? 10 : address;
    if (type == MeterType::Custom) {
      if (!custom_) {
        std::cerr << "evsed-meter-sim: a Custom meter needs --custom\n";
        return 2;
      }
      m->profile = custom_profile(*custom_);
    } else if (auto p = profile_of(type)) {
      m->profile = *p;
    }
    m->mapping = modbus_mapping_new(0, 0, 65535, 65535);
    m->reply_ctx = modbus_new_rtu(device_.c_str(), baud_, parity_, 8, stop_bits_);
    modbus_set_socket(m->reply_ctx, fd_);
    modbus_set_slave(m->reply_ctx, m->address);
    refresh(*m);
    meters_.push_back(std::move(m));
  }

  std::thread control([this] {
    std::string line;
    while (!quit_ && std::getline(std::cin, line)) {
      const std::string answer = command(line);
      if (!answer.empty()) std::cout << answer << std::endl;
    }
  });
  control.detach();  // ends with stdin or the process

  std::cout << "ready" << std::endl;
  int status = 0;
  std::vector<std::uint8_t> pending;
  while (!quit_) {
    pollfd p{fd_, POLLIN, 0};
    // A request is a burst of bytes; a pause of 20 ms ends it.
    const int ready = ::poll(&p, 1, pending.empty() ? 200 : 20);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      std::uint8_t buf[256];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0 || (p.revents & (POLLHUP | POLLERR))) {
        std::cerr << "evsed-meter-sim: " << device_ << ": the device went away\n";
        status = 1;
        break;
      }
      pending.insert(pending.end(), buf, buf + n);
      if (pending.size() < 8) continue;
    } else if (pending.size() < 8) {
      pending.clear();  // a fragment: noise on the line
      continue;
    }
    // Read requests (function 3 or 4) are eight bytes with the CRC last.
    std::vector<std::uint8_t> frame(pending.begin(), pending.begin() + 8);
    pending.erase(pending.begin(), pending.begin() + 8);
    if ((frame[1] != 3 && frame[1] != 4) || crc16(frame.data(), 6) != (frame[6] | (frame[7] << 8))) {
      pending.clear();
      continue;
    }
    std::lock_guard lock(mutex_);
    if (Meter* m = find(frame[0])) serve(*m, frame.data(), 8);
  }
  for (auto& m : meters_) {
    modbus_mapping_free(m->mapping);
    modbus_free(m->reply_ctx);
  }
  modbus_close(bus);
  modbus_free(bus);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Simulator sim;
  return sim.run(argc, argv);
}
