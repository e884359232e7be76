#include "evsed/http/sessions_api.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "evsed/core/outside_text.hpp"

namespace evsed::http {

namespace {

using Json = nlohmann::ordered_json;
using station::HistoryError;

HttpResponse json_reply(int status, const Json& j) {
  return json_response(status, j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

HttpResponse error_reply(int status, const std::string& message, const std::string& param = {}) {
  Json j;
  j["error"] = message;
  if (!param.empty()) j["parameter"] = param;
  return json_reply(status, j);
}

HttpResponse history_error(const HistoryError& e) {
  switch (e.kind) {
    case HistoryError::Kind::Unavailable: return error_reply(503, e.message);
    case HistoryError::Kind::NotFound: return error_reply(404, e.message);
    case HistoryError::Kind::Invalid: return error_reply(400, e.message, "note");
    case HistoryError::Kind::Failed: return error_reply(500, "the session log could not answer: " + e.message);
  }
  return error_reply(500, e.message);
}

HttpResponse wrong_method(std::string_view allowed) {
  HttpResponse r = error_reply(405, "method not allowed; use " + std::string{allowed});
  r.headers.emplace_back("Allow", std::string{allowed});
  return r;
}

// Digits only, in range: evsed's own endpoints take no atol leniency.
std::optional<std::int64_t> strict_number(std::string_view s, std::int64_t lo, std::int64_t hi) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || s.front() == '-' || s.front() == '+' || v < lo || v > hi) {
    return std::nullopt;
  }
  return v;
}

std::string allowed_list(std::initializer_list<std::string_view> names) {
  std::string s;
  for (auto n : names) s += (s.empty() ? "" : ", ") + std::string{n};
  return s;
}

}  // namespace

std::optional<station::LocalDay> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = strict_number(s.substr(0, 4), 1970, 9999);
  auto m = strict_number(s.substr(5, 2), 1, 12);
  auto d = strict_number(s.substr(8, 2), 1, 31);
  if (!y || !m || !d) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{static_cast<int>(*y)}, month{static_cast<unsigned>(*m)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

std::variant<SessionsRequest, ParamError> parse_sessions_request(SessionsEndpoint e, const Params& p) {
  SessionsRequest r;
  const bool csv = e == SessionsEndpoint::Csv;
  const bool summary = e == SessionsEndpoint::Summary;
  if (!summary) r.query.limit = csv ? std::nullopt : std::optional<std::int64_t>{kDefaultSessionsPage};
  std::vector<std::string_view> allowed{"from", "to"};
  if (!summary) allowed.insert(allowed.end(), {"limit", "offset"});
  if (csv) allowed.insert(allowed.end(), {"delimiter", "decimal"});
  if (summary) allowed.push_back("by");

  std::optional<char> delimiter;
  for (std::size_t i = 0; i < p.items().size(); ++i) {
    const auto& [name, value] = p.items()[i];
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string{a};
      return ParamError{name, "unknown parameter '" + core::shown(name) + "' (allowed: " + list + ")"};
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (p.items()[j].first == name) return ParamError{name, name + " is given more than once"};
    }
    if (name == "from" || name == "to") {
      auto day = parse_day(value);
      if (!day) {
        return ParamError{name, name + " = '" + core::shown(value) + "' is not a date (allowed: YYYY-MM-DD, 1970..9999)"};
      }
      (name == "from" ? r.query.from : r.query.to) = *day;
    } else if (name == "limit") {
      const std::int64_t most = csv ? kMaxSessionsOffset : kMaxSessionsPage;
      auto v = strict_number(value, 1, most);
      if (!v) {
        return ParamError{name, "limit = '" + core::shown(value) + "' is not allowed (allowed: 1.." +
                                    std::to_string(most) + ")"};
      }
      r.query.limit = *v;
    } else if (name == "offset") {
      auto v = strict_number(value, 0, kMaxSessionsOffset);
      if (!v) {
        return ParamError{name, "offset = '" + core::shown(value) + "' is not allowed (allowed: 0.." +
                                    std::to_string(kMaxSessionsOffset) + ")"};
      }
      r.query.offset = *v;
    } else if (name == "delimiter") {
      if (value != "," && value != ";") {
        return ParamError{name, "delimiter = '" + core::shown(value) + "' is not allowed (allowed: , or ;)"};
      }
      delimiter = value[0];
    } else if (name == "decimal") {
      if (value != "point" && value != "comma") {
        return ParamError{name, "decimal = '" + core::shown(value) + "' is not allowed (allowed: " +
                                    allowed_list({"point", "comma"}) + ")"};
      }
      r.csv.decimal_comma = value == "comma";
    } else if (name == "by") {
      if (value != "month" && value != "year") {
        return ParamError{name, "by = '" + core::shown(value) + "' is not allowed (allowed: " +
                                    allowed_list({"month", "year"}) + ")"};
      }
      r.by = value == "month" ? station::SummaryPeriod::Month : station::SummaryPeriod::Year;
    }
  }
  if (r.query.from && r.query.to && *r.query.from > *r.query.to) {
    return ParamError{"from", "from is after to: no day lies between them"};
  }
  // Decimal commas come with semicolons: a comma cannot separate fields and digits at once.
  if (r.csv.decimal_comma && delimiter == ',') {
    return ParamError{"decimal", "decimal = comma needs delimiter = ; (a comma cannot separate both fields and decimals)"};
  }
  r.csv.delimiter = delimiter.value_or(r.csv.decimal_comma ? ';' : ',');
  return r;
}

namespace {

// A number with a fixed count of decimals, with the chosen decimal mark.
std::string fixed(double v, int decimals, const CsvFormat& f) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (f.decimal_comma) std::replace(s.begin(), s.end(), '.', ',');
  return s;
}

std::string kwh(std::int64_t wh, const CsvFormat& f) { return fixed(static_cast<double>(wh) / 1000.0, 3, f); }

// RFC 4180 quoting; text a person typed cannot start a spreadsheet formula.
std::string field(std::string_view text, const CsvFormat& f, bool free_text = false) {
  std::string s{text};
  if (free_text && !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) s.insert(0, 1, '\'');
  if (s.find_first_of(std::string{f.delimiter} + "\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

}  // namespace

std::string sessions_csv(const std::vector<station::SessionRecord>& list, const CsvFormat& f) {
  static constexpr std::string_view kHeader[] = {
      "id", "start", "end", "connected_s", "charging_s", "energy_kwh", "energy_source", "meter_start_kwh",
      "meter_end_kwh", "max_current_a", "mean_current_a", "phases", "modes", "solar_kwh", "stop_reason",
      "stop_error", "id_tag", "ocpp_transaction_id", "note"};
  std::string out;
  out.reserve(64 + list.size() * 160);
  const char d = f.delimiter;
  for (std::size_t i = 0; i < std::size(kHeader); ++i) {
    if (i) out += d;
    out += kHeader[i];
  }
  out += "\r\n";
  for (const auto& r : list) {
    auto add = [&](std::string_view s) {
      out += s;
      out += d;
    };
    add(std::to_string(r.id));
    add(station::iso8601(r.started_at, r.start_offset_s));
    add(r.ended_at ? station::iso8601(*r.ended_at, r.end_offset_s.value_or(r.start_offset_s)) : "");
    add(std::to_string(r.connected_s));
    add(std::to_string(r.charging_s));
    add(kwh(r.energy_wh, f));
    add(station::to_string(r.energy_source));
    add(r.meter_start_wh ? kwh(*r.meter_start_wh, f) : "");
    add(r.meter_end_wh ? kwh(*r.meter_end_wh, f) : "");
    add(fixed(r.max_current_da / 10.0, 1, f));
    add(fixed(r.mean_current_da / 10.0, 1, f));
    add(std::to_string(r.phases));
    add(field(station::to_string(r.modes), f));
    add(r.solar_wh ? kwh(*r.solar_wh, f) : "");
    add(r.stop_reason ? station::to_string(*r.stop_reason) : "");
    add(field(r.stop_error, f, true));
    add(field(r.id_tag, f, true));
    add(r.ocpp_transaction_id ? std::to_string(*r.ocpp_transaction_id) : "");
    out += field(r.note, f, true);
    out += "\r\n";
  }
  return out;
}

bool SessionsApi::route(const HttpRequest& req, std::string_view path, const Params& p, Respond& respond) {
  if (path != "/sessions" && path != "/sessions.csv" && !path.starts_with("/sessions/")) return false;
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";

  if (path == "/sessions" || path == "/sessions.csv" || path == "/sessions/summary") {
    if (!get) {
      respond(wrong_method("GET"));
      return true;
    }
    const SessionsEndpoint which = path == "/sessions"       ? SessionsEndpoint::List
                                   : path == "/sessions.csv" ? SessionsEndpoint::Csv
                                                             : SessionsEndpoint::Summary;
    auto parsed = parse_sessions_request(which, p);
    if (auto* e = std::get_if<ParamError>(&parsed)) {
      respond(error_reply(400, e->message, e->param));
      return true;
    }
    const auto& rq = std::get<SessionsRequest>(parsed);
    if (which == SessionsEndpoint::Summary) {
      station_.history().summary(rq.by, rq.query, [respond, by = rq.by](station::HistoryResult<std::vector<station::SummaryRow>> r) {
        if (auto* e = std::get_if<HistoryError>(&r)) return respond(history_error(*e));
        Json rows = Json::array();
        for (const auto& row : std::get<0>(r)) {
          Json j;
          j[by == station::SummaryPeriod::Month ? "month" : "year"] = row.period;
          j["sessions"] = row.sessions;
          j["energy_wh"] = row.energy_wh;
          j["charging_s"] = row.charging_s;
          j["solar_wh"] = row.solar_wh ? Json(*row.solar_wh) : Json(nullptr);
          rows.push_back(std::move(j));
        }
        respond(json_reply(200, Json{{"by", by == station::SummaryPeriod::Month ? "month" : "year"}, {"periods", rows}}));
      });
      return true;
    }
    const bool csv = which == SessionsEndpoint::Csv;
    station::History::Render render;
    if (csv) {
      render = [f = rq.csv](const std::vector<station::SessionRecord>& list) { return sessions_csv(list, f); };
    } else {
      render = [](const std::vector<station::SessionRecord>& list) { return station::to_json(list); };
    }
    station_.history().list(rq.query, std::move(render), [respond, csv](station::HistoryResult<std::string> r) {
      if (auto* e = std::get_if<HistoryError>(&r)) return respond(history_error(*e));
      HttpResponse out;
      out.body = std::move(std::get<std::string>(r));
      if (csv) {
        out.content_type = "text/csv; charset=utf-8";
        out.headers.emplace_back("Content-Disposition", "attachment; filename=\"evsed-sessions.csv\"");
      }
      respond(std::move(out));
    });
    return true;
  }

  const std::string_view rest = path.substr(std::string_view{"/sessions/"}.size());
  if (rest == "current") {
    if (!get) {
      respond(wrong_method("GET"));
      return true;
    }
    if (!p.empty()) {
      respond(error_reply(400, "GET /sessions/current takes no parameters", p.items().front().first));
      return true;
    }
    auto cur = station_.history().current();
    respond(cur ? json_response(200, station::to_json(*cur)) : error_reply(404, "no session is running (no car connected)"));
    return true;
  }
  const auto id = strict_number(rest, 1, INT64_MAX);
  if (!id) {
    respond(error_reply(404, "no such endpoint: a session id is a whole number (GET /sessions/{id})"));
    return true;
  }
  if (get) {
    if (!p.empty()) {
      respond(error_reply(400, "GET /sessions/{id} takes no parameters", p.items().front().first));
      return true;
    }
    station_.history().get(static_cast<std::uint64_t>(*id), [respond](station::HistoryResult<station::SessionRecord> r) {
      if (auto* e = std::get_if<HistoryError>(&r)) return respond(history_error(*e));
      respond(json_response(200, station::to_json(std::get<station::SessionRecord>(r))));
    });
    return true;
  }
  if (!post) {
    respond(wrong_method("GET, POST"));
    return true;
  }
  for (std::size_t i = 0; i < p.items().size(); ++i) {
    const auto& name = p.items()[i].first;
    if (name != "note") {
      respond(error_reply(400, "unknown parameter '" + core::shown(name) + "' (allowed: note)", name));
      return true;
    }
    if (i > 0) {
      respond(error_reply(400, "note is given more than once", name));
      return true;
    }
  }
  auto note = p.get("note");
  if (!note) {
    respond(error_reply(400, "POST /sessions/{id} needs note=... (empty to clear it)", "note"));
    return true;
  }
  if (auto why = station::note_problem(*note)) {
    respond(error_reply(400, *why, "note"));
    return true;
  }
  station_.history().set_note(static_cast<std::uint64_t>(*id), *note, [respond](station::HistoryResult<station::SessionRecord> r) {
    if (auto* e = std::get_if<HistoryError>(&r)) return respond(history_error(*e));
    respond(json_response(200, station::to_json(std::get<station::SessionRecord>(r))));
  });
  return true;
}

}  // namespace evsed::http
