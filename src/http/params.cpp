#include "evsed/http/params.hpp"

#include <algorithm>
#include <cctype>

namespace evsed::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex(s[i + 1]);
      const int lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

long long parse_atol(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  constexpr long long kLimit = 1'000'000'000'000LL;
  long long v = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
    v = std::min(kLimit, v * 10 + (s[i] - '0'));
  }
  return negative ? -v : v;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

void Params::add(std::string_view text) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = url_decode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::optional<std::string>{""} : url_decode(pair.substr(eq + 1));
    if (!name || name->empty() || !value) continue;
    if (value->size() > kMaxValue) {
      if (!oversized_) oversized_ = lower(*name);
      continue;
    }
    items_.emplace_back(lower(*name), std::move(*value));
  }
}

Params Params::parse(std::string_view query, std::string_view form) {
  Params p;
  p.add(query);
  p.add(form);
  return p;
}

bool Params::has(std::string_view name) const { return get(name).has_value(); }

std::optional<std::string> Params::get(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [n, v] : items_) {
    if (n == key) return v;
  }
  return std::nullopt;
}

std::optional<long long> Params::number(std::string_view name) const {
  auto v = get(name);
  if (!v) return std::nullopt;
  return parse_atol(*v);
}

}  // namespace evsed::http
