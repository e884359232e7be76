#pragma once
// The one place that turns core::Status into SmartEVSE's GET /settings JSON.

#include <string>

#include "evsed/core/status.hpp"
#include "evsed/http/device_view.hpp"

namespace evsed::http {

// REST mode id: 0 OFF, 1 NORMAL, 2 SOLAR, 3 SMART, 4 PAUSE.
int rest_mode_id(const core::Status& s);
std::string_view rest_mode_name(int mode_id);

std::string settings_json(const core::Status& s, const DeviceView& d);

}  // namespace evsed::http
