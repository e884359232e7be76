#include "evsed/auth/accounts.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "evsed/core/outside_text.hpp"

namespace evsed::auth {

using Json = nlohmann::json;

bool crypto_ready() { return sodium_init() >= 0; }

std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return "a name is 1.." + std::to_string(kMaxNameBytes) + " bytes";
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@')) {
      return std::string{"a name has letters, digits and - _ . @ only"};
    }
  }
  return std::nullopt;
}

std::optional<std::string> password_problem(std::string_view p) {
  if (p.size() < kMinPasswordBytes) return "a password has at least " + std::to_string(kMinPasswordBytes) + " bytes";
  if (p.size() > kMaxPasswordBytes) return "a password has at most " + std::to_string(kMaxPasswordBytes) + " bytes";
  if (!core::valid_utf8(p) || core::has_control(p)) return std::string{"a password is UTF-8 text without control characters"};
  return std::nullopt;
}

std::variant<std::vector<Account>, std::string> parse_accounts(const std::string& text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("users") || !j["users"].is_array()) {
    return std::string{"not a users file ({\"users\": [...]})"};
  }
  std::vector<Account> out;
  for (const auto& u : j["users"]) {
    if (!u.is_object() || !u.value("name", Json()).is_string() || !u.value("hash", Json()).is_string() ||
        !u.value("role", Json()).is_string()) {
      return std::string{"a user without name, role and hash"};
    }
    Account a{u["name"].get<std::string>(), station::Role::None, u["hash"].get<std::string>()};
    const auto role = station::role_from(u["role"].get<std::string>());
    if (!role || name_problem(a.name) || !a.hash.starts_with("$argon2id$")) {
      return "user '" + core::shown(a.name) + "': a bad name, role or hash";
    }
    a.role = *role;
    out.push_back(std::move(a));
  }
  return out;
}

std::string accounts_json(const std::vector<Account>& accounts) {
  Json list = Json::array();
  for (const auto& a : accounts) {
    list.push_back({{"name", a.name}, {"role", std::string{station::to_string(a.role)}}, {"hash", a.hash}});
  }
  return Json{{"format", 1}, {"users", list}}.dump(1) + "\n";
}

std::variant<std::vector<StoredToken>, std::string> parse_tokens(const std::string& text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("tokens") || !j["tokens"].is_array()) {
    return std::string{"not a tokens file"};
  }
  std::vector<StoredToken> out;
  for (const auto& t : j["tokens"]) {
    if (!t.is_object() || !t.value("id", Json()).is_string() || !t.value("name", Json()).is_string() ||
        !t.value("role", Json()).is_string() || !t.value("digest", Json()).is_string() ||
        !t.value("created", Json()).is_number_integer()) {
      return std::string{"a token without id, name, role, digest and created"};
    }
    const auto role = station::role_from(t["role"].get<std::string>());
    if (!role) return std::string{"a token with an unknown role"};
    out.push_back({{t["id"].get<std::string>(), t["name"].get<std::string>(), *role, t["created"].get<std::int64_t>()},
                   t["digest"].get<std::string>()});
  }
  return out;
}

std::string tokens_json(const std::vector<StoredToken>& tokens) {
  Json list = Json::array();
  for (const auto& t : tokens) {
    list.push_back({{"id", t.info.id}, {"name", t.info.name}, {"role", std::string{station::to_string(t.info.role)}},
                    {"created", t.info.created}, {"digest", t.digest}});
  }
  return Json{{"format", 1}, {"tokens", list}}.dump(1) + "\n";
}

std::optional<std::string> hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return std::nullopt;  // out of memory
  }
  return std::string{out};
}

bool verify_password(const std::string& hash, std::string_view password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string token_digest(std::string_view secret) {
  unsigned char d[32];
  crypto_generichash(d, sizeof d, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  return hex;
}

std::string random_token() {
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string{"evsed_"} + text;
}

std::string random_id() {
  unsigned char b[8];
  randombytes_buf(b, sizeof b);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, b, sizeof b);
  return hex;
}

}  // namespace evsed::auth
