// JSON of a session: one shape for REST, MQTT and the dashboard.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "evsed/station/session_record.hpp"

namespace evsed::station {

std::string iso8601(std::int64_t epoch_s, std::int32_t offset_s) {
  using namespace std::chrono;
  const sys_seconds local{seconds{epoch_s + offset_s}};
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss hms{local - day};
  const int off_min = (offset_s < 0 ? -offset_s : offset_s) / 60;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld%c%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()), offset_s < 0 ? '-' : '+', off_min / 60, off_min % 60);
  return buf;
}

LocalDay start_day(const SessionRecord& r) {
  using namespace std::chrono;
  return floor<days>(sys_seconds{seconds{r.started_at + r.start_offset_s}});
}

namespace {

using Json = nlohmann::ordered_json;

template <class T>
Json or_null(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json amps(std::int32_t deci) { return static_cast<double>(deci) / 10.0; }

Json record_json(const SessionRecord& r) {
  Json j;
  j["id"] = r.id;
  j["start"] = iso8601(r.started_at, r.start_offset_s);
  j["end"] = r.ended_at ? Json(iso8601(*r.ended_at, r.end_offset_s.value_or(r.start_offset_s))) : Json(nullptr);
  j["start_epoch"] = r.started_at;
  j["end_epoch"] = or_null(r.ended_at);
  j["open"] = r.open();
  j["connected_s"] = r.connected_s;
  j["charging_s"] = r.charging_s;
  j["energy_wh"] = r.energy_wh;
  j["energy_source"] = to_string(r.energy_source);
  j["meter_start_wh"] = or_null(r.meter_start_wh);
  j["meter_end_wh"] = or_null(r.meter_end_wh);
  j["max_current_a"] = amps(r.max_current_da);
  j["mean_current_a"] = amps(r.mean_current_da);
  j["phases"] = r.phases;
  Json modes = Json::array();
  for (auto m : kSessionModes) {
    if (r.modes.has(m)) modes.push_back(to_string(ModeSet{}.with(m)));
  }
  j["modes"] = std::move(modes);
  j["solar_wh"] = or_null(r.solar_wh);
  j["stop_reason"] = r.stop_reason ? Json(to_string(*r.stop_reason)) : Json(nullptr);
  j["stop_error"] = r.stop_error.empty() ? Json(nullptr) : Json(r.stop_error);
  j["id_tag"] = r.id_tag.empty() ? Json(nullptr) : Json(r.id_tag);
  j["ocpp_transaction_id"] = or_null(r.ocpp_transaction_id);
  j["note"] = r.note;
  j["updated_epoch"] = r.updated_at;
  return j;
}

}  // namespace

std::string to_json(const SessionRecord& r) { return record_json(r).dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string to_json(const std::vector<SessionRecord>& list) {
  Json arr = Json::array();
  for (const auto& r : list) arr.push_back(record_json(r));
  Json j;
  j["sessions"] = std::move(arr);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace evsed::station
