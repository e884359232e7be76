// libFuzzer target: the other parsers of outside input. The first byte picks
// one: MQTT /Set commands, Modbus meter replies of every profile, the state
// directory's settings and MQTT files.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "evsed/meters/profile.hpp"
#include "evsed/mqtt/mqtt_settings.hpp"
#include "evsed/mqtt/topics.hpp"

using namespace evsed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t which = data[0] % 4;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (which) {
    case 0: {  // "<name>\n<payload>"
      const auto nl = rest.find('\n');
      mqtt::SetContext c;
      c.mains_meter = c.ev_meter = c.circuit_meter = meters::MeterType::Api;
      (void)mqtt::parse_set(rest.substr(0, nl), nl == std::string_view::npos ? "" : rest.substr(nl + 1), c);
      break;
    }
    case 1: {  // a register image for every profile and every decoder
      std::vector<std::uint16_t> regs(rest.size() / 2);
      for (std::size_t i = 0; i < regs.size(); ++i) {
        regs[i] = static_cast<std::uint16_t>((static_cast<std::uint8_t>(rest[2 * i]) << 8) |
                                             static_cast<std::uint8_t>(rest[2 * i + 1]));
      }
      for (int code = 1; code <= 19; ++code) {
        const auto p = meters::profile_of(static_cast<meters::MeterType>(code));
        if (!p) continue;
        (void)meters::decode_currents(*p, regs);
        (void)meters::decode_power(*p, regs);
        (void)meters::decode_energy(*p, regs);
      }
      (void)meters::decode_sensorbox(regs, true);
      break;
    }
    case 2: {
      std::string problem;
      (void)mqtt::mqtt_settings_from_json(std::string{rest}, problem);
      break;
    }
    default: {
      meters::CustomMeter c;
      c.order = static_cast<meters::Endianness>(rest[0] % 4);
      c.data = static_cast<meters::DataType>(rest[0] / 4 % 3);
      std::vector<std::uint16_t> regs(rest.begin(), rest.end());
      (void)meters::decode_currents(meters::custom_profile(c), regs);
      break;
    }
  }
  return 0;
}
