#pragma once
// Text that came from outside (payloads, parameters, file contents) on its way
// into a log line or an error message: control characters and invalid UTF-8
// escaped, length capped, so a value can neither forge a log line nor flood one.

#include <cstddef>
#include <string>
#include <string_view>

namespace evsed::core {

// Longest outside value shown in a log line or error message, in bytes.
inline constexpr std::size_t kMaxShownBytes = 120;

// `s` with \n, \r, \t as such, other control bytes and invalid UTF-8 as \xNN,
// backslashes doubled; longer than `max` bytes: cut, with "... (N bytes)".
std::string shown(std::string_view s, std::size_t max = kMaxShownBytes);

[[nodiscard]] bool valid_utf8(std::string_view s);
// Any C0 control character or DEL.
[[nodiscard]] bool has_control(std::string_view s);

}  // namespace evsed::core
