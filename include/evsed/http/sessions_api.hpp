#pragma once
// The session log over REST (evsed's own endpoints, not SmartEVSE's):
//   GET  /sessions            JSON, newest first (from, to, limit, offset)
//   GET  /sessions.csv        the same as CSV (RFC 4180; delimiter, decimal)
//   GET  /sessions/summary    totals by month or year (by, from, to)
//   GET  /sessions/current    the session running now
//   GET  /sessions/{id}
//   POST /sessions/{id}?note=...
// Parameters are strict: unknown, repeated or malformed ones are a 400 with
// the parameter and the reason, and nothing is read or changed.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "evsed/http/http_types.hpp"
#include "evsed/http/params.hpp"
#include "evsed/station/station.hpp"

namespace evsed::http {

struct CsvFormat {
  char delimiter = ',';
  bool decimal_comma = false;  // 1,234 kWh for European spreadsheets
  friend bool operator==(const CsvFormat&, const CsvFormat&) = default;
};

enum class SessionsEndpoint : std::uint8_t { List, Csv, Summary };

struct SessionsRequest {
  station::SessionQuery query;
  CsvFormat csv;
  station::SummaryPeriod by = station::SummaryPeriod::Month;
};

struct ParamError {
  std::string param;
  std::string message;
};

// Largest page of GET /sessions, and the default one.
inline constexpr std::int64_t kMaxSessionsPage = 10'000;
inline constexpr std::int64_t kDefaultSessionsPage = 100;
inline constexpr std::int64_t kMaxSessionsOffset = 1'000'000'000;

// The filters of one of the three list endpoints, checked (the fuzzer's entry too).
std::variant<SessionsRequest, ParamError> parse_sessions_request(SessionsEndpoint e, const Params& p);
// "YYYY-MM-DD", a real date between 1970 and 9999.
std::optional<station::LocalDay> parse_day(std::string_view s);

// The CSV of a list, with its header row; CRLF line ends.
std::string sessions_csv(const std::vector<station::SessionRecord>& list, const CsvFormat& f);

class SessionsApi {
 public:
  explicit SessionsApi(station::Station& station) : station_(station) {}
  // True when `path` is one of these endpoints (then it answers).
  bool route(const HttpRequest& req, std::string_view path, const Params& p, Respond& respond);

 private:
  station::Station& station_;
};

}  // namespace evsed::http
