#pragma once
// SmartEVSE charging states. The numeric ids are on the wire (REST state_id,
// MQTT, Modbus register 0x0000), so they never change.

#include <cstdint>
#include <string_view>

namespace evsed::core {

enum class ChargeState : std::uint8_t {
  A = 0,         // no car
  B = 1,         // car connected, current offered or about to be
  C = 2,         // charging, contactor closed
  D = 3,         // never entered
  CommB = 4,     // power-share node states (not used standalone)
  CommBOk = 5,
  CommC = 6,
  CommCOk = 7,
  ActStart = 8,  // 3 s steady -12 V to wake a sleeping car
  B1 = 9,        // connected, no current offered (error, access off, delay)
  C1 = 10,       // stop requested: no current offered, contactor still closed (<= 6 s)
  ModemRequest = 11,
  ModemWait = 12,
  ModemDone = 13,
  ModemDenied = 14,
};

// "A", "B", "C", "B1", "Activate" ... (MQTT /StateID carries this one)
std::string_view short_name(ChargeState s);
// "Ready to Charge", "Connected to EV", "Charging" ... (REST evse.state)
std::string_view web_name(ChargeState s);

}  // namespace evsed::core
