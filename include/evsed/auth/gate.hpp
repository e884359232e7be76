#pragma once
// The access port's implementation: trusted networks, accounts (HTTP Basic),
// API tokens (bearer). Password checks run on a worker thread (Argon2id takes
// tens of milliseconds and 64 MiB); a check that succeeded is remembered for a
// while, keyed by a keyed hash of the credentials. Failures are counted per
// source address: after a few, that address waits longer each time.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "evsed/auth/accounts.hpp"
#include "evsed/auth/network.hpp"
#include "evsed/core/units.hpp"
#include "evsed/station/access.hpp"
#include "evsed/worker/job_thread.hpp"

namespace spdlog {
class logger;
}

namespace evsed::auth {

struct GateConfig {
  station::AccessMode mode = station::AccessMode::Writes;
  std::vector<Network> trusted;
  std::vector<Account> accounts;
  std::vector<StoredToken> tokens;
  int write_limit = 120;  // changes per minute per address, as many at once; 0: none
};

// Failed logins from one address allowed before it must wait; the wait then
// doubles with each failure, up to kMaxLockout; failures older than
// kFailureMemory are forgotten.
inline constexpr int kFreeFailures = 5;
inline constexpr core::Seconds kMaxLockout{900};
inline constexpr core::Seconds kFailureMemory{900};
// A verified password is trusted again without Argon2id for this long.
inline constexpr core::Seconds kVerifiedFor{300};
// Password checks waiting at most; more: "try again" (a flood cannot queue gigabytes).
inline constexpr std::size_t kMaxPendingChecks = 16;
// A dashboard login lasts this long; at most this many at once (the oldest go first).
inline constexpr core::Seconds kLoginLifetime{12 * 3600};
inline constexpr std::size_t kMaxLoginSessions = 64;
// Addresses whose change rate is followed at most before full ones are forgotten.
inline constexpr std::size_t kMaxBuckets = 4096;


class Gate final : public station::Access {
 public:
  using Post = std::function<void(std::function<void()>)>;
  // Which of the state directory's files a change is written to.
  enum class File : std::uint8_t { Tokens, Users };  // tokens.json, users.json
  // Writes one (atomically, 0600); the callback gets the failure, if any.
  using Save = std::function<void(File file, std::string content, std::function<void(std::optional<std::string>)>)>;
  using Now = std::function<core::TimePoint()>;
  using Epoch = std::function<std::int64_t()>;

  Gate(GateConfig config, Post post, Save save, Now now, Epoch epoch, std::shared_ptr<spdlog::logger> log);
  ~Gate() override;

  // A reload: mode, networks, accounts (tokens stay, they are evsed's own).
  void reconfigure(station::AccessMode mode, std::vector<Network> trusted, std::vector<Account> accounts, int write_limit);

  [[nodiscard]] station::AccessMode mode() const override { return config_.mode; }
  void check(const station::Credentials& c, std::function<void(station::Verdict)> done) override;
  [[nodiscard]] int write_wait(const std::string& source) override;
  [[nodiscard]] std::vector<station::TokenInfo> tokens() const override;
  void create_token(std::string name, station::Role role,
                    std::function<void(std::optional<station::NewToken>, std::string)> done) override;
  void revoke_token(const std::string& id, std::function<void(bool, std::string)> done) override;
  [[nodiscard]] std::vector<station::UserInfo> users() const override;
  void set_user(std::string name, station::Role role, std::optional<std::string> password,
                std::function<void(std::string)> done) override;
  void delete_user(const std::string& name, std::function<void(bool, std::string)> done) override;
  void change_own_password(const std::string& source, const std::string& account, std::string current, std::string next,
                           std::function<void(std::string, int)> done) override;
  [[nodiscard]] bool awaiting_first_admin() const override;
  void create_first_admin(const std::string& source, const std::string& code, std::string name, std::string password,
                          std::function<void(std::string, int)> done) override;
  void log_in(const std::string& source, std::string user, std::string password,
              std::function<void(std::optional<station::Login>, station::Verdict)> done) override;
  void log_out(const std::string& session) override;

 private:
  struct Failures {
    int count = 0;
    core::TimePoint last{};
    core::TimePoint blocked_until{};
  };
  struct LoginSession {
    std::string user;
    station::Role role;
    std::string csrf;
    core::TimePoint until;
  };
  struct Bucket {  // a token bucket: `left` changes now, refilled at write_limit per minute
    double left;
    core::TimePoint at;
    bool warned = false;
  };
  struct Remembered {
    station::Role role;
    core::TimePoint until;
  };
  void failed(const std::string& source, const std::string& what);
  [[nodiscard]] std::string remember_key(const std::string& user, const std::string& password) const;
  void save_tokens(std::function<void(std::optional<std::string>)> done);
  // Puts `next` in force once it is on disk (else nothing changes) and ends the logins it affects.
  void save_accounts(std::vector<Account> next, const std::string& changed, std::function<void(std::string)> done);
  [[nodiscard]] bool last_admin(const std::string& name) const;
  [[nodiscard]] bool has_admin() const;
  void offer_setup_code();  // a new code when there is no admin (and none yet)
  [[nodiscard]] int blocked_for(const std::string& source) const;  // s; 0: not held

  GateConfig config_;
  Post post_;
  Save save_;
  Now now_;
  Epoch epoch_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, Failures> failures_;
  std::map<std::string, Remembered> remembered_;
  std::map<std::string, Bucket> buckets_;
  std::map<std::string, LoginSession> sessions_;  // in memory: a restart asks to log in again
  std::array<unsigned char, 32> remember_secret_{};
  std::string setup_code_;  // empty: none offered (an admin exists, or mode "open")
  std::string dummy_hash_;  // checked for unknown names, so they take as long as known ones
  std::size_t pending_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  worker::JobThread worker_;  // last: stops first
};

}  // namespace evsed::auth
