// libFuzzer target: the other parsers of outside input. The first byte picks
// one: MQTT /Set commands, Modbus meter replies of every profile, the state
// directory's MQTT and settings files, an MQTT settings change as REST hands it
// over, the configuration file, the text that reaches log lines, and the
// session endpoints' filters with the CSV they export.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "evsed/app/config.hpp"
#include "evsed/app/settings_store.hpp"
#include "evsed/core/outside_text.hpp"
#include "evsed/auth/accounts.hpp"
#include "evsed/auth/network.hpp"
#include "evsed/http/auth_header.hpp"
#include "evsed/http/sessions_api.hpp"
#include "evsed/meters/profile.hpp"
#include "evsed/mqtt/topics.hpp"
#include "evsed/station/mqtt_settings.hpp"
#include "evsed/station/panel.hpp"

using namespace evsed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t which = data[0] % 10;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nl = rest.find('\n');
  const std::string_view first = rest.substr(0, nl);
  const std::string_view second = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  switch (which) {
    case 0:  // "<name>\n<payload>"
      (void)mqtt::parse_set(first, second);
      break;
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
      (void)station::mqtt_settings_from_json(std::string{rest}, problem);
      break;
    }
    case 3: {  // an MQTT change: host on the first line, the rest as every other string
      station::MqttChange c;
      c.host = std::string{first};
      c.topic_prefix = c.username = c.password = c.ca_cert = std::string{second};
      c.port = static_cast<long long>(data[0]) * 300 - 1000;
      c.tls = (data[0] & 1) != 0;
      station::MqttSettings current;
      current.host = "old.example";
      current.username = "u";
      current.password = "p";
      (void)station::plan_mqtt_change(current, c, 12345);
      break;
    }
    case 4:
      (void)app::parse_config(std::string{rest}, "fuzz.toml");
      break;
    case 5:
      (void)app::SettingsStore::from_json(std::string{rest}, core::Settings{});
      break;
    case 6: {
      const std::string shown = core::shown(rest);
      if (core::has_control(shown)) __builtin_trap();  // never a raw control character in a log line
      break;
    }
    case 7: {  // "<query>\n<note>": filters of the three list endpoints, a note, the CSV of it
      const auto params = http::Params::parse(first);
      for (auto e : {http::SessionsEndpoint::List, http::SessionsEndpoint::Csv, http::SessionsEndpoint::Summary}) {
        auto r = http::parse_sessions_request(e, params);
        if (auto* ok = std::get_if<http::SessionsRequest>(&r)) {
          if (ok->query.limit && (*ok->query.limit < 1 || *ok->query.limit > http::kMaxSessionsOffset)) __builtin_trap();
          if (ok->query.offset < 0 || (ok->query.from && ok->query.to && *ok->query.from > *ok->query.to)) __builtin_trap();
          if (ok->csv.delimiter != ',' && ok->csv.delimiter != ';') __builtin_trap();
        }
      }
      station::SessionRecord s;
      s.note = std::string{second};
      if (!station::note_problem(s.note)) {
        const std::string csv = http::sessions_csv({s}, {';', true});
        if (csv.find("\r\n") == std::string::npos) __builtin_trap();
      }
      (void)http::parse_day(first);
      break;
    }
    case 8: {  // credentials and the files behind them
      const auto a = http::parse_authorization(first);
      if (a.problem && (a.user || a.bearer)) __builtin_trap();  // refused means no credentials
      std::string error;
      if (auto n = auth::parse_network(first, error)) (void)auth::contains(*n, second);
      (void)auth::parse_accounts(std::string{rest});
      (void)auth::parse_tokens(std::string{rest});
      (void)auth::name_problem(first);
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
