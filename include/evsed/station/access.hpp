#pragma once
// Who may do what: the access port behind the Station. Front-ends hand over
// the credentials a request carried (and where it came from) and get a role;
// the policy (which request needs which role) is one table here, so every
// front-end applies the same rules. The accounts and tokens behind it live in
// the auth area; without them (tests, the fuzzer) everyone is admin.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evsed::station {

enum class Role : std::uint8_t { None = 0, Viewer = 1, Admin = 2 };
std::string_view to_string(Role r);  // "none", "viewer", "admin"
std::optional<Role> role_from(std::string_view name);  // viewer, admin

// [http] auth.
enum class AccessMode : std::uint8_t {
  Open,    // SmartEVSE's behaviour: anyone who reaches the port may do anything (closed networks only)
  Writes,  // reading is open; every change needs an admin (the default)
  All,     // everything needs a login
};
struct AccessModeInfo {
  AccessMode mode;
  std::string_view name;
  std::string_view meaning;
};
inline constexpr std::array<AccessModeInfo, 3> kAccessModes{{
    {AccessMode::Open, "open", "no login: anyone who reaches the port may change everything"},
    {AccessMode::Writes, "writes", "reading is open; changes need an admin"},
    {AccessMode::All, "all", "everything needs a login"},
}};
std::string_view to_string(AccessMode m);
std::optional<AccessMode> access_mode_from(std::string_view name);

// The role a request needs: changes (and the token list) an admin, reading a
// viewer in mode "all", nothing else.
Role required_role(AccessMode mode, bool changes, std::string_view path);

struct Credentials {
  std::string source;  // the peer's IP address, as text
  std::optional<std::string> user;      // HTTP Basic
  std::optional<std::string> password;
  std::optional<std::string> bearer;    // an API token
  std::optional<std::string> session;   // the dashboard's login cookie
};

struct Verdict {
  Role role = Role::None;
  std::string who;           // "admin", "token evcc", "trusted 127.0.0.1"; empty when nobody
  bool refused = false;      // credentials were given and are wrong
  int retry_after_s = 0;     // > 0: too many failures from this source; not even checked
  std::string csrf;          // set when the role comes from a login session: changes must carry it
  std::string account;       // the account whose password (or login) it was; empty for tokens and networks
};

// A dashboard login: the cookie's value and the token changes must send back.
struct Login {
  std::string session;
  std::string csrf;
  Role role = Role::None;
  std::string user;
};

struct TokenInfo {
  std::string id;
  std::string name;
  Role role = Role::Viewer;
  std::int64_t created = 0;  // Unix time
};

// An account as listed: never its hash.
struct UserInfo {
  std::string name;
  Role role = Role::Viewer;
};

struct NewToken {
  TokenInfo info;
  std::string secret;  // shown once, never stored
};

class Access {
 public:
  virtual ~Access() = default;
  [[nodiscard]] virtual AccessMode mode() const = 0;
  // `done` runs on the loop (at once when nothing slow is needed).
  virtual void check(const Credentials& c, std::function<void(Verdict)> done) = 0;

  // Before a change from `source`: 0 to go ahead (it is counted), else the
  // seconds to wait: changes per address per minute are limited.
  [[nodiscard]] virtual int write_wait(const std::string& source) = 0;

  [[nodiscard]] virtual std::vector<TokenInfo> tokens() const = 0;
  // Answered once it is on disk; the secret is in the reply only.
  virtual void create_token(std::string name, Role role, std::function<void(std::optional<NewToken>, std::string)> done) = 0;
  // Stops working at once; `done` once that is on disk too (false: no such token).
  virtual void revoke_token(const std::string& id, std::function<void(bool, std::string)> done) = 0;

  [[nodiscard]] virtual std::vector<UserInfo> users() const = 0;
  // Adds an account or changes one (a password is needed for a new one; without
  // one only the role changes). Answered once on disk; an empty error is success.
  virtual void set_user(std::string name, Role role, std::optional<std::string> password,
                        std::function<void(std::string error)> done) = 0;
  // False: no such account. The account's logins end at once.
  virtual void delete_user(const std::string& name, std::function<void(bool found, std::string error)> done) = 0;

  // An account changes its own password, given the current one (checked and
  // throttled like a login); its logins end, as with any new password.
  virtual void change_own_password(const std::string& source, const std::string& account, std::string current,
                                   std::string next, std::function<void(std::string error, int retry_after_s)> done) = 0;

  // No admin account yet (and not mode "open"): the first one may be made by
  // whoever has the one-time setup code evsed wrote to its log at start. The
  // code is checked and throttled like a password and works once.
  [[nodiscard]] virtual bool awaiting_first_admin() const = 0;
  virtual void create_first_admin(const std::string& source, const std::string& code, std::string name,
                                  std::string password, std::function<void(std::string error, int retry_after_s)> done) = 0;

  // A name and password for a login session (the same checks and throttle as Basic).
  virtual void log_in(const std::string& source, std::string user, std::string password,
                      std::function<void(std::optional<Login>, Verdict)> done) = 0;
  virtual void log_out(const std::string& session) = 0;
};

// Without accounts: everyone may do everything (what "open" means).
class OpenAccess final : public Access {
 public:
  [[nodiscard]] AccessMode mode() const override { return AccessMode::Open; }
  void check(const Credentials&, std::function<void(Verdict)> done) override { done({Role::Admin, "anyone", false, 0, {}, {}}); }
  [[nodiscard]] int write_wait(const std::string&) override { return 0; }
  [[nodiscard]] std::vector<TokenInfo> tokens() const override { return {}; }
  void create_token(std::string, Role, std::function<void(std::optional<NewToken>, std::string)> done) override {
    done(std::nullopt, "there are no accounts on this charger");
  }
  void revoke_token(const std::string&, std::function<void(bool, std::string)> done) override {
    done(false, "there are no accounts on this charger");
  }
  [[nodiscard]] std::vector<UserInfo> users() const override { return {}; }
  void set_user(std::string, Role, std::optional<std::string>, std::function<void(std::string)> done) override {
    done("there are no accounts on this charger");
  }
  void delete_user(const std::string&, std::function<void(bool, std::string)> done) override {
    done(false, "there are no accounts on this charger");
  }
  void change_own_password(const std::string&, const std::string&, std::string, std::string,
                           std::function<void(std::string, int)> done) override {
    done("there are no accounts on this charger", 0);
  }
  [[nodiscard]] bool awaiting_first_admin() const override { return false; }
  void create_first_admin(const std::string&, const std::string&, std::string, std::string,
                          std::function<void(std::string, int)> done) override {
    done("there are no accounts on this charger", 0);
  }
  void log_in(const std::string&, std::string, std::string, std::function<void(std::optional<Login>, Verdict)> done) override {
    done(std::nullopt, {Role::Admin, "anyone", false, 0, {}, {}});
  }
  void log_out(const std::string&) override {}
};

}  // namespace evsed::station
