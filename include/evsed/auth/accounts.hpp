#pragma once
// Accounts (users.json, written by `evsed passwd`) and API tokens
// (tokens.json, written by evsed), both 0600 in the state directory. Passwords
// are kept only as Argon2id hashes (libsodium's crypto_pwhash_str); tokens only
// as a BLAKE2b digest: a stolen file gives neither back.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "evsed/station/access.hpp"

namespace evsed::auth {

struct Account {
  std::string name;
  station::Role role = station::Role::Admin;
  std::string hash;  // "$argon2id$..."
  friend bool operator==(const Account&, const Account&) = default;
};

struct StoredToken {
  station::TokenInfo info;
  std::string digest;  // hex BLAKE2b-256 of the secret
};

inline constexpr std::size_t kMinPasswordBytes = 8;
inline constexpr std::size_t kMaxPasswordBytes = 256;
inline constexpr std::size_t kMaxNameBytes = 64;
// How the log names the one-time code for the first admin (the diagnostics
// download hides what follows it): "setup code ABCD-EFGH-JKLM".
inline constexpr std::string_view kSetupCodeLabel = "setup code ";
inline constexpr std::size_t kSetupCodeLength = 14;

bool crypto_ready();  // sodium_init()

std::variant<std::vector<Account>, std::string> parse_accounts(const std::string& json);
std::string accounts_json(const std::vector<Account>& accounts);
std::variant<std::vector<StoredToken>, std::string> parse_tokens(const std::string& json);
std::string tokens_json(const std::vector<StoredToken>& tokens);

// Why a name or password cannot be used; empty when it can.
std::optional<std::string> name_problem(std::string_view name);
std::optional<std::string> password_problem(std::string_view password);

// Slow on purpose (memory-hard): never on the event loop.
std::optional<std::string> hash_password(std::string_view password);
bool verify_password(const std::string& hash, std::string_view password);

std::string token_digest(std::string_view secret);
std::string random_token();  // "evsed_" + 43 characters
std::string random_id();     // 16 hex digits

}  // namespace evsed::auth
