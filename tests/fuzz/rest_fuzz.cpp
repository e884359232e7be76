// libFuzzer target: the REST parameter parser and the request router, with the
// real controller and simulated world behind them.
//
// Input: first line "METHOD TARGET", the rest is a form-encoded body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "evsed/core/controller.hpp"
#include "evsed/http/params.hpp"
#include "evsed/http/rest_api.hpp"
#include "evsed/sim/world.hpp"

namespace {

using namespace evsed;

class FuzzBackend final : public http::RestBackend {
 public:
  FuzzBackend() : controller_(settings(), now_) {}

  core::Status status() override { return controller_.status(now_); }
  http::DeviceView device() override { return {}; }
  core::PatchResult apply(core::SettingsPatch patch) override { return controller_.apply(patch, now_); }
  void feed(const core::Event& e) override { controller_.handle(e, now_); }
  core::TimePoint now() override { return now_; }
  core::LocalTime local_now() override { return core::LocalTime{std::chrono::seconds{1'800'000'000}}; }
  std::int64_t to_epoch(core::LocalTime t) override { return t.time_since_epoch().count(); }
  meters::MeterType mains_meter_type() override { return meters::MeterType::Api; }
  meters::MeterType ev_meter_type() override { return meters::MeterType::Api; }
  mqtt::MqttSettings mqtt_settings() override { return mqtt_; }
  std::optional<std::string> save_mqtt(const mqtt::MqttSettings& s) override {
    mqtt_ = s;
    return std::nullopt;
  }
  std::vector<http::PowerSlot> power_day() override { return {}; }
  void restart(bool) override {}
  std::optional<std::string> erase_settings() override { return std::nullopt; }
  sim::World* simulator() override { return &world_; }
  hw::PanelState& panel() override { return panel_; }

 private:
  static core::Settings settings() {
    core::Settings s;
    s.has_mains_meter = true;
    s.has_ev_meter = true;
    return s;
  }
  core::TimePoint now_ = core::TimePoint{} + std::chrono::hours{1};
  core::Controller controller_;
  sim::World world_;
  mqtt::MqttSettings mqtt_;
  hw::PanelState panel_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  const auto space = line.find(' ');

  http::HttpRequest req;
  req.method = std::string{line.substr(0, space)};
  req.target = space == std::string_view::npos ? "/" : std::string{line.substr(space + 1)};
  req.content_type = "application/x-www-form-urlencoded";
  req.body = std::string{body};

  // The parser on its own, then the whole router.
  const auto [path, query] = http::split_target(req.target);
  const auto params = http::Params::parse(query, req.body);
  for (const auto& [name, value] : params.items()) (void)params.number(name);

  static FuzzBackend backend;
  static http::RestApi api(backend);
  const http::HttpResponse r = api.handle(req);
  if (r.status < 100 || r.status > 599) __builtin_trap();
  return 0;
}
