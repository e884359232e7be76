#pragma once
// SmartEVSE's REST API (interfaces.md §2) over plain request/response values,
// in front of the Station. Requests are checked before anything else: the Host
// must be one of this charger's names (against DNS rebinding) and a request
// that changes something may not come from another site (Origin, Referer).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evsed/http/http_types.hpp"
#include "evsed/http/params.hpp"
#include "evsed/http/events_api.hpp"
#include "evsed/http/sessions_api.hpp"
#include "evsed/http/static_site.hpp"
#include "evsed/station/station.hpp"

namespace evsed::http {

struct RestOptions {
  // Names besides IP literals and localhost that may appear in Host: this
  // machine's host name (with and without .local) and [http] allowed_hosts.
  std::vector<std::string> host_names;
  // [http] redirect_to_https: plain-HTTP requests get 308 to this port, unless
  // plain_http_ok says their source may stay (trusted networks, plain_http_from).
  int https_port = 0;
  std::function<bool(const std::string& peer)> plain_http_ok;
};

// The dashboard's login cookie.
inline constexpr std::string_view kSessionCookie = "evsed_session";

// REST's parameter name for a settings field (POST /settings).
std::string_view rest_param(core::Field f);

// The Host header names this charger: an IP literal, localhost, or one of `names`.
bool host_allowed(std::string_view host_header, const std::vector<std::string>& names);
// The Origin or Referer of a request when it is another site than its Host.
std::optional<std::string> foreign_origin(const HttpRequest& r);

class RestApi {
 public:
  // An extra endpoint the application registers (the simulator).
  using Route = std::function<void(const HttpRequest&, const Params&, Respond)>;

  RestApi(station::Station& station, RestOptions options);

  void add_route(std::string path, Route route) { routes_[std::move(path)] = std::move(route); }
  void set_options(RestOptions options) { options_ = std::move(options); }
  // The dashboard's files at / (none: / answers 404 with where they should be).
  void set_site(std::shared_ptr<const StaticSite> site, std::string missing_why = {}) {
    site_ = std::move(site);
    site_missing_ = std::move(missing_why);
  }
  [[nodiscard]] std::size_t event_clients() const { return events_.clients(); }
  void handle(const HttpRequest& request, Respond respond);

 private:
  void route(const HttpRequest& req, std::string_view path, const Params& p, Respond respond);
  void route_tokens(const HttpRequest& req, std::string_view path, const Params& p, Respond respond);
  void route_users(const HttpRequest& req, std::string_view path, const Params& p, Respond respond);
  static HttpResponse unauthorized(const std::string& why, bool from_page);
  void log_in(const HttpRequest& req, const Params& p, Respond respond);
  void log_out(const HttpRequest& req, Respond respond);
  void first_admin(const HttpRequest& req, const Params& p, Respond respond);
  void own_password(const HttpRequest& req, const Params& p, Respond respond);
  HttpResponse get_settings();
  void post_settings(const Params& p, Respond respond);
  void post_mqtt(const Params& p, Respond respond);
  HttpResponse post_currents(const Params& p);
  HttpResponse post_ev_meter(const Params& p);
  void post_modem(const Params& p, Respond respond);
  void post_color(station::ColorSetting which, const Params& p, Respond respond);
  void post_cablelock(const Params& p, Respond respond);
  HttpResponse get_power_day();
  HttpResponse reboot();
  void erase_settings(Respond respond);

  station::Station& station_;
  SessionsApi sessions_{station_};
  RestOptions options_;
  std::map<std::string, Route, std::less<>> routes_;
  // GET /settings is serialized once per snapshot version; replies share it.
  std::uint64_t cached_version_ = 0;
  std::shared_ptr<const std::string> cached_settings_;
  EventsApi events_{station_, [this] { return get_settings().shared_body; }};
  std::shared_ptr<const StaticSite> site_;
  station::Verdict verdict_;  // of the request being routed
  std::string site_missing_;
};

}  // namespace evsed::http
