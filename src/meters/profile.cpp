#include "evsed/meters/profile.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace evsed::meters {

namespace {

using T = MeterType;
using D = DataType;
using E = Endianness;

constexpr double kMaxAmps = 2000.0;

// One row per SmartEVSE meter type (control-logic.md §4.2, §4.3).
MeterProfile row(T type, int fc, D data, E order, std::uint16_t ireg, int idiv, std::uint16_t preg, int pdiv,
                 std::uint16_t ereg, int ediv, std::optional<std::uint16_t> export_reg) {
  MeterProfile p;
  p.type = type;
  p.function = fc;
  p.data = data;
  p.order = order;
  p.current_reg = ireg;
  p.current_div = idiv;
  p.power_reg = preg;
  p.power_div = pdiv;
  p.import_reg = ereg;
  p.energy_div = ediv;
  p.export_reg = export_reg;
  return p;
}

MeterProfile with_phase_powers(MeterProfile p, std::uint16_t read_regs, int index, int div) {
  p.current_read_regs = read_regs;
  p.phase_power_index = index;
  p.phase_power_div = div;
  return p;
}

double pow10(int e) { return std::pow(10.0, e); }

// To the nearest 0.1 A: a float register holding 5.2 A is 5.19999981 A, which
// truncating (as the firmware's integer division does) would show as 5.1 A.
core::DeciAmps deci_amps(double amps) { return core::DeciAmps{static_cast<std::int32_t>(std::lround(amps * 10.0))}; }

std::uint16_t swap_bytes(std::uint16_t v) { return static_cast<std::uint16_t>((v << 8) | (v >> 8)); }

std::uint32_t assemble32(std::uint16_t r0, std::uint16_t r1, Endianness e) {
  switch (e) {
    case E::HbfHwf: return (std::uint32_t{r0} << 16) | r1;
    case E::HbfLwf: return (std::uint32_t{r1} << 16) | r0;
    case E::LbfHwf: return (std::uint32_t{swap_bytes(r0)} << 16) | swap_bytes(r1);
    case E::LbfLwf: return (std::uint32_t{swap_bytes(r1)} << 16) | swap_bytes(r0);
  }
  return 0;
}

void split32(std::uint32_t v, std::uint16_t& r0, std::uint16_t& r1, Endianness e) {
  const auto hi = static_cast<std::uint16_t>(v >> 16);
  const auto lo = static_cast<std::uint16_t>(v & 0xFFFF);
  switch (e) {
    case E::HbfHwf: r0 = hi; r1 = lo; break;
    case E::HbfLwf: r0 = lo; r1 = hi; break;
    case E::LbfHwf: r0 = swap_bytes(hi); r1 = swap_bytes(lo); break;
    case E::LbfLwf: r0 = swap_bytes(lo); r1 = swap_bytes(hi); break;
  }
}

bool plausible_amps(double a) { return std::isfinite(a) && std::fabs(a) <= kMaxAmps; }

// Energy counters are 32-bit integers on int16 meters and SunSpec.
DataType energy_type(const MeterProfile& p) {
  return p.data == D::Int16 || p.sunspec ? D::Int32 : p.data;
}

std::uint16_t energy_regs(const MeterProfile& p) {
  if (p.energy_64bit) return 4;
  return static_cast<std::uint16_t>(registers_per_value(energy_type(p)));
}

}  // namespace

int registers_per_value(DataType d) { return d == D::Int16 ? 1 : 2; }

std::optional<MeterProfile> profile_of(MeterType t) {
  switch (t) {
    case T::PhoenixC: return row(t, 4, D::Int32, E::HbfLwf, 0x000C, 3, 0x0028, 1, 0x003E, 1, std::nullopt);
    case T::Finder7E: return row(t, 4, D::Float32, E::HbfHwf, 0x100E, 0, 0x1026, 0, 0x1106, 3, 0x110E);
    case T::Eastron3P:
      return with_phase_powers(row(t, 4, D::Float32, E::HbfHwf, 0x0006, 0, 0x0034, 0, 0x0048, 0, 0x004A), 12, 3, 0);
    case T::InvEastron: {
      // Mounted the other way round: what it counts as export is the site's import.
      auto p = with_phase_powers(row(t, 4, D::Float32, E::HbfHwf, 0x0006, 0, 0x0034, 0, 0x004A, 0, 0x0048), 12, 3, 0);
      p.negate = true;
      return p;
    }
    case T::Abb: {
      auto p = with_phase_powers(row(t, 3, D::Int32, E::HbfHwf, 0x5B0C, 2, 0x5B14, 2, 0x5000, 2, 0x5004), 16, 5, 2);
      p.energy_64bit = true;
      return p;
    }
    case T::SolarEdge: {
      auto p = row(t, 3, D::Int16, E::HbfHwf, 40191, 0, 40206, 0, 40234, 3, 40226);
      p.sunspec = true;
      return p;
    }
    case T::Wago: return row(t, 3, D::Float32, E::HbfHwf, 0x500C, 0, 0x5012, -3, 0x600C, 0, 0x6018);
    case T::Eastron1P:
      return with_phase_powers(row(t, 4, D::Float32, E::HbfHwf, 0x0006, 0, 0x000C, 0, 0x0048, 0, 0x004A), 12, 3, 0);
    case T::Finder7M:
      return with_phase_powers(row(t, 4, D::Float32, E::HbfHwf, 2516, 0, 2536, 0, 2638, 3, std::nullopt), 20, 7, 0);
    case T::Sinotimer: {
      auto p = row(t, 4, D::Int16, E::HbfHwf, 0x0003, 2, 0x0008, 0, 0x0027, 2, 0x0031);
      p.power_is_three_phases = true;
      return p;
    }
    case T::Schneider:
      return with_phase_powers(row(t, 3, D::Float32, E::HbfHwf, 0x0BB7, 0, 0x0BF3, -3, 0xB02B, 0, std::nullopt), 60,
                               27, -3);
    case T::Chint3P:
      return with_phase_powers(row(t, 3, D::Float32, E::HbfHwf, 0x200C, 3, 0x2012, 1, 0x101E, 0, std::nullopt), 14, 4,
                               1);
    case T::CGavazzi: return row(t, 4, D::Int32, E::HbfLwf, 0x000C, 3, 0x0028, 1, 0x0034, 1, std::nullopt);
    case T::Chint1P: {
      auto p = with_phase_powers(row(t, 3, D::Float32, E::HbfHwf, 0x2002, 0, 0x2004, -3, 0x4000, 0, std::nullopt), 4,
                                 1, -3);
      p.single_phase = true;
      return p;
    }
    default: return std::nullopt;
  }
}

MeterProfile custom_profile(const CustomMeter& c) {
  return row(T::Custom, c.function, c.data, c.order, c.current_reg, c.current_div, c.power_reg, c.power_div,
             c.energy_reg, c.energy_div, std::nullopt);
}

RegisterRead current_read(const MeterProfile& p) {
  if (p.sunspec) return {p.function, p.current_reg, 4};  // three currents and their scale factor
  const auto count = p.current_read_regs != 0 ? p.current_read_regs
                                              : static_cast<std::uint16_t>(3 * registers_per_value(p.data));
  return {p.function, p.current_reg, count};
}

std::optional<RegisterRead> power_read(const MeterProfile& p) {
  if (p.phase_power_index >= 0) return std::nullopt;
  if (p.sunspec) return RegisterRead{p.function, p.power_reg, 2};
  const int values = p.power_is_three_phases ? 3 : 1;
  return RegisterRead{p.function, p.power_reg, static_cast<std::uint16_t>(values * registers_per_value(p.data))};
}

RegisterRead import_read(const MeterProfile& p) { return {p.function, p.import_reg, energy_regs(p)}; }

std::optional<RegisterRead> export_read(const MeterProfile& p) {
  if (!p.export_reg) return std::nullopt;
  return RegisterRead{p.function, *p.export_reg, energy_regs(p)};
}

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::WrongLength: return "wrong length";
    case DecodeError::Implausible: return "implausible value";
    case DecodeError::NoNewData: return "no new data";
  }
  return "?";
}

std::optional<double> decode_value(std::span<const std::uint16_t> regs, std::size_t index, DataType d, Endianness e) {
  const std::size_t n = static_cast<std::size_t>(registers_per_value(d));
  const std::size_t at = index * n;
  if (at + n > regs.size()) return std::nullopt;
  if (d == D::Int16) {
    const std::uint16_t r = (e == E::LbfLwf || e == E::LbfHwf) ? swap_bytes(regs[at]) : regs[at];
    return static_cast<double>(static_cast<std::int16_t>(r));
  }
  const std::uint32_t v = assemble32(regs[at], regs[at + 1], e);
  if (d == D::Int32) return static_cast<double>(static_cast<std::int32_t>(v));
  return static_cast<double>(std::bit_cast<float>(v));
}

void encode_value(std::span<std::uint16_t> regs, std::size_t index, double raw, DataType d, Endianness e) {
  const std::size_t n = static_cast<std::size_t>(registers_per_value(d));
  const std::size_t at = index * n;
  if (at + n > regs.size()) return;
  if (d == D::Int16) {
    const auto r = static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(raw)));
    regs[at] = (e == E::LbfLwf || e == E::LbfHwf) ? swap_bytes(r) : r;
    return;
  }
  const std::uint32_t v = d == D::Int32 ? static_cast<std::uint32_t>(static_cast<std::int32_t>(std::llround(raw)))
                                        : std::bit_cast<std::uint32_t>(static_cast<float>(raw));
  split32(v, regs[at], regs[at + 1], e);
}

Decoded<PhaseCurrents> decode_currents(const MeterProfile& p, std::span<const std::uint16_t> regs) {
  const RegisterRead read = current_read(p);
  if (regs.size() < read.count) return DecodeError::WrongLength;
  PhaseCurrents out;
  std::array<double, 3> amps{};
  if (p.sunspec) {
    const int sf = static_cast<std::int16_t>(regs[3]);
    if (sf < -10 || sf > 10) return DecodeError::Implausible;
    for (std::size_t i = 0; i < 3; ++i) amps[i] = static_cast<std::int16_t>(regs[i]) * pow10(sf);
  } else {
    const std::size_t phases = p.single_phase ? 1 : 3;
    for (std::size_t i = 0; i < phases; ++i) {
      const auto v = decode_value(regs, i, p.data, p.order);
      if (!v) return DecodeError::WrongLength;
      amps[i] = *v * pow10(-p.current_div);  // raw * 10^(3-div) mA
    }
  }
  for (double a : amps) {
    if (!plausible_amps(a)) return DecodeError::Implausible;
  }
  if (p.phase_power_index >= 0) {
    const std::size_t phases = p.single_phase ? 1 : 3;
    double total = 0.0;
    for (std::size_t i = 0; i < phases; ++i) {
      const auto v = decode_value(regs, static_cast<std::size_t>(p.phase_power_index) + i, p.data, p.order);
      if (!v || !std::isfinite(*v)) return DecodeError::Implausible;
      double w = *v / pow10(p.phase_power_div);
      if (p.negate) w = -w;
      // These meters give the current's size; the power's sign says import or export.
      amps[i] = w < 0 ? -std::fabs(amps[i]) : std::fabs(amps[i]);
      total += w;
    }
    out.power = core::Watts{static_cast<std::int32_t>(std::lround(total))};
  }
  for (std::size_t i = 0; i < 3; ++i) {
    out.currents[i] = deci_amps(amps[i]);
  }
  return out;
}

Decoded<core::Watts> decode_power(const MeterProfile& p, std::span<const std::uint16_t> regs) {
  const auto read = power_read(p);
  if (!read || regs.size() < read->count) return DecodeError::WrongLength;
  double w = 0.0;
  if (p.sunspec) {
    const int sf = static_cast<std::int16_t>(regs[1]);
    if (sf < -10 || sf > 10) return DecodeError::Implausible;
    w = static_cast<std::int16_t>(regs[0]) * pow10(sf);
  } else {
    const std::size_t values = p.power_is_three_phases ? 3 : 1;
    for (std::size_t i = 0; i < values; ++i) {
      const auto v = decode_value(regs, i, p.data, p.order);
      if (!v) return DecodeError::WrongLength;
      w += *v / pow10(p.power_div);
    }
  }
  if (!std::isfinite(w) || std::fabs(w) > 2.0e6) return DecodeError::Implausible;
  if (p.negate) w = -w;
  return core::Watts{static_cast<std::int32_t>(std::lround(w))};
}

Decoded<core::WattHours> decode_energy(const MeterProfile& p, std::span<const std::uint16_t> regs) {
  const std::uint16_t need = energy_regs(p);
  if (regs.size() < need) return DecodeError::WrongLength;
  double raw = 0.0;
  if (p.energy_64bit) {
    raw = static_cast<double>(assemble32(regs[2], regs[3], E::HbfHwf));  // the low 32 bits
  } else if (p.sunspec || p.data == D::Int16) {
    raw = static_cast<double>(assemble32(regs[0], regs[1], E::HbfHwf));
  } else {
    const auto v = decode_value(regs, 0, p.data, p.order);
    if (!v) return DecodeError::WrongLength;
    raw = *v;
  }
  const double wh = raw * pow10(3 - p.energy_div);
  if (!std::isfinite(wh) || wh < 0 || wh > 1.0e15) return DecodeError::Implausible;
  return core::WattHours{static_cast<std::int64_t>(std::llround(wh))};
}

RegisterRead sensorbox_read() { return {4, 0, 20}; }

Decoded<PhaseCurrents> decode_sensorbox(std::span<const std::uint16_t> regs, bool big_cts) {
  if (regs.size() < 20) return DecodeError::WrongLength;
  const std::uint8_t flags = regs[1] & 0xFF;
  if (flags == 0) return DecodeError::NoNewData;
  const bool p1 = (flags & 0x80) != 0;  // smart meter (P1) data instead of the CTs
  const std::size_t first = p1 ? 8 : 14;
  PhaseCurrents out;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto v = decode_value(regs.subspan(first), i, D::Float32, E::HbfHwf);
    if (!v) return DecodeError::WrongLength;
    double a = *v;
    if (!plausible_amps(a)) return DecodeError::Implausible;
    if (!p1) {
      if (big_cts) a *= 2.0;
      if (std::fabs(a) < 0.001) a = 0.0;
    }
    out.currents[i] = deci_amps(a);
  }
  return out;
}

void encode_meter(const MeterProfile& p, const MeterValues& v, RegisterImage& image) {
  std::span<std::uint16_t> regs{p.function == 3 ? image.holding : image.input};
  const auto from = [&](std::uint16_t reg) { return regs.subspan(reg); };
  // Meters with per-phase powers give magnitudes; the rest a signed current.
  const bool sign_from_power = p.phase_power_index >= 0;
  if (p.sunspec) {
    for (std::size_t i = 0; i < 3; ++i) {
      regs[p.current_reg + i] = static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(v.currents_a[i] * 100)));
    }
    regs[p.current_reg + 3] = static_cast<std::uint16_t>(static_cast<std::int16_t>(-2));
    double total = v.power_w[0] + v.power_w[1] + v.power_w[2];
    regs[p.power_reg] = static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(total / 10.0)));
    regs[p.power_reg + 1] = 1;
  } else {
    const std::size_t phases = p.single_phase ? 1 : 3;
    for (std::size_t i = 0; i < phases; ++i) {
      const double a = sign_from_power ? std::fabs(v.currents_a[i]) : v.currents_a[i];
      encode_value(from(p.current_reg), i, a * pow10(p.current_div), p.data, p.order);
      if (sign_from_power) {
        const double w = p.negate ? -v.power_w[i] : v.power_w[i];
        encode_value(from(p.current_reg), static_cast<std::size_t>(p.phase_power_index) + i,
                     w * pow10(p.phase_power_div), p.data, p.order);
      }
    }
    if (!sign_from_power) {
      const double total = v.power_w[0] + v.power_w[1] + v.power_w[2];
      if (p.power_is_three_phases) {
        for (std::size_t i = 0; i < 3; ++i) {
          encode_value(from(p.power_reg), i, v.power_w[i] * pow10(p.power_div), p.data, p.order);
        }
      } else {
        encode_value(from(p.power_reg), 0, (p.negate ? -total : total) * pow10(p.power_div), p.data, p.order);
      }
    }
  }
  const auto energy = [&](std::uint16_t reg, double kwh) {
    const double raw = kwh * 1000.0 / pow10(3 - p.energy_div);
    if (p.energy_64bit) {
      regs[reg] = 0;
      regs[reg + 1u] = 0;
      split32(static_cast<std::uint32_t>(std::llround(raw)), regs[reg + 2u], regs[reg + 3u], E::HbfHwf);
    } else if (p.sunspec || p.data == D::Int16) {
      split32(static_cast<std::uint32_t>(std::llround(raw)), regs[reg], regs[reg + 1u], E::HbfHwf);
    } else {
      encode_value(from(reg), 0, raw, p.data, p.order);
    }
  };
  energy(p.import_reg, v.import_kwh);
  if (p.export_reg) energy(*p.export_reg, v.export_kwh);
}

void encode_sensorbox(const MeterValues& v, RegisterImage& image) {
  auto& regs = image.input;
  regs[0] = (1 << 8) | 0x10;  // firmware 1, CT inputs in use
  regs[1] = 0x01;             // new data, from the CTs
  for (std::size_t i = 0; i < 3; ++i) {
    encode_value(std::span<std::uint16_t>{regs}.subspan(14), i, v.currents_a[i], D::Float32, E::HbfHwf);
  }
}

}  // namespace evsed::meters
