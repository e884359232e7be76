// libFuzzer target: the REST parameter parser, the Host/Origin/Referer checks
// and the request router, with the real Station, charge point and simulated
// world behind them (state files in memory).
//
// Input: first line "METHOD TARGET"; then lines "Host: ...", "Origin: ...",
// "Referer: ..." (each optional); the rest is a form-encoded body.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "evsed/app/charge_point.hpp"
#include "evsed/app/live_station.hpp"
#include "evsed/http/params.hpp"
#include "evsed/http/rest_api.hpp"
#include "evsed/sim/world.hpp"
#include "fixed_clock.hpp"
#include "memory_files.hpp"

namespace {

using namespace evsed;

struct Rig {
  Rig()
      : log(std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>())),
        board(world.board().io()),
        cp(settings(), board, &world, false, clock.steady_now, log),
        station(config(), cp, files, clock, log, clock.steady_now, cp.settings()),
        api(station, http::RestOptions{{"charger.example"}, 0, {}}) {
    // The dashboard's own files: the static paths, ETags and encodings are outside input too.
    auto site = http::StaticSite::load(EVSED_SOURCE_WWW);
    if (auto* s = std::get_if<http::StaticSite>(&site)) api.set_site(std::make_shared<const http::StaticSite>(std::move(*s)));
  }

  static core::Settings settings() {
    core::Settings s;
    s.has_mains_meter = true;
    s.has_ev_meter = true;
    return s;
  }
  static app::StationConfig config() {
    app::StationConfig c;
    c.state_dir = (std::filesystem::temp_directory_path() / "evsed-fuzz-state").string();
    std::filesystem::create_directories(c.state_dir);
    c.meters[0] = {"API", 10, true, std::nullopt};
    c.meters[1] = {"API", 11, true, std::nullopt};
    c.simulated = true;
    return c;
  }

  app::FixedClock clock;
  std::shared_ptr<spdlog::logger> log;
  sim::World world;
  hw::Board board;
  app::ChargePoint cp;
  app::MemoryFiles files;
  app::LiveStation station;
  http::RestApi api;
};

struct NullSink final : http::StreamSink {
  void push(std::shared_ptr<const std::string> chunk) override {
    if (!chunk || chunk->empty()) __builtin_trap();
  }
  [[nodiscard]] bool open() const override { return false; }  // gone at once: the next change drops it
  void close() override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Rig rig;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto next_line = [&]() {
    const auto nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
    return line;
  };
  const std::string_view line = next_line();
  const auto space = line.find(' ');
  http::HttpRequest req;
  req.method = std::string{line.substr(0, space)};
  req.target = space == std::string_view::npos ? "/" : std::string{line.substr(space + 1)};
  req.content_type = "application/x-www-form-urlencoded";
  const std::pair<std::string_view, std::string*> headers[] = {
      {"Host: ", &req.host}, {"Origin: ", &req.origin}, {"Referer: ", &req.referer},
      {"Accept-Encoding: ", &req.accept_encoding}, {"If-None-Match: ", &req.if_none_match},
      {"Authorization: ", &req.authorization}, {"Cookie: ", &req.cookie}, {"X-CSRF-Token: ", &req.csrf_token}};
  for (bool found = true; found;) {
    found = false;
    for (const auto& [name, into] : headers) {
      if (input.starts_with(name)) {
        *into = std::string{next_line().substr(name.size())};
        if (name == "Host: ") req.has_host = true;
        found = true;
      }
    }
  }
  req.body = std::string{input};

  // The parser and the checks on their own, then the whole router.
  const auto [path, query] = http::split_target(req.target);
  const auto params = http::Params::parse(query, req.body);
  for (const auto& [name, value] : params.items()) (void)params.number(name);
  (void)http::host_allowed(req.host, {"charger.example"});
  (void)http::foreign_origin(req);

  int status = 0;
  rig.api.handle(req, [&](http::HttpResponse r) {
    status = r.status;
    // A stream (GET /events) is opened on a sink that takes everything and closes.
    if (r.stream) r.stream(std::make_shared<NullSink>());
  });
  rig.files.run_posted();  // the loop's turn: saved changes are applied and answered
  if (status < 100 || status > 599) __builtin_trap();
  rig.clock.steady_now += std::chrono::milliseconds{10};
  rig.station.pilot_period(rig.clock.steady_now);
  return 0;
}
