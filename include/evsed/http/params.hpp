#pragma once
// Request parameters as SmartEVSE reads them: from the query string (and, for
// evsed, also from a form-encoded body); names case-insensitive; the first
// occurrence wins; a bare key is present with an empty value; a value with a
// malformed %-escape counts as absent. A value longer than kMaxValue is not
// used either, but remembered, so the request can be refused with its name.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evsed::http {

class Params {
 public:
  Params() = default;
  // `query` without the leading '?'; `form` is an x-www-form-urlencoded body.
  static Params parse(std::string_view query, std::string_view form = {});

  [[nodiscard]] bool has(std::string_view name) const;
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
  // atol semantics: leading blanks and sign, digits up to the first non-digit,
  // 0 when there are none; clamped to +-1e12 instead of overflowing.
  [[nodiscard]] std::optional<long long> number(std::string_view name) const;
  [[nodiscard]] bool empty() const { return items_.empty(); }
  // The first parameter whose value was too long, if any.
  [[nodiscard]] const std::optional<std::string>& oversized() const { return oversized_; }

  // Longest value used (bytes, decoded): room for a 4096-bit CA certificate chain.
  static constexpr std::size_t kMaxValue = 16 * 1024;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  void add(std::string_view text);
  std::vector<std::pair<std::string, std::string>> items_;  // name (lower-case), value
  std::optional<std::string> oversized_;
};

long long parse_atol(std::string_view s);
// Decodes %XX and '+'; empty on a malformed escape.
std::optional<std::string> url_decode(std::string_view s);

// Splits "/path?query" into path and query.
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

}  // namespace evsed::http
