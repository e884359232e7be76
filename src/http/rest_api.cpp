#include "evsed/http/auth_header.hpp"
#include "evsed/http/metrics.hpp"
#include "evsed/http/rest_api.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "evsed/core/outside_text.hpp"
#include "evsed/http/settings_json.hpp"

namespace evsed::http {

namespace {

using Json = nlohmann::ordered_json;
using core::Field;
using core::FieldResult;

constexpr const char* kNotAllowed = "Value not allowed!";

HttpResponse json_reply(const Json& j, int status = 200) {
  // ArduinoJson serialises an empty document as null: so does SmartEVSE.
  return json_response(status, j.is_null() || (j.is_object() && j.empty())
                                   ? "null"
                                   : j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

HttpResponse text_reply(int status, std::string body) { return text_response(status, std::move(body)); }

HttpResponse not_found() { return text_reply(404, "Not found\n"); }

// 429 with when to try again: for failed logins (Basic, tokens, the login form) and too many changes.
HttpResponse too_many(const std::string& what, int retry_after_s) {
  HttpResponse r = json_reply(Json{{"error", what + " from this address; wait " + std::to_string(retry_after_s) + " s"}}, 429);
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}
HttpResponse too_many_failures(int retry_after_s) { return too_many("too many failed logins", retry_after_s); }

// An account change the access port refused, as REST answers it. Its words
// say which kind: "<parameter>: why" is the client's mistake, "code:" and
// "current:" a wrong secret, "cannot ..." the disk, and a file changed behind
// evsed's back or an admin that must stay a conflict.
HttpResponse account_refusal(const std::string& e) {
  if (e.find("changed on disk") != std::string::npos) return json_reply(Json{{"error", e}}, 409);
  if (e.starts_with("cannot")) return json_reply(Json{{"error", e}}, 500);
  for (std::string_view secret : {"code: ", "current: "}) {
    if (e.starts_with(secret)) return json_reply(Json{{"error", e.substr(secret.size())}}, 403);
  }
  const auto colon = e.find(':');
  const std::string field = colon == std::string::npos ? std::string{} : e.substr(0, colon);
  if (!field.empty() && std::all_of(field.begin(), field.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; })) {
    Json j{{"error", e}, {"parameter", field}};
    return json_reply(j, 400);
  }
  if (e.starts_with("there is an admin") || e.starts_with("the last admin")) return json_reply(Json{{"error", e}}, 409);
  return json_reply(Json{{"error", e}}, 400);
}

HttpResponse wrong_method(std::string allow) {
  HttpResponse r = text_reply(405, "Method not allowed; use " + allow + "\n");
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

HttpResponse bad_request(const std::string& param, const std::string& why) {
  Json j;
  j["error"] = why;
  j["parameter"] = param;
  return json_reply(j, 400);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "host", "host:port", "[v6]", "[v6]:port" -> the host, lower-case, without a final dot.
std::string host_part(std::string_view authority) {
  std::string_view h = authority;
  if (h.starts_with('[')) {
    const auto close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(0, close + 1);
  } else if (const auto colon = h.find(':'); colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) {
    h = h.substr(0, colon);
  }
  std::string out = lower(h);
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

bool ip_literal(const std::string& host) {
  unsigned char buf[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buf) == 1;
  }
  return inet_pton(AF_INET, host.c_str(), buf) == 1;
}

// "scheme://authority/..." -> normalised "authority" (default ports dropped).
std::optional<std::string> origin_authority(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string scheme = lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  std::string authority = lower(rest);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if ((scheme == "http" && authority.ends_with(":80")) || (scheme == "https" && authority.ends_with(":443"))) {
    authority.erase(authority.rfind(':'));
  }
  return authority;
}

std::string host_authority(std::string_view host) {
  std::string a = lower(host);
  if (a.ends_with(":80")) a.erase(a.size() - 3);
  return a;
}

// Reply value of a field: the applied number, SmartEVSE's rejection string, or
// evsed's reason where the firmware stays silent.
Json field_value(const FieldResult& f) {
  switch (f.outcome) {
    case FieldResult::Outcome::Applied: return f.value;
    case FieldResult::Outcome::Rejected: return kNotAllowed;
    case FieldResult::Outcome::Ignored: return f.reason;
  }
  return nullptr;
}

// "YYYY-MM-DDTHH:MM", also inside the double quotes the REST page shows.
std::optional<core::LocalTime> parse_start_time(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s.size() != 16 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, v);
    if (ec != std::errc{} || p != s.data() + pos + len) return std::nullopt;
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2);
  if (!y || !mo || !d || !h || !mi || *h > 23 || *mi > 59) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return local_days{ymd} + hours{*h} + minutes{*mi};
}

// REST's parameter for every settings field (interfaces.md §2.3). Those marked
// plain are read as a number and sent as they are; the others have their own
// form (a JSON list, a bare key, the mode numbering, delayed-charging times).
struct RestField {
  Field field;
  std::string_view param;
  bool plain;
};
constexpr std::array<RestField, core::kFieldCount> kRestFields{{{Field::CurrentMin, "current_min", true},
                                                                {Field::CapacityMode, "capacity_mode", true},
                                                                {Field::CapacityIntervals, "intervals", false},
                                                                {Field::MaxSumMains, "current_max_sum_mains", true},
                                                                {Field::MaxSumMainsTime, "max_sum_mains_timer", true},
                                                                {Field::DisableOverrideCurrent, "disable_override_current", false},
                                                                {Field::Mode, "mode", false},
                                                                {Field::EnableC2, "enable_C2", true},
                                                                {Field::SolarStopTime, "stop_timer", true},
                                                                {Field::OverrideCurrent, "override_current", true},
                                                                {Field::SolarStartCurrent, "solar_start_current", true},
                                                                {Field::SolarMaxImport, "solar_max_import", true},
                                                                {Field::CableLock, "cablelock", false},
                                                                {Field::OverridePwm, "override_pwm", true}}};

constexpr std::string_view kMqttParams[] = {"mqtt_host",     "mqtt_port", "mqtt_topic_prefix", "mqtt_username",
                                            "mqtt_password", "mqtt_tls",  "mqtt_ca_cert"};
std::string mqtt_param(station::MqttField f) { return std::string{kMqttParams[static_cast<int>(f)]}; }

// The request as REST parsed it, kept until the Station answers.
struct SettingsRequest {
  station::SettingsChange change;
  std::optional<std::string> intervals_error;
  std::optional<std::string> mode_error;      // not a REST mode id
  std::optional<std::pair<std::string, std::string>> time_error;  // key, reason
  std::optional<std::string> cablelock_error;
  std::optional<std::string> mode_text;       // echoed back as sent
  bool backlight = false;
  std::int64_t backlight_value = 0;
  bool ocpp = false;
};

Json settings_reply(const SettingsRequest& rq, const station::SettingsOutcome& o) {
  Json reply = Json::object();
  const auto& patch = rq.change.patch;
  if (rq.backlight) reply["Backlight"] = rq.backlight_value;
  if (auto f = o.field(Field::CurrentMin)) reply["current_min"] = field_value(*f);
  if (auto f = o.field(Field::CapacityMode)) reply["capacity_mode"] = f->applied() ? Json(f->value) : Json(f->reason);
  if (rq.intervals_error) {
    reply["intervals"] = *rq.intervals_error;
  } else if (auto f = o.field(Field::CapacityIntervals); f && !f->applied()) {
    reply["intervals"] = f->reason;
  }
  if (auto f = o.field(Field::MaxSumMains)) reply["current_max_sum_mains"] = field_value(*f);
  if (auto f = o.field(Field::MaxSumMainsTime)) reply["max_sum_mains_time"] = field_value(*f);
  if (o.field(Field::DisableOverrideCurrent)) reply["disable_override_current"] = "OK";
  if (rq.change.panel.custom_button) reply["custombutton"] = o.after->device.panel.custom_button;
  if (rq.mode_error || rq.time_error) {
    if (rq.time_error) reply[rq.time_error->first] = rq.time_error->second;
    reply["mode"] = kNotAllowed;
  } else if (auto f = o.field(Field::Mode)) {
    if (o.delayed) {
      reply[o.delayed->stop ? "stoptime" : "starttime"] = o.delayed->reason;
    } else if (f->applied() && patch.delayed.start_given) {
      const auto& snap = *o.after;
      if (patch.delayed.stop_given) reply["stoptime"] = snap.stoptime_epoch.value_or(0);
      if (patch.delayed.stop_given && patch.delayed.repeat) reply["repeat"] = snap.status.settings.delayed.repeat ? 1 : 0;
      reply["starttime"] = snap.starttime_epoch.value_or(0);
    }
    reply["mode"] = f->outcome == FieldResult::Outcome::Rejected  ? Json(kNotAllowed)
                    : f->outcome == FieldResult::Outcome::Ignored ? Json(f->reason)
                                                                  : Json(rq.mode_text.value_or(""));
  }
  if (auto f = o.field(Field::EnableC2)) {
    reply["settings"] = {{"enable_C2", f->applied() ? Json(core::to_string(static_cast<core::EnableC2>(f->value)))
                                                    : Json(f->reason)}};
  }
  if (auto f = o.field(Field::SolarStopTime)) reply["stop_timer"] = f->applied();
  if (auto f = o.field(Field::OverrideCurrent)) reply["override_current"] = field_value(*f);
  if (auto f = o.field(Field::SolarStartCurrent)) reply["solar_start_current"] = field_value(*f);
  if (auto f = o.field(Field::SolarMaxImport)) reply["solar_max_import"] = field_value(*f);
  if (auto f = o.field(Field::OverridePwm)) reply["override_pwm"] = f->applied() ? Json(f->value) : Json(f->reason);
  if (rq.change.panel.lcd_lock) {
    reply["lcdlock"] = o.panel.lcd_lock ? Json(*o.panel.lcd_lock) : Json(*rq.change.panel.lcd_lock);
  }
  if (rq.cablelock_error) {
    reply["cablelock"] = *rq.cablelock_error;
  } else if (auto f = o.field(Field::CableLock)) {
    reply["cablelock"] = f->value;
  }
  if (rq.ocpp) reply["ocpp_update"] = "OCPP is not supported by evsed";
  return reply;
}

}  // namespace

std::string_view rest_param(core::Field f) {
  for (const auto& r : kRestFields) {
    if (r.field == f) return r.param;
  }
  return {};
}

bool host_allowed(std::string_view host_header, const std::vector<std::string>& names) {
  const std::string host = host_part(host_header);
  if (host.empty()) return false;
  if (ip_literal(host) || host == "localhost") return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return lower(n) == host; });
}

std::optional<std::string> foreign_origin(const HttpRequest& r) {
  const std::string own = host_authority(r.host);
  for (const std::string* header : {&r.origin, &r.referer}) {
    if (header->empty()) continue;
    const auto authority = origin_authority(*header);
    // "null" (a sandboxed page, a file) and anything unparsable are foreign too.
    if (!authority || !r.has_host || *authority != own) return *header;
  }
  return std::nullopt;
}

RestApi::RestApi(station::Station& station, RestOptions options) : station_(station), options_(std::move(options)) {}

void RestApi::handle(const HttpRequest& req, Respond respond) {
  // Against DNS rebinding: a browser pointed at this address by another name.
  if (req.has_host && !host_allowed(req.host, options_.host_names)) {
    return respond(text_reply(403, "Host '" + core::shown(req.host) +
                                       "' is not allowed: evsed answers to its IP addresses, localhost and this "
                                       "machine's name; add other names to [http] allowed_hosts\n"));
  }
  if (options_.https_port > 0 && !req.tls && req.has_host && !(options_.plain_http_ok && options_.plain_http_ok(req.peer))) {
    const std::string port = options_.https_port == 443 ? "" : ":" + std::to_string(options_.https_port);
    const std::string location = "https://" + host_part(req.host) + port + req.target;
    HttpResponse r = text_reply(308, "This charger answers on HTTPS: " + location + "\n");
    r.headers.emplace_back("Location", location);
    return respond(std::move(r));
  }
  const bool reads = req.method == "GET" || req.method == "HEAD";
  if (!reads) {
    if (auto other = foreign_origin(req)) {
      return respond(text_reply(403, "Cross-site request refused: " + core::shown(*other) +
                                         " is not this charger's page\n"));
    }
  }
  if (!reads) {
    if (const int wait = station_.access().write_wait(req.peer); wait > 0) return respond(too_many("too many changes", wait));
  }
  const auto [path, query] = split_target(req.target);
  const bool form = req.content_type.starts_with("application/x-www-form-urlencoded");
  const Params p = Params::parse(query, form ? std::string_view{req.body} : std::string_view{});
  if (p.oversized()) {
    return respond(bad_request(*p.oversized(), *p.oversized() + " is too large (more than " +
                                                   std::to_string(Params::kMaxValue) + " bytes)"));
  }
  station::Access& access = station_.access();
  station::Role need = station::required_role(access.mode(), !reads, path);
  // The page's own files are no secret: the login form must load in mode "all".
  if (reads && site_ && site_->has(path)) need = station::Role::None;
  if (need == station::Role::None && path != "/whoami") {
    verdict_ = {};
    return route(req, path, p, std::move(respond));
  }
  const Authorization auth = parse_authorization(req.authorization);
  if (auth.problem) return respond(unauthorized(*auth.problem, req.from_page));
  const auto session = cookie_value(req.cookie, kSessionCookie);
  // The check may finish later (a password is verified off the loop): what it needs is copied.
  auto rq = std::make_shared<const HttpRequest>(req);
  auto params = std::make_shared<const Params>(p);
  access.check({req.peer, auth.user, auth.password, auth.bearer, session},
               [this, rq, params, need, reads, respond = std::move(respond)](station::Verdict v) mutable {
                 if (v.retry_after_s > 0) return respond(too_many_failures(v.retry_after_s));
                 // Wrong credentials are said to be wrong, also where none were needed (/whoami).
                 if (v.role < need || v.refused) {
                   if (v.role == station::Role::None) {
                     return respond(unauthorized(v.refused ? "wrong name, password or token" : "log in to do this",
                                                 rq->from_page));
                   }
                   return respond(json_reply(Json{{"error", "this needs an admin; " + v.who + " is a " +
                                                                std::string{station::to_string(v.role)}}},
                                             403));
                 }
                 // A login cookie goes with every request the browser makes: a change must also
                 // carry the token only the page was given (CSRF).
                 if (!reads && !v.csrf.empty() && rq->csrf_token != v.csrf) {
                   return respond(json_reply(Json{{"error", "the request lacks this login's X-CSRF-Token"}}, 403));
                 }
                 verdict_ = std::move(v);
                 const auto [path, query] = split_target(rq->target);
                 route(*rq, path, *params, std::move(respond));
               });
}

HttpResponse RestApi::unauthorized(const std::string& why, bool from_page) {
  HttpResponse r = json_reply(Json{{"error", why}}, 401);
  // A browser asks for a name and password; the dashboard has its own login form.
  if (!from_page) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"evsed\", charset=\"UTF-8\"");
  return r;
}

namespace {
std::string session_cookie(const std::string& value, bool tls, bool clear) {
  std::string c = std::string{kSessionCookie} + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  c += clear ? "; Max-Age=0" : "; Max-Age=43200";
  if (tls) c += "; Secure";
  return c;
}
}  // namespace

void RestApi::log_in(const HttpRequest& req, const Params& p, Respond respond) {
  if (req.method != "POST") return respond(wrong_method("POST"));
  const auto user = p.get("user");
  const auto password = p.get("password");
  if (!user || !password) return respond(bad_request(user ? "password" : "user", "POST /login takes user and password"));
  const bool tls = req.tls;
  station_.access().log_in(req.peer, *user, *password,
                           [respond, tls](std::optional<station::Login> l, station::Verdict v) {
                             if (v.retry_after_s > 0) return respond(too_many_failures(v.retry_after_s));
                             if (!l) return respond(json_reply(Json{{"error", "wrong name or password"}}, 401));
                             HttpResponse r = json_reply(
                                 Json{{"user", l->user}, {"role", station::to_string(l->role)}, {"csrf", l->csrf}});
                             r.headers.emplace_back("Set-Cookie", session_cookie(l->session, tls, false));
                             r.headers.emplace_back("Cache-Control", "no-store");
                             respond(std::move(r));
                           });
}

void RestApi::log_out(const HttpRequest& req, Respond respond) {
  if (req.method != "POST") return respond(wrong_method("POST"));
  if (const auto s = cookie_value(req.cookie, kSessionCookie)) station_.access().log_out(*s);
  HttpResponse r = json_reply(Json{{"logged_out", true}});
  r.headers.emplace_back("Set-Cookie", session_cookie("", req.tls, true));
  respond(std::move(r));
}

// The first admin, made on the dashboard with the one-time code from the log:
// GET /setup says whether one is awaited, POST /setup (code, user, password in
// the body) makes it.
void RestApi::first_admin(const HttpRequest& req, const Params& p, Respond respond) {
  station::Access& access = station_.access();
  if (req.method == "GET" || req.method == "HEAD") {
    return respond(json_reply(Json{{"pending", access.awaiting_first_admin()}}));
  }
  if (req.method != "POST") return respond(wrong_method("GET, POST"));
  for (const auto& [name, value] : p.items()) {
    if (name != "code" && name != "user" && name != "password") {
      return respond(bad_request(name, "unknown parameter (allowed: code, user, password)"));
    }
  }
  if (!split_target(req.target).second.empty()) {
    return respond(bad_request("code", "send code, user and password in the request body (a form), not in the URL"));
  }
  const auto code = p.get("code");
  const auto user = p.get("user");
  const auto password = p.get("password");
  if (!code || !user || !password) {
    return respond(bad_request(!code ? "code" : !user ? "user" : "password", "POST /setup takes code, user and password"));
  }
  const std::string who = *user;
  access.create_first_admin(req.peer, *code, *user, *password, [respond, who](std::string e, int retry_after_s) {
    if (retry_after_s > 0) return respond(too_many_failures(retry_after_s));
    respond(e.empty() ? json_reply(Json{{"name", who}, {"role", "admin"}}) : account_refusal(e));
  });
}

// POST /password (current, password in the body): an account's own password.
void RestApi::own_password(const HttpRequest& req, const Params& p, Respond respond) {
  if (req.method != "POST") return respond(wrong_method("POST"));
  for (const auto& [name, value] : p.items()) {
    if (name != "current" && name != "password") {
      return respond(bad_request(name, "unknown parameter (allowed: current, password)"));
    }
  }
  if (!split_target(req.target).second.empty()) {
    return respond(bad_request("password", "send the passwords in the request body (a form), not in the URL"));
  }
  const auto current = p.get("current");
  const auto next = p.get("password");
  if (!current || !next) return respond(bad_request(current ? "password" : "current", "POST /password takes current and password"));
  station_.access().change_own_password(req.peer, verdict_.account, *current, *next,
                                        [respond](std::string e, int retry_after_s) {
                                          if (retry_after_s > 0) return respond(too_many_failures(retry_after_s));
                                          respond(e.empty() ? json_reply(Json{{"changed", true}}) : account_refusal(e));
                                        });
}

void RestApi::route_tokens(const HttpRequest& req, std::string_view path, const Params& p, Respond respond) {
  station::Access& access = station_.access();
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == "/tokens") {
    if (get) {
      Json list = Json::array();
      for (const auto& t : access.tokens()) {
        list.push_back({{"id", t.id}, {"name", t.name}, {"role", station::to_string(t.role)}, {"created", t.created}});
      }
      return respond(json_reply(Json{{"tokens", list}}));
    }
    if (req.method != "POST") return respond(wrong_method("GET, POST"));
    for (const auto& [name, value] : p.items()) {
      if (name != "name" && name != "role") return respond(bad_request(name, "unknown parameter (allowed: name, role)"));
    }
    const auto name = p.get("name");
    const auto role = station::role_from(p.get("role").value_or("admin"));
    if (!name) return respond(bad_request("name", "a token needs a name (name=evcc)"));
    if (!role) return respond(bad_request("role", "role must be viewer or admin"));
    return access.create_token(*name, *role, [respond](std::optional<station::NewToken> t, std::string why) {
      if (!t) return respond(json_reply(Json{{"error", why}}, why.starts_with("cannot save") ? 500 : 400));
      respond(json_reply(Json{{"id", t->info.id}, {"name", t->info.name}, {"role", station::to_string(t->info.role)},
                              {"created", t->info.created}, {"token", t->secret}},
                         201));
    });
  }
  const std::string id{path.substr(std::string_view{"/tokens/"}.size())};
  if (req.method != "DELETE" && req.method != "POST") return respond(wrong_method("DELETE, POST"));
  access.revoke_token(id, [respond, id](bool found, std::string note) {
    if (!found) return respond(json_reply(Json{{"error", note}}, 404));
    Json j{{"revoked", id}};
    if (!note.empty()) j["note"] = note;
    respond(json_reply(j));
  });
}

// Accounts, as `evsed passwd` keeps them: POST /users (name, role, password)
// adds or changes one, DELETE /users/{name} removes it. Passwords only in the
// body: a URL ends up in proxies' logs and browser histories.
void RestApi::route_users(const HttpRequest& req, std::string_view path, const Params& p, Respond respond) {
  station::Access& access = station_.access();
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == "/users") {
    if (get) {
      Json list = Json::array();
      for (const auto& u : access.users()) list.push_back({{"name", u.name}, {"role", station::to_string(u.role)}});
      return respond(json_reply(Json{{"users", list}}));
    }
    if (req.method != "POST") return respond(wrong_method("GET, POST"));
    for (const auto& [name, value] : p.items()) {
      if (name != "name" && name != "role" && name != "password") {
        return respond(bad_request(name, "unknown parameter (allowed: name, role, password)"));
      }
    }
    if (Params::parse(split_target(req.target).second).has("password")) {
      return respond(bad_request("password", "send the password in the request body (a form), not in the URL"));
    }
    const auto name = p.get("name");
    const auto role = station::role_from(p.get("role").value_or("viewer"));
    if (!name) return respond(bad_request("name", "an account needs a name"));
    if (!role) return respond(bad_request("role", "role must be viewer or admin"));
    const std::string who = *name;
    return access.set_user(*name, *role, p.get("password"), [respond, who, role](std::string e) {
      if (!e.empty()) return respond(account_refusal(e));
      respond(json_reply(Json{{"name", who}, {"role", station::to_string(*role)}}));
    });
  }
  if (req.method != "DELETE") return respond(wrong_method("DELETE"));
  const auto name = url_decode(path.substr(std::string_view{"/users/"}.size())).value_or("");
  access.delete_user(name, [respond, name](bool found, std::string e) {
    if (!found) return respond(json_reply(Json{{"error", e}}, 404));
    if (!e.empty()) return respond(account_refusal(e));
    respond(json_reply(Json{{"removed", name}}));
  });
}

void RestApi::route(const HttpRequest& req, std::string_view path, const Params& p, Respond respond) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";

  if (path == "/settings") {
    if (get) return respond(get_settings());
    if (post) return p.has("mqtt_update") ? post_mqtt(p, std::move(respond)) : post_settings(p, std::move(respond));
    return respond(wrong_method("GET, POST"));
  }
  if (path == "/currents" || path == "/ev_meter" || path == "/modem" || path == "/cablelock" || path == "/rfid" ||
      path.starts_with("/color_")) {
    if (!post) return respond(wrong_method("POST"));
    if (path == "/currents") return respond(post_currents(p));
    if (path == "/ev_meter") return respond(post_ev_meter(p));
    if (path == "/modem") return post_modem(p, std::move(respond));
    if (path == "/cablelock") return post_cablelock(p, std::move(respond));
    if (path == "/rfid") return respond(json_reply(Json{{"rfid_status", "RFID reader not enabled"}}));
    const auto which = station::color_setting_from_name(path.substr(std::string_view{"/color_"}.size()));
    if (!which) return respond(not_found());
    return post_color(*which, p, std::move(respond));
  }
  if (path == "/power_day") return respond(get ? get_power_day() : wrong_method("GET"));
  if (path == "/tokens" || path.starts_with("/tokens/")) return route_tokens(req, path, p, std::move(respond));
  if (path == "/users" || path.starts_with("/users/")) return route_users(req, path, p, std::move(respond));
  if (path == "/login") return log_in(req, p, std::move(respond));
  if (path == "/logout") return log_out(req, std::move(respond));
  if (path == "/setup") return first_admin(req, p, std::move(respond));
  if (path == "/password") return own_password(req, p, std::move(respond));
  if (path == "/whoami") {
    if (!get) return respond(wrong_method("GET"));
    Json j{{"role", station::to_string(verdict_.role)}, {"who", verdict_.who},
           {"auth", station::to_string(station_.access().mode())}};
    if (!verdict_.csrf.empty()) j["csrf"] = verdict_.csrf;  // the page's token again after a reload
    return respond(json_reply(j));
  }
  if (path == "/metrics") {
    if (!get) return respond(wrong_method("GET"));
    HttpResponse r;
    r.content_type = kMetricsContentType;
    r.body = metrics_text(*station_.snapshot(), station_.history().totals(), station_.history().current());
    return respond(std::move(r));
  }
  if (sessions_.route(req, path, p, respond)) return;
  // Destructive: POST only, so no link, prefetch or preflight can trigger them.
  if (path == "/reboot") return respond(post ? reboot() : wrong_method("POST"));
  if (path == "/erasesettings") return post ? erase_settings(std::move(respond)) : respond(wrong_method("POST"));
  if (path == "/update" || path == "/autoupdate") {
    return respond(text_reply(501, "evsed is updated through apt: apt install ./evsed_<version>_<arch>.deb\n"));
  }
  if (path == "/lcd" || path == "/lcd-verify-password" || path == "/ws/lcd") {
    return respond(text_reply(404, "evsed has no LCD\n"));
  }
  if (auto r = routes_.find(path); r != routes_.end()) return r->second(req, p, std::move(respond));
  if (path == "/events") return respond(get ? events_.open() : wrong_method("GET"));
  if (get && site_) {
    if (auto file = site_->serve(req, path)) return respond(std::move(*file));
  }
  if (path == "/" && get) {
    return respond(text_reply(404, "The dashboard is not installed" +
                                       (site_missing_.empty() ? std::string{} : " (" + site_missing_ + ")") +
                                       "; the REST API answers at /settings\n"));
  }
  respond(not_found());
}

HttpResponse RestApi::get_settings() {
  const auto snap = station_.snapshot();
  if (!cached_settings_ || cached_version_ != snap->version) {
    cached_settings_ = std::make_shared<const std::string>(settings_json(*snap));
    cached_version_ = snap->version;
  }
  HttpResponse r;
  r.shared_body = cached_settings_;
  return r;
}

void RestApi::post_settings(const Params& p, Respond respond) {
  auto rq = std::make_shared<SettingsRequest>();
  auto& patch = rq->change.patch;
  auto& panel = rq->change.panel;

  if (auto v = p.number("backlight")) {
    rq->backlight = true;
    rq->backlight_value = *v;
    panel.backlight = *v;
  }
  for (const auto& f : kRestFields) {
    if (!f.plain) continue;
    if (auto v = p.number(f.param)) patch.set(f.field, *v);
  }
  if (auto text = p.get("intervals")) {
    // Entries with bad types or a start beyond the day are skipped, as the firmware does.
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      rq->intervals_error = "intervals must be a JSON array of {\"start\": minute, \"power\": watts}";
    } else {
      std::vector<core::CapacityInterval> list;
      for (const auto& e : j) {
        if (!e.is_object() || !e.contains("start") || !e.contains("power") || !e["start"].is_number_integer() ||
            !e["power"].is_number_integer())
          continue;
        const auto start = e["start"].get<long long>();
        const auto power = e["power"].get<long long>();
        if (start < 0 || start > 1439 || power < 0 || power > 1'000'000) continue;
        list.push_back({static_cast<int>(start), static_cast<int>(power)});
      }
      patch.set_intervals(std::move(list));
    }
  }
  if (p.has("disable_override_current")) patch.set(Field::DisableOverrideCurrent, 1);
  if (auto v = p.number("custombutton")) panel.custom_button = *v > 0;
  if (auto v = p.number("mode")) {
    rq->mode_text = p.get("mode");
    if (auto m = mode_choice_from_rest_id(*v)) {
      if (auto start = p.get("starttime")) {
        patch.delayed.start_given = true;
        patch.delayed.start = parse_start_time(*start);
        if (!patch.delayed.start) {
          rq->time_error = {"starttime", "starttime " + core::shown(*start) + " is not a date and time YYYY-MM-DDTHH:MM"};
        }
        if (auto stop = p.get("stoptime")) {
          patch.delayed.stop_given = true;
          patch.delayed.stop = parse_start_time(*stop);
          if (!patch.delayed.stop && !rq->time_error) {
            rq->time_error = {"stoptime", "stoptime " + core::shown(*stop) + " is not a date and time YYYY-MM-DDTHH:MM"};
          }
        }
        if (auto repeat = p.number("repeat")) patch.delayed.repeat = static_cast<int>(std::clamp(*repeat, -1LL, 2LL));
      }
      if (!rq->time_error) patch.set(Field::Mode, *m);
    } else {
      rq->mode_error = kNotAllowed;
    }
  }
  if (auto v = p.number("lcdlock")) panel.lcd_lock = *v;
  if (auto v = p.number("cablelock")) {
    if (*v == 0 || *v == 1) {
      patch.set(Field::CableLock, *v);
    } else {
      rq->cablelock_error = "cablelock must be 0 or 1";
    }
  }
  rq->ocpp = p.has("ocpp_update");

  station_.change_settings(rq->change, [rq, respond = std::move(respond)](station::SettingsOutcome o) {
    if (o.failure) return respond(text_reply(500, "Settings not saved, nothing changed: " + *o.failure + "\n"));
    respond(json_reply(settings_reply(*rq, o)));
  });
}

void RestApi::post_mqtt(const Params& p, Respond respond) {
  if (p.number("mqtt_update") != 1) return respond(json_reply(nullptr));
  station::MqttChange c;
  c.host = p.get("mqtt_host");
  c.port = p.number("mqtt_port");
  c.topic_prefix = p.get("mqtt_topic_prefix");
  c.username = p.get("mqtt_username");
  c.password = p.get("mqtt_password");
  if (auto v = p.get("mqtt_tls")) c.tls = *v == "1";
  c.ca_cert = p.get("mqtt_ca_cert");
  station_.change_mqtt(c, [c, respond = std::move(respond)](station::MqttOutcome o) {
    if (o.refused) {
      return respond(json_reply(Json{{"mqtt_update", mqtt_param(o.refused_field.value_or(station::MqttField::Host)) +
                                                         " " + *o.refused}}));
    }
    if (o.failure) return respond(text_reply(500, "MQTT settings not saved, nothing changed: " + *o.failure + "\n"));
    const auto& s = o.applied;
    Json reply = Json::object();
    if (c.host) reply["mqtt_host"] = s.host;
    if (c.port) reply["mqtt_port"] = s.port;
    if (c.topic_prefix) reply["mqtt_topic_prefix"] = s.topic_prefix;
    if (c.username) reply["mqtt_username"] = s.username;
    if (c.password) reply["mqtt_password_set"] = !s.password.empty();
    if (c.tls) reply["mqtt_tls"] = s.tls;
    if (c.ca_cert) reply["mqtt_ca_cert_set"] = !s.ca_cert.empty();
    if (o.credentials_cleared) {
      reply["mqtt_credentials"] =
          "cleared: they were the old broker's; send mqtt_username and mqtt_password for the new one";
    }
    respond(json_reply(reply));
  });
}

HttpResponse RestApi::post_currents(const Params& p) {
  Json reply = Json::object();
  if (auto b = p.number("battery_current")) {
    reply["battery_current"] = station_.feed_home_battery(*b).ok() ? Json(*b) : Json(kNotAllowed);
  }
  const auto l1 = p.number("L1"), l2 = p.number("L2"), l3 = p.number("L3");
  if (l1 || l2 || l3) {
    const auto& mains = station_.snapshot()->meter(core::MeterRole::Mains);
    if (!mains.api) {
      reply["TOTAL"] = "the mains meter is not API (it is " + mains.type + ")";
    } else if (!l1 || !l2 || !l3) {
      reply["TOTAL"] = "L1, L2 and L3 must be sent together";
    } else {
      station::MeterFeed feed;
      feed.role = core::MeterRole::Mains;
      feed.currents = std::array<std::int64_t, 3>{*l1, *l2, *l3};
      const auto r = station_.feed_meter(feed);
      if (!r.ok()) {
        reply["TOTAL"] = r.refusal == station::FeedRefusal::NotApi ? Json(r.reason) : Json(kNotAllowed);
      } else {
        const auto& s = station_.snapshot()->status;
        reply["original"] = {{"L1", *l1}, {"L2", *l2}, {"L3", *l3}};
        reply["L1"] = s.mains_corrected[0].value();
        reply["L2"] = s.mains_corrected[1].value();
        reply["L3"] = s.mains_corrected[2].value();
        reply["TOTAL"] = s.mains_sum.value();
      }
    }
  }
  return json_reply(reply);
}

HttpResponse RestApi::post_ev_meter(const Params& p) {
  const auto l1 = p.number("L1"), l2 = p.number("L2"), l3 = p.number("L3");
  const auto imp = p.number("import_active_energy"), exp = p.number("export_active_energy"),
             pow = p.number("import_active_power");
  if (!l1 && !l2 && !l3 && !imp && !exp && !pow) return json_reply(nullptr);
  const auto& ev_meter = station_.snapshot()->meter(core::MeterRole::Ev);
  if (!ev_meter.api) return json_reply(Json{{"ev_meter", "the EV meter is not API (it is " + ev_meter.type + ")"}});
  Json ev = Json::object();
  if (l1 || l2 || l3) {
    if (!l1 || !l2 || !l3) {
      ev["currents"] = "L1, L2 and L3 must be sent together";
    } else {
      station::MeterFeed feed;
      feed.role = core::MeterRole::Ev;
      feed.currents = std::array<std::int64_t, 3>{*l1, *l2, *l3};
      if (station_.feed_meter(feed).ok()) {
        ev["currents"] = {{"L1", *l1}, {"L2", *l2}, {"L3", *l3}, {"TOTAL", *l1 + *l2 + *l3}};
      } else {
        ev["currents"] = kNotAllowed;
      }
    }
  }
  if (imp || exp || pow) {
    if (!imp || !exp || !pow) {
      ev["import_active_energy"] =
          "import_active_energy, export_active_energy and import_active_power must be sent together";
    } else {
      station::MeterFeed feed;
      feed.role = core::MeterRole::Ev;
      feed.import_wh = *imp;
      feed.export_wh = *exp;
      feed.power_w = *pow;
      if (!station_.feed_meter(feed).ok()) {
        ev["import_active_energy"] = kNotAllowed;
      } else {
        const auto& after = station_.snapshot()->status;
        const auto charged = after.ev_session_energy ? after.ev_session_energy->value : 0;
        ev["import_active_power"] = *pow;
        ev["import_active_energy"] = *imp;
        ev["export_active_energy"] = *exp;
        ev["total_kwh"] = static_cast<double>(*imp - *exp) / 1000.0;
        ev["charged_kwh"] = static_cast<double>(charged) / 1000.0;
      }
    }
  }
  return json_reply(Json{{"ev_meter", ev}});
}

void RestApi::post_modem(const Params& p, Respond respond) {
  // The REST page's /modem?pwm= takes the duty in per mille; SmartEVSE's code
  // path is /settings?override_pwm= in 1/1024.
  auto v = p.number("pwm");
  if (!v) return respond(json_reply(nullptr));
  if (*v > 1000) return respond(json_reply(Json{{"pwm", kNotAllowed}}));
  station::SettingsChange change;
  change.patch.set(Field::OverridePwm, *v < 0 ? -1 : *v * 1024 / 1000);
  station_.change_settings(change, [per_mille = *v, respond = std::move(respond)](station::SettingsOutcome o) {
    if (o.failure) return respond(text_reply(500, "Not saved: " + *o.failure + "\n"));
    const auto* f = o.field(Field::OverridePwm);
    if (!f || !f->applied()) return respond(json_reply(Json{{"pwm", f ? Json(f->reason) : Json(kNotAllowed)}}));
    respond(json_reply(Json{{"pwm", per_mille}, {"override_pwm", f->value}}));
  });
}

void RestApi::post_color(station::ColorSetting which, const Params& p, Respond respond) {
  const auto r = p.number("R"), g = p.number("G"), b = p.number("B");
  if (!r || !g || !b) return respond(json_reply(Json{{"color", "R, G and B must all be given, each 0..255"}}));
  station::SettingsChange change;
  change.panel.color = {which, {*r, *g, *b}};
  station_.change_settings(change, [which, respond = std::move(respond)](station::SettingsOutcome o) {
    if (o.panel.color) return respond(json_reply(Json{{"color", *o.panel.color}}));
    station::LedColors colors = o.after->device.panel.colors;
    const station::Rgb c = station::color_of(colors, which);
    const std::string name{station::kColorSettingNames[static_cast<std::size_t>(which)]};
    respond(json_reply(Json{{"color", {{name, {{"R", c.r}, {"G", c.g}, {"B", c.b}}}}}}));
  });
}

void RestApi::post_cablelock(const Params& p, Respond respond) {
  station::SettingsChange change;
  const bool locked = p.has("1");
  change.patch.set(Field::CableLock, locked ? 1 : 0);
  station_.change_settings(change, [locked, respond = std::move(respond)](station::SettingsOutcome o) {
    if (o.failure) return respond(text_reply(500, "Not saved: " + *o.failure + "\n"));
    respond(json_reply(Json{{"cablelock", locked ? 1 : 0}}));
  });
}

HttpResponse RestApi::get_power_day() {
  Json list = Json::array();
  for (const auto& slot : station_.power_day()) list.push_back({{"time", slot.time}, {"power", slot.power_w}});
  return json_reply(Json{{"power_day", list}});
}

HttpResponse RestApi::reboot() {
  if (station_.restart()) {
    return text_reply(202, "Reboot scheduled: Device will reboot 5 seconds after the EV stops charging...");
  }
  return text_reply(200, "Device will reboot in 5 seconds...");
}

void RestApi::erase_settings(Respond respond) {
  station_.erase_settings([respond = std::move(respond)](std::optional<std::string> error) {
    if (error) return respond(text_reply(500, "Erasing settings failed: " + *error + "\n"));
    respond(text_reply(200, "Erasing settings, rebooting"));
  });
}

}  // namespace evsed::http
