// The REST adapter in front of the real Station: request checks (Host,
// Origin, Referer), the shared GET /settings bytes, and that every settings
// field in the core's table reaches the controller through REST.

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "evsed/http/rest_api.hpp"
#include "station_rig.hpp"

namespace evsed::http {
namespace {

using core::Field;

struct RestRig {
  app::StationRig rig;
  RestApi api{rig.station, RestOptions{{"charger.example"}, 0, {}}};

  HttpResponse send(std::string method, std::string target, std::string host = "127.0.0.1",
                    std::string origin = {}, std::string referer = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.host = std::move(host);
    r.has_host = !r.host.empty();
    r.origin = std::move(origin);
    r.referer = std::move(referer);
    std::optional<HttpResponse> out;
    api.handle(r, [&](HttpResponse resp) { out = std::move(resp); });
    rig.files.run_posted();
    EXPECT_TRUE(out) << r.target << " was not answered";
    return out.value_or(HttpResponse{});
  }
  nlohmann::json json(const HttpResponse& r) {
    return nlohmann::json::parse(r.shared_body ? *r.shared_body : r.body);
  }
};

TEST(RestChecks, HostNames) {
  const std::vector<std::string> names{"charger", "charger.local", "evse.example.org"};
  for (auto ok : {"127.0.0.1", "127.0.0.1:8080", "10.0.0.7", "[::1]", "[fe80::1]:80", "localhost", "localhost:80",
                  "charger", "Charger.Local", "EVSE.example.org.", "evse.example.org:8443"}) {
    EXPECT_TRUE(host_allowed(ok, names)) << ok;
  }
  for (auto bad : {"", "evil.example", "charger.evil.example", "127.0.0.1.nip.io", "[::1", "localhost.evil",
                   "evse.example.org@evil"}) {
    EXPECT_FALSE(host_allowed(bad, names)) << bad;
  }
}

TEST(RestChecks, PlainHttpIsSentToHttpsUnlessTheSourceMayStay) {
  RestRig t;
  t.api.set_options(RestOptions{{"charger.example"}, 8443, [](const std::string& peer) { return peer == "192.0.2.50"; }});
  HttpRequest r;
  r.method = "POST";
  r.target = "/settings?mode=3";
  r.host = "Charger.Example:8080";
  r.has_host = true;
  r.peer = "192.0.2.9";
  std::optional<HttpResponse> out;
  t.api.handle(r, [&](HttpResponse x) { out = std::move(x); });
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 308) << "308 keeps the method and body";
  const auto location = std::find_if(out->headers.begin(), out->headers.end(), [](const auto& h) { return h.first == "Location"; });
  ASSERT_NE(location, out->headers.end());
  EXPECT_EQ(location->second, "https://charger.example:8443/settings?mode=3");
  EXPECT_EQ(t.rig.station.snapshot()->status.settings.mode, core::ChargeMode::Normal) << "nothing done";
  r.peer = "192.0.2.50";  // allow-listed: an old evcc
  t.api.handle(r, [&](HttpResponse x) { out = std::move(x); });
  t.rig.files.run_posted();
  EXPECT_EQ(out->status, 200);
  r.peer = "192.0.2.9";
  r.tls = true;
  t.api.handle(r, [&](HttpResponse x) { out = std::move(x); });
  t.rig.files.run_posted();
  EXPECT_EQ(out->status, 200) << "already HTTPS";
}

TEST(RestChecks, ForeignOrigins) {
  HttpRequest r;
  r.host = "192.168.1.5";
  r.has_host = true;
  EXPECT_FALSE(foreign_origin(r)) << "no Origin, no Referer: curl, evcc, Home Assistant";
  r.origin = "http://192.168.1.5";
  EXPECT_FALSE(foreign_origin(r));
  r.origin = "http://192.168.1.5:80";
  EXPECT_FALSE(foreign_origin(r)) << "the default port is the same origin";
  r.origin = "https://evil.example";
  EXPECT_TRUE(foreign_origin(r));
  r.origin = "null";
  EXPECT_TRUE(foreign_origin(r));
  r.origin.clear();
  r.referer = "http://192.168.1.5/#/settings";
  EXPECT_FALSE(foreign_origin(r));
  r.referer = "http://user@evil.example/x";
  EXPECT_TRUE(foreign_origin(r));
  r.host = "192.168.1.5:8080";
  r.referer = "http://192.168.1.5/";
  EXPECT_TRUE(foreign_origin(r)) << "another port is another site";
}

TEST(RestApi, RefusalsChangeNothing) {
  RestRig t;
  const auto before = t.rig.station.snapshot()->status.settings;
  EXPECT_EQ(t.send("GET", "/settings", "evil.example").status, 403);
  EXPECT_EQ(t.send("POST", "/settings?mode=0", "127.0.0.1", "http://evil.example").status, 403);
  EXPECT_EQ(t.send("POST", "/settings?mode=0", "127.0.0.1", {}, "http://evil.example/").status, 403);
  EXPECT_EQ(t.send("GET", "/erasesettings").status, 405);
  EXPECT_EQ(t.send("OPTIONS", "/reboot").status, 405);
  EXPECT_EQ(t.send("POST", "/settings?mqtt_update=1&mqtt_ca_cert=" + std::string(Params::kMaxValue + 1, 'A')).status,
            400);
  EXPECT_EQ(t.rig.station.snapshot()->status.settings, before);
  EXPECT_EQ(t.send("POST", "/settings?mode=0", "charger.example", "http://charger.example").status, 200);
  EXPECT_EQ(t.rig.station.snapshot()->status.settings.access, core::AccessStatus::Off);
}

TEST(RestApi, GetSettingsSharesOneSerializationPerVersion) {
  RestRig t;
  const auto a = t.send("GET", "/settings");
  const auto b = t.send("GET", "/settings");
  ASSERT_TRUE(a.shared_body);
  EXPECT_EQ(a.shared_body.get(), b.shared_body.get()) << "the same bytes for the same snapshot";
  EXPECT_EQ(t.send("POST", "/settings?stop_timer=12").status, 200);
  const auto c = t.send("GET", "/settings");
  EXPECT_NE(c.shared_body.get(), a.shared_body.get());
  EXPECT_EQ(t.json(c)["settings"]["solar_stop_time"], 12);
  EXPECT_EQ(t.json(a)["settings"]["solar_stop_time"], 10) << "bytes handed out never change";
}

// Adding a run-time setting is a row in core::kFields, its setter in the
// controller and its wire names: REST takes every row, under its own name.
TEST(RestApi, EveryFieldOfTheTableIsReachable) {
  for (const auto& f : core::kFields) {
    RestRig t;
    const std::string param{rest_param(f.field)};
    ASSERT_FALSE(param.empty()) << f.name << " has no REST parameter";
    std::string query = "/settings?" + param;
    switch (f.field) {
      case Field::CapacityIntervals: query += "=%5B%7B%22start%22%3A60%2C%22power%22%3A5000%7D%5D"; break;
      case Field::DisableOverrideCurrent: break;
      case Field::Mode: query += "=3"; break;            // REST's SMART
      case Field::OverrideCurrent: query += "=100"; break;
      case Field::MaxSumMains: query += "=40"; break;
      default: query += "=" + std::to_string(f.range.lo == -1 ? 512 : f.range.lo + (f.range.hi > f.range.lo ? 1 : 0));
    }
    const auto v = t.rig.station.snapshot()->version;
    const auto r = t.send("POST", query);
    ASSERT_EQ(r.status, 200) << query;
    EXPECT_EQ(r.body.find("Value not allowed"), std::string::npos) << query << ": " << r.body;
    if (f.field == Field::CapacityIntervals) {
      EXPECT_EQ(t.rig.station.snapshot()->status.settings.capacity_intervals.size(), 1u);  // SmartEVSE replies nothing
    } else {
      EXPECT_NE(r.body, "null") << query << ": nothing reached the controller";
    }
    if (f.field != Field::DisableOverrideCurrent && f.field != Field::OverridePwm) {
      EXPECT_GT(t.rig.station.snapshot()->version, v) << query << " changed nothing observable";
    }
  }
}

}  // namespace
}  // namespace evsed::http
