// The session endpoints' parameters and the CSV they export.

#include <gtest/gtest.h>

#include "evsed/http/sessions_api.hpp"

namespace evsed::http {
namespace {

using station::SessionRecord;

SessionsRequest ok(SessionsEndpoint e, std::string_view query) {
  auto r = parse_sessions_request(e, Params::parse(query));
  if (auto* err = std::get_if<ParamError>(&r)) ADD_FAILURE() << query << ": " << err->message;
  return std::holds_alternative<SessionsRequest>(r) ? std::get<SessionsRequest>(r) : SessionsRequest{};
}

ParamError refused(SessionsEndpoint e, std::string_view query) {
  auto r = parse_sessions_request(e, Params::parse(query));
  if (!std::holds_alternative<ParamError>(r)) ADD_FAILURE() << query << " was accepted";
  return std::holds_alternative<ParamError>(r) ? std::get<ParamError>(r) : ParamError{};
}

TEST(SessionsRequest, DefaultsAndFilters) {
  using namespace std::chrono;
  auto r = ok(SessionsEndpoint::List, "");
  EXPECT_EQ(r.query.limit, kDefaultSessionsPage);
  EXPECT_EQ(r.query.offset, 0);
  EXPECT_FALSE(r.query.from);
  r = ok(SessionsEndpoint::List, "from=2026-11-01&to=2026-11-30&limit=10&offset=20");
  EXPECT_EQ(r.query.from, sys_days{2026y / November / 1});
  EXPECT_EQ(r.query.to, sys_days{2026y / November / 30});
  EXPECT_EQ(r.query.limit, 10);
  EXPECT_EQ(r.query.offset, 20);
  EXPECT_FALSE(ok(SessionsEndpoint::Csv, "").query.limit) << "an export is everything unless limited";
  EXPECT_EQ(ok(SessionsEndpoint::Csv, "").csv, (CsvFormat{',', false}));
  EXPECT_EQ(ok(SessionsEndpoint::Csv, "delimiter=%3B").csv, (CsvFormat{';', false}));
  EXPECT_EQ(ok(SessionsEndpoint::Csv, "decimal=comma").csv, (CsvFormat{';', true})) << "a comma decimal brings ;";
  EXPECT_EQ(ok(SessionsEndpoint::Summary, "by=year").by, station::SummaryPeriod::Year);
  EXPECT_EQ(ok(SessionsEndpoint::Summary, "").by, station::SummaryPeriod::Month);
}

TEST(SessionsRequest, BadValuesAreRefusedWithTheParameter) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"from=2026-13-01", "from"},
      {"from=2026-02-30", "from"},
      {"from=26-11-01", "from"},
      {"to=2026-11-01T00:00", "to"},
      {"from=1969-12-31", "from"},
      {"from=2026-11-02&to=2026-11-01", "from"},
      {"limit=0", "limit"},
      {"limit=-1", "limit"},
      {"limit=10001", "limit"},
      {"limit=1e3", "limit"},
      {"limit=99999999999999999999999", "limit"},
      {"limit=+5", "limit"},
      {"limit= 5", "limit"},
      {"offset=-1", "offset"},
      {"offset=1000000001", "offset"},
      {"offset=1%27%20OR%201=1", "offset"},
      {"from=2026-11-01%27;DROP%20TABLE%20sessions;--", "from"},
      {"limit=5&limit=6", "limit"},
      {"sort=id", "sort"},
      {"delimiter=,", "delimiter"},  // list: only the CSV takes it
  };
  for (const auto& [query, param] : cases) {
    const auto e = refused(SessionsEndpoint::List, query);
    EXPECT_EQ(e.param, param) << query << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(refused(SessionsEndpoint::Csv, "delimiter=|").param, "delimiter");
  EXPECT_EQ(refused(SessionsEndpoint::Csv, "decimal=dot").param, "decimal");
  EXPECT_EQ(refused(SessionsEndpoint::Csv, "decimal=comma&delimiter=,").param, "decimal");
  EXPECT_EQ(refused(SessionsEndpoint::Summary, "by=week").param, "by");
  EXPECT_EQ(refused(SessionsEndpoint::Summary, "limit=5").param, "limit");
}

SessionRecord sample() {
  SessionRecord r;
  r.id = 7;
  r.started_at = 1'793'491'200 - 1800;  // 2026-10-31T23:30Z
  r.start_offset_s = 3600;
  r.ended_at = r.started_at + 5400;
  r.end_offset_s = 3600;
  r.connected_s = 5400;
  r.charging_s = 3600;
  r.energy_wh = 11040;
  r.max_current_da = 160;
  r.mean_current_da = 155;
  r.phases = 3;
  r.modes.add(core::ChargeMode::Normal);
  r.modes.add(core::ChargeMode::Solar);
  r.solar_wh = 1234;
  r.stop_reason = station::StopReason::Unplugged;
  return r;
}

TEST(SessionsCsv, HeaderRowTimesAndKilowattHours) {
  const std::string csv = sessions_csv({sample()}, {});
  const std::string header =
      "id,start,end,connected_s,charging_s,energy_kwh,energy_source,meter_start_kwh,meter_end_kwh,max_current_a,"
      "mean_current_a,phases,modes,solar_kwh,stop_reason,stop_error,id_tag,ocpp_transaction_id,note\r\n";
  ASSERT_EQ(csv.substr(0, header.size()), header);
  EXPECT_EQ(csv.substr(header.size()),
            "7,2026-11-01T00:30:00+01:00,2026-11-01T02:00:00+01:00,5400,3600,11.040,estimated,,,16.0,15.5,3,"
            "\"normal,solar\",1.234,unplugged,,,,\r\n");
}

TEST(SessionsCsv, DecimalCommaWithSemicolons) {
  const std::string csv = sessions_csv({sample()}, {';', true});
  EXPECT_NE(csv.find("7;2026-11-01T00:30:00+01:00;2026-11-01T02:00:00+01:00;5400;3600;11,040;estimated;;;16,0;15,5;3;"
                     "normal,solar;1,234;unplugged;;;;\r\n"),
            std::string::npos)
      << csv;
}

TEST(SessionsCsv, QuotingAndNoFormulasFromNotes) {
  auto r = sample();
  r.note = "say \"hi\"; then\nleave, ok";
  auto csv = sessions_csv({r}, {});
  EXPECT_NE(csv.find(",\"say \"\"hi\"\"; then\nleave, ok\"\r\n"), std::string::npos) << csv;
  r.note = "=HYPERLINK(\"http://x\")";
  csv = sessions_csv({r}, {});
  EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"http://x\"\")\"\r\n"), std::string::npos) << csv;
  for (const char* lead : {"+1", "-1", "@SUM(A1)"}) {
    r.note = lead;
    csv = sessions_csv({r}, {';', false});
    EXPECT_NE(csv.find(std::string{";'"} + lead + "\r\n"), std::string::npos) << csv;
  }
}

TEST(SessionsCsv, AnOpenSessionHasNoEnd) {
  auto r = sample();
  r.ended_at.reset();
  r.end_offset_s.reset();
  r.stop_reason.reset();
  const auto csv = sessions_csv({r}, {});
  EXPECT_NE(csv.find("7,2026-11-01T00:30:00+01:00,,5400"), std::string::npos) << csv;
}

TEST(SessionDays, OnlyRealDates) {
  using namespace std::chrono;
  EXPECT_EQ(parse_day("2024-02-29"), sys_days{2024y / February / 29});
  EXPECT_FALSE(parse_day("2023-02-29"));
  EXPECT_FALSE(parse_day("2023-2-28"));
  EXPECT_FALSE(parse_day(""));
  EXPECT_FALSE(parse_day("2023-02-28 "));
  EXPECT_FALSE(parse_day("１２３４-02-28"));
}

}  // namespace
}  // namespace evsed::http
