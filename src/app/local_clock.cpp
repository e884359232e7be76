#include "evsed/app/local_clock.hpp"

#include <chrono>
#include <cstdio>

namespace evsed::app {

core::LocalTime to_local(std::time_t t) {
  std::tm lt{};
  localtime_r(&t, &lt);
  using namespace std::chrono;
  const year_month_day ymd{year{lt.tm_year + 1900}, month{static_cast<unsigned>(lt.tm_mon + 1)},
                           day{static_cast<unsigned>(lt.tm_mday)}};
  return local_days{ymd} + hours{lt.tm_hour} + minutes{lt.tm_min} + seconds{lt.tm_sec};
}

std::string format_local(core::LocalTime t, bool with_seconds) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()));
  std::string out = buf;
  if (with_seconds) {
    std::snprintf(buf, sizeof buf, ":%02ld", static_cast<long>(hms.seconds().count()));
    out += buf;
  }
  return out;
}

core::LocalTime local_now() { return to_local(std::time(nullptr)); }

std::int64_t to_epoch(core::LocalTime t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  std::tm tm{};
  tm.tm_year = static_cast<int>(ymd.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  tm.tm_hour = static_cast<int>(hms.hours().count());
  tm.tm_min = static_cast<int>(hms.minutes().count());
  tm.tm_sec = static_cast<int>(hms.seconds().count());
  tm.tm_isdst = -1;  // let the C library decide from the zone rules
  return static_cast<std::int64_t>(std::mktime(&tm));
}

}  // namespace evsed::app

namespace evsed::app {

bool LocalClock::exists(core::LocalTime t) const {
  // A skipped time comes back from the C library moved past the gap.
  const auto minute = std::chrono::floor<std::chrono::minutes>(t);
  return std::chrono::floor<std::chrono::minutes>(local_of(epoch_of(minute))) == minute;
}

}  // namespace evsed::app
