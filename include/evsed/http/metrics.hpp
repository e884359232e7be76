#pragma once
// GET /metrics: the Prometheus text exposition format 0.0.4, from the
// Station's snapshot and session totals. Base units (amperes, watts, joules,
// seconds, celsius); counters end in _total; states are labelled gauges.

#include <optional>
#include <string>

#include "evsed/station/session_record.hpp"
#include "evsed/station/history.hpp"
#include "evsed/station/snapshot.hpp"

namespace evsed::http {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string metrics_text(const station::Snapshot& snap, const station::SessionTotals& totals,
                         const std::optional<station::SessionRecord>& current);

}  // namespace evsed::http
