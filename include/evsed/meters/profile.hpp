#pragma once
// SmartEVSE's meter profiles as data (control-logic.md §4.2, §4.3): where each
// meter keeps currents, power and energy, in which format, and how to scale
// them. Decoding is pure: register images in, dA / W / Wh out.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "evsed/core/units.hpp"
#include "evsed/meters/meter_type.hpp"

namespace evsed::meters {

enum class DataType : std::uint8_t { Int32 = 0, Float32 = 1, Int16 = 2 };

// Byte and word order of multi-register values (SmartEVSE's "BYTE ORD").
enum class Endianness : std::uint8_t {
  LbfLwf = 0,  // little-endian bytes, low word first (fully little endian)
  LbfHwf = 1,  // little-endian bytes, high word first
  HbfLwf = 2,  // big-endian bytes, low word first ("word swapped")
  HbfHwf = 3,  // big-endian bytes, high word first (Modbus' usual order)
};

// One read: function code, first register, number of registers.
struct RegisterRead {
  int function = 4;
  std::uint16_t start = 0;
  std::uint16_t count = 0;
};

struct MeterProfile {
  MeterType type = MeterType::Disabled;
  int function = 4;
  DataType data = DataType::Float32;
  Endianness order = Endianness::HbfHwf;
  // Currents: first register of L1 (L2, L3 follow) and its decimal divisor:
  // decoded mA = raw * 10^(3 - divisor).
  std::uint16_t current_reg = 0;
  int current_div = 0;
  // Power: W = raw / 10^divisor (a negative divisor multiplies: kW meters).
  std::uint16_t power_reg = 0;
  int power_div = 0;
  // Energy: Wh = raw * 10^(3 - divisor).
  std::uint16_t import_reg = 0;
  int energy_div = 0;
  std::optional<std::uint16_t> export_reg;  // only where SmartEVSE requests it
  // The current read may be longer than the three currents: it then also
  // carries the per-phase powers, starting at this value index, whose sign
  // gives the currents' sign (export) and whose sum is the meter's power.
  std::uint16_t current_read_regs = 0;  // 0: just the three currents
  int phase_power_index = -1;
  int phase_power_div = 0;
  bool negate = false;               // mounted upside down: every power negated, import/export swapped
  bool power_is_three_phases = false;  // power read is three per-phase values, summed
  bool energy_64bit = false;         // 64-bit counter; its low 32 bits are used
  bool sunspec = false;              // int16 values with a scale-factor register after them
  bool single_phase = false;
};

// The profile of a SmartEVSE meter type; empty for non-Modbus types.
std::optional<MeterProfile> profile_of(MeterType t);

// The user-defined meter (SmartEVSE "Custom"): menu settings to a profile.
struct CustomMeter {
  Endianness order = Endianness::HbfHwf;
  DataType data = DataType::Float32;
  int function = 4;
  std::uint16_t current_reg = 0;
  int current_div = 0;
  std::uint16_t power_reg = 0;
  int power_div = 0;
  std::uint16_t energy_reg = 0;
  int energy_div = 0;
  friend bool operator==(const CustomMeter&, const CustomMeter&) = default;
};
MeterProfile custom_profile(const CustomMeter& c);

// Registers per value of a data type.
int registers_per_value(DataType d);

// What to read for each quantity.
RegisterRead current_read(const MeterProfile& p);
// Separate power read; empty when the current read delivers power.
std::optional<RegisterRead> power_read(const MeterProfile& p);
RegisterRead import_read(const MeterProfile& p);
std::optional<RegisterRead> export_read(const MeterProfile& p);

enum class DecodeError : std::uint8_t {
  WrongLength,  // fewer registers than the profile needs
  Implausible,  // NaN, infinite, or beyond 2000 A
  NoNewData,    // Sensorbox: nothing new since the last read
};
std::string_view to_string(DecodeError e);

struct PhaseCurrents {
  std::array<core::DeciAmps, 3> currents{};
  std::optional<core::Watts> power;  // sum of phase powers, where the read carries them
};

template <class T>
using Decoded = std::variant<T, DecodeError>;

// Assembles one value at value index `index` (in units of the data type).
std::optional<double> decode_value(std::span<const std::uint16_t> regs, std::size_t index, DataType d, Endianness e);
// And the inverse, for simulators and tests: writes `value` (already scaled to raw) at `index`.
void encode_value(std::span<std::uint16_t> regs, std::size_t index, double raw, DataType d, Endianness e);

Decoded<PhaseCurrents> decode_currents(const MeterProfile& p, std::span<const std::uint16_t> regs);
Decoded<core::Watts> decode_power(const MeterProfile& p, std::span<const std::uint16_t> regs);
Decoded<core::WattHours> decode_energy(const MeterProfile& p, std::span<const std::uint16_t> regs);

// Sensorbox (own layout: flags, P1 or CT currents). CT values are doubled when
// MaxMains is above 100 A (200 A / 50 mA transformers).
RegisterRead sensorbox_read();
Decoded<PhaseCurrents> decode_sensorbox(std::span<const std::uint16_t> regs, bool big_cts);

// Meter values a simulator serves, in natural units.
struct MeterValues {
  std::array<double, 3> currents_a{};   // + import, - export
  std::array<double, 3> power_w{};      // per phase, + import
  double import_kwh = 0.0;
  double export_kwh = 0.0;
};

// Fills a register image (65536 registers per function) the way the meter
// keeps these values, so that decoding reads them back.
struct RegisterImage {
  std::array<std::uint16_t, 65536> input{};    // function 4
  std::array<std::uint16_t, 65536> holding{};  // function 3
};
void encode_meter(const MeterProfile& p, const MeterValues& v, RegisterImage& image);
void encode_sensorbox(const MeterValues& v, RegisterImage& image);

}  // namespace evsed::meters
