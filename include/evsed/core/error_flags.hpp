#pragma once
// Error bit mask. Bits 0..7 are SmartEVSE's (REST error_id = highest bit + 1);
// bits 8 and up are faults only evsed detects, reported in evsed's own status.

#include <cstdint>
#include <string_view>

namespace evsed::core {

enum class ErrorFlag : std::uint16_t {
  Less6A = 1U << 0,         // not enough power / waiting for solar
  CtNoComm = 1U << 1,       // mains meter data lost
  TempHigh = 1U << 2,
  EvNoComm = 1U << 3,       // EV meter data lost
  RcmTripped = 1U << 4,
  RcmTest = 1U << 5,        // not used on this board
  CircuitNoComm = 1U << 6,  // circuit meter data lost
  // evsed only
  PilotFault = 1U << 8,     // pilot window invalid for too long (short, F, sensing fault)
  DiodeFault = 1U << 9,     // car requested power but its diode is missing
  HardwareFault = 1U << 10, // a write or read to the board failed
};

class ErrorFlags {
 public:
  constexpr ErrorFlags() = default;
  constexpr explicit ErrorFlags(std::uint16_t bits) : bits_(bits) {}
  [[nodiscard]] constexpr bool has(ErrorFlag f) const { return (bits_ & static_cast<std::uint16_t>(f)) != 0; }
  [[nodiscard]] constexpr bool any() const { return bits_ != 0; }
  [[nodiscard]] constexpr std::uint16_t bits() const { return bits_; }
  constexpr void set(ErrorFlag f) { bits_ |= static_cast<std::uint16_t>(f); }
  constexpr void clear(ErrorFlag f) { bits_ &= static_cast<std::uint16_t>(~static_cast<std::uint16_t>(f)); }
  friend constexpr bool operator==(ErrorFlags, ErrorFlags) = default;

 private:
  std::uint16_t bits_ = 0;
};

// Stable identifier for logs, MQTT and the evsed status object ("less_6a", ...).
std::string_view to_string(ErrorFlag f);

inline constexpr ErrorFlag kAllErrorFlags[] = {
    ErrorFlag::Less6A,     ErrorFlag::CtNoComm,   ErrorFlag::TempHigh,      ErrorFlag::EvNoComm,
    ErrorFlag::RcmTripped, ErrorFlag::RcmTest,    ErrorFlag::CircuitNoComm, ErrorFlag::PilotFault,
    ErrorFlag::DiodeFault, ErrorFlag::HardwareFault,
};

}  // namespace evsed::core

namespace evsed::core {

// SmartEVSE's error_id: position of the highest set bit + 1 (0 = none). evsed's
// own faults continue the numbering (9 pilot, 10 diode, 11 hardware).
int error_id(ErrorFlags flags);
// "None", "No Power Available", "Communication Error", ... for an error_id.
std::string_view error_web_name(int id);

}  // namespace evsed::core
