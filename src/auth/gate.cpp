#include "evsed/auth/gate.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <cmath>

#include "evsed/core/outside_text.hpp"

namespace evsed::auth {

using station::Role;
using station::Verdict;

Gate::Gate(GateConfig config, Post post, Save save, Now now, Epoch epoch, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)),
      post_(std::move(post)),
      save_(std::move(save)),
      now_(std::move(now)),
      epoch_(std::move(epoch)),
      log_(std::move(log)) {
  randombytes_buf(remember_secret_.data(), remember_secret_.size());
  // Made on the worker: it is as slow as any check.
  worker_.submit([this] {
    unsigned char noise[16];
    randombytes_buf(noise, sizeof noise);
    dummy_hash_ = hash_password(std::string_view{reinterpret_cast<const char*>(noise), sizeof noise}).value_or("");
  });
  offer_setup_code();
}

Gate::~Gate() { worker_.drain(); }

void Gate::reconfigure(station::AccessMode mode, std::vector<Network> trusted, std::vector<Account> accounts,
                       int write_limit) {
  config_.mode = mode;
  config_.write_limit = write_limit;
  buckets_.clear();
  config_.trusted = std::move(trusted);
  config_.accounts = std::move(accounts);
  remembered_.clear();  // a changed password must be checked again
  sessions_.clear();    // and a removed account logged out
  offer_setup_code();
}

bool Gate::has_admin() const {
  return std::any_of(config_.accounts.begin(), config_.accounts.end(), [](const Account& a) { return a.role == Role::Admin; });
}

void Gate::offer_setup_code() {
  if (config_.mode == station::AccessMode::Open || has_admin()) {
    setup_code_.clear();
    return;
  }
  if (!setup_code_.empty()) return;  // the one logged stays good across reloads
  // 12 characters without look-alikes (no 0/O, 1/I/L): about 58 bits, typed from the journal.
  constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
  for (int i = 0; i < 12; ++i) {
    if (i > 0 && i % 4 == 0) setup_code_ += '-';
    setup_code_ += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
  }
  log_->warn("auth: no admin account yet: the dashboard asks its first visitor for {}{} "
             "(or run `sudo evsed passwd admin`)", kSetupCodeLabel, setup_code_);
}

bool Gate::awaiting_first_admin() const { return !setup_code_.empty(); }

void Gate::change_own_password(const std::string& source, const std::string& account, std::string current,
                               std::string next, std::function<void(std::string, int)> done) {
  if (account.empty()) return done("log in with your own account (a token or a trusted network has no password)", 0);
  if (auto why = password_problem(next)) return done("password: " + *why, 0);
  if (const int wait = blocked_for(source)) return done("too many failures", wait);
  const auto it = std::find_if(config_.accounts.begin(), config_.accounts.end(),
                               [&](const Account& a) { return a.name == account; });
  if (it == config_.accounts.end()) return done("no account " + core::shown(account), 0);
  worker_.submit([this, hash = it->hash, current = std::move(current), next = std::move(next), account, source,
                  done = std::move(done), alive = std::weak_ptr<bool>(alive_)]() mutable {
    const bool ok = verify_password(hash, current);
    post_([this, ok, next = std::move(next), account, source, done = std::move(done), alive]() mutable {
      if (!alive.lock()) return;
      if (!ok) {
        failed(source, "wrong current password for '" + core::shown(account) + "'");
        return done("current: the current password is wrong", 0);
      }
      const auto a = std::find_if(config_.accounts.begin(), config_.accounts.end(),
                                  [&](const Account& x) { return x.name == account; });
      if (a == config_.accounts.end()) return done("no account " + core::shown(account), 0);
      set_user(account, a->role, std::move(next), [done = std::move(done)](std::string e) { done(std::move(e), 0); });
    });
  });
}

int Gate::blocked_for(const std::string& source) const {
  const auto it = failures_.find(source);
  const auto now = now_();
  if (it == failures_.end() || it->second.blocked_until <= now) return 0;
  return static_cast<int>(std::max<std::int64_t>(1, std::chrono::ceil<core::Seconds>(it->second.blocked_until - now).count()));
}

void Gate::create_first_admin(const std::string& source, const std::string& code, std::string name,
                              std::string password, std::function<void(std::string, int)> done) {
  if (setup_code_.empty()) return done("there is an admin account already: log in", 0);
  if (const int wait = blocked_for(source)) return done("too many failures", wait);
  // Typed by hand: case and dashes do not matter.
  std::string typed;
  for (unsigned char c : code) {
    if (c != '-' && c != ' ') typed += static_cast<char>(std::toupper(c));
  }
  std::string expected;
  for (char c : setup_code_) {
    if (c != '-') expected += c;
  }
  if (typed.size() != expected.size() || sodium_memcmp(typed.data(), expected.data(), typed.size()) != 0) {
    failed(source, "wrong setup code");
    return done("code: wrong setup code (it is in the journal: journalctl -u evsed | grep 'setup code')", 0);
  }
  if (auto why = name_problem(name)) return done("user: " + *why, 0);
  if (auto why = password_problem(password)) return done("password: " + *why, 0);
  const std::string code_in_use = std::exchange(setup_code_, {});  // once, even while the hash is made
  set_user(name, Role::Admin, std::move(password),
           [this, code_in_use, source, name, done = std::move(done), alive = std::weak_ptr<bool>(alive_)](std::string e) {
             if (!alive.lock()) return;
             if (!e.empty()) {
               if (!has_admin()) setup_code_ = code_in_use;  // not made: the code stays good
               return done(std::move(e), 0);
             }
             failures_.erase(source);
             log_->info("auth: first admin '{}' made from {} with the setup code", name, core::shown(source));
             done({}, 0);
           });
}

std::string Gate::remember_key(const std::string& user, const std::string& password) const {
  unsigned char d[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, remember_secret_.data(), remember_secret_.size(), sizeof d);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(user.data()), user.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&st, &zero, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(password.data()), password.size());
  crypto_generichash_final(&st, d, sizeof d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

void Gate::failed(const std::string& source, const std::string& what) {
  const auto now = now_();
  Failures& f = failures_[source];
  if (now - f.last > kFailureMemory) f.count = 0;
  ++f.count;
  f.last = now;
  if (f.count >= kFreeFailures) {
    const auto wait = std::min<std::int64_t>(kMaxLockout.count(), std::int64_t{1} << std::min(f.count - kFreeFailures, 20));
    f.blocked_until = now + core::Seconds{wait};
    log_->warn("auth: {} from {} ({} failures in a row): refused for {} s", what, core::shown(source), f.count, wait);
  } else {
    log_->warn("auth: {} from {} ({} failures in a row)", what, core::shown(source), f.count);
  }
}

int Gate::write_wait(const std::string& source) {
  // "open" is SmartEVSE's behaviour, limits included (none); trusted sources are this host or chosen.
  if (config_.mode == station::AccessMode::Open || config_.write_limit <= 0 || any_contains(config_.trusted, source)) {
    return 0;
  }
  const auto now = now_();
  const double limit = config_.write_limit;
  const double per_second = limit / 60.0;
  if (buckets_.size() > kMaxBuckets) {
    // Full buckets carry nothing: forget them.
    std::erase_if(buckets_, [&](const auto& b) {
      return b.second.left + std::chrono::duration<double>(now - b.second.at).count() * per_second >= limit;
    });
  }
  auto [it, fresh] = buckets_.try_emplace(source, Bucket{limit, now});
  Bucket& b = it->second;
  b.left = std::min(limit, b.left + std::chrono::duration<double>(now - b.at).count() * per_second);
  b.at = now;
  if (b.left >= 1.0) {
    b.left -= 1.0;
    b.warned = false;
    return 0;
  }
  if (!b.warned) {
    log_->warn("http: {} made more than {} changes in a minute: refused until it slows down", core::shown(source),
               config_.write_limit);
    b.warned = true;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.left) / per_second)));
}

void Gate::check(const station::Credentials& c, std::function<void(Verdict)> done) {
  if (any_contains(config_.trusted, c.source) && !c.user) return done({Role::Admin, "trusted " + c.source, false, 0, {}, {}});
  const auto now = now_();
  if (c.session && !c.user && !c.bearer) {
    const auto s = sessions_.find(*c.session);
    if (s != sessions_.end() && s->second.until > now) return done({s->second.role, s->second.user, false, 0, s->second.csrf, s->second.user});
    if (s != sessions_.end()) sessions_.erase(s);
    return done({});  // an old cookie is no failure: log in again
  }
  const bool given = c.bearer || c.user;
  if (!given) return done({});
  if (const int wait = blocked_for(c.source)) return done({Role::None, {}, true, wait, {}, {}});
  if (c.bearer) {
    const std::string digest = token_digest(*c.bearer);
    for (const auto& t : config_.tokens) {
      if (t.digest.size() == digest.size() && sodium_memcmp(t.digest.data(), digest.data(), digest.size()) == 0) {
        failures_.erase(c.source);
        return done({t.info.role, "token " + t.info.name, false, 0, {}, {}});
      }
    }
    failed(c.source, "unknown API token");
    return done({Role::None, {}, true, 0, {}, {}});
  }
  const std::string user = *c.user;
  const std::string password = c.password.value_or("");
  const std::string key = remember_key(user, password);
  if (auto it = remembered_.find(key); it != remembered_.end() && it->second.until > now) {
    failures_.erase(c.source);  // the right password from here: the count starts again
    return done({it->second.role, user, false, 0, {}, user});
  }
  if (pending_ >= kMaxPendingChecks) return done({Role::None, {}, true, 1, {}, {}});
  const auto account = std::find_if(config_.accounts.begin(), config_.accounts.end(),
                                    [&](const Account& a) { return a.name == user; });
  const std::string hash = account != config_.accounts.end() ? account->hash : std::string{};
  const Role role = account != config_.accounts.end() ? account->role : Role::None;
  ++pending_;
  worker_.submit([this, hash, password, role, user, key, source = c.source, done = std::move(done),
                  alive = std::weak_ptr<bool>(alive_)]() mutable {
    // Unknown names are checked against a dummy: no timing tells which names exist.
    bool ok = false;
    if (!hash.empty()) {
      ok = verify_password(hash, password);
    } else {
      (void)verify_password(dummy_hash_, password);
    }
    post_([this, ok, role, user, key, source, done = std::move(done), alive]() mutable {
      if (!alive.lock()) return;
      --pending_;
      if (!ok) {
        failed(source, "wrong name or password for '" + core::shown(user) + "'");
        return done({Role::None, {}, true, 0, {}, {}});
      }
      failures_.erase(source);
      remembered_[key] = {role, now_() + kVerifiedFor};
      done({role, user, false, 0, {}, user});
    });
  });
}

void Gate::log_in(const std::string& source, std::string user, std::string password,
                  std::function<void(std::optional<station::Login>, Verdict)> done) {
  check({source, user, std::move(password), {}, {}},
        [this, user, done = std::move(done), alive = std::weak_ptr<bool>(alive_)](Verdict v) {
          if (!alive.lock()) return;
          if (v.role == Role::None) return done(std::nullopt, std::move(v));
          const auto now = now_();
          std::erase_if(sessions_, [&](const auto& s) { return s.second.until <= now; });
          while (sessions_.size() >= kMaxLoginSessions) {
            auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                           [](const auto& a, const auto& b) { return a.second.until < b.second.until; });
            sessions_.erase(oldest);
          }
          station::Login l{random_token(), random_token(), v.role, user};
          sessions_[l.session] = {user, v.role, l.csrf, now + kLoginLifetime};
          log_->info("auth: {} logged in ({})", core::shown(user), station::to_string(v.role));
          v.csrf = l.csrf;
          done(std::move(l), std::move(v));
        });
}

void Gate::log_out(const std::string& session) { sessions_.erase(session); }

std::vector<station::TokenInfo> Gate::tokens() const {
  std::vector<station::TokenInfo> out;
  for (const auto& t : config_.tokens) out.push_back(t.info);
  return out;
}

void Gate::save_tokens(std::function<void(std::optional<std::string>)> done) {
  save_(File::Tokens, tokens_json(config_.tokens), std::move(done));
}

std::vector<station::UserInfo> Gate::users() const {
  std::vector<station::UserInfo> out;
  for (const auto& a : config_.accounts) out.push_back({a.name, a.role});
  return out;
}

bool Gate::last_admin(const std::string& name) const {
  const auto admins = std::count_if(config_.accounts.begin(), config_.accounts.end(),
                                    [](const Account& a) { return a.role == Role::Admin; });
  return admins == 1 && std::any_of(config_.accounts.begin(), config_.accounts.end(), [&](const Account& a) {
           return a.name == name && a.role == Role::Admin;
         });
}

void Gate::save_accounts(std::vector<Account> next, const std::string& changed, std::function<void(std::string)> done) {
  std::string content = accounts_json(next);
  save_(File::Users, std::move(content),
        [this, next = std::move(next), changed, done = std::move(done),
         alive = std::weak_ptr<bool>(alive_)](std::optional<std::string> e) mutable {
          if (!alive.lock()) return;
          if (e) return done("cannot save the accounts: " + *e);
          config_.accounts = std::move(next);
          offer_setup_code();   // an admin now: no code is good any more
          remembered_.clear();  // the old password must not be remembered as good
          std::erase_if(sessions_, [&](const auto& s) { return s.second.user == changed; });
          done({});
        });
}

void Gate::set_user(std::string name, Role role, std::optional<std::string> password,
                    std::function<void(std::string)> done) {
  if (auto why = name_problem(name)) return done("name: " + *why);
  if (role == Role::None) return done("role: viewer or admin");
  const bool exists = std::any_of(config_.accounts.begin(), config_.accounts.end(),
                                  [&](const Account& a) { return a.name == name; });
  if (!exists && !password) return done("password: a new account needs one");
  if (password) {
    if (auto why = password_problem(*password)) return done("password: " + *why);
  }
  if (role != Role::Admin && last_admin(name)) {
    return done("role: " + name + " is the last admin; make another admin first");
  }
  const bool hashing = password.has_value();
  auto apply = [this, name, role, hashing, done = std::move(done)](std::optional<std::string> hash) mutable {
    if (hashing && !hash) return done("password: cannot hash it (out of memory)");
    std::vector<Account> next = config_.accounts;  // as it is now, not as it was when the hash started
    auto it = std::find_if(next.begin(), next.end(), [&](const Account& a) { return a.name == name; });
    if (it == next.end()) {
      if (!hash) return done("name: no account " + name + " (it was just removed)");
      next.push_back({name, role, *hash});
    } else {
      it->role = role;
      if (hash) it->hash = *hash;
    }
    save_accounts(std::move(next), name, [this, name, role, done = std::move(done)](std::string e) {
      if (e.empty()) log_->info("auth: account '{}' ({}) saved", name, station::to_string(role));
      done(std::move(e));
    });
  };
  if (!password) return apply(std::nullopt);
  // Argon2id is slow on purpose: off the loop, like every check.
  worker_.submit([this, password = std::move(*password), apply = std::move(apply),
                  alive = std::weak_ptr<bool>(alive_)]() mutable {
    auto hash = hash_password(password);
    post_([hash = std::move(hash), apply = std::move(apply), alive]() mutable {
      if (alive.lock()) apply(std::move(hash));
    });
  });
}

void Gate::delete_user(const std::string& name, std::function<void(bool, std::string)> done) {
  std::vector<Account> next = config_.accounts;
  const auto removed = std::erase_if(next, [&](const Account& a) { return a.name == name; });
  if (removed == 0) return done(false, "no account " + core::shown(name));
  if (last_admin(name)) return done(true, "the last admin cannot be removed; make another admin first");
  save_accounts(std::move(next), name, [this, name, done = std::move(done)](std::string e) {
    if (e.empty()) log_->info("auth: account '{}' removed", name);
    done(true, std::move(e));
  });
}

void Gate::create_token(std::string name, Role role,
                        std::function<void(std::optional<station::NewToken>, std::string)> done) {
  if (auto why = name_problem(name)) return done(std::nullopt, "name: " + *why);
  if (role == Role::None) return done(std::nullopt, "role: viewer or admin");
  station::NewToken t{{random_id(), std::move(name), role, epoch_()}, random_token()};
  config_.tokens.push_back({t.info, token_digest(t.secret)});
  save_tokens([this, t, done = std::move(done), alive = std::weak_ptr<bool>(alive_)](std::optional<std::string> e) {
    if (!alive.lock()) return;
    if (e) {
      // Not on disk: not given out.
      std::erase_if(config_.tokens, [&](const StoredToken& s) { return s.info.id == t.info.id; });
      return done(std::nullopt, "cannot save the token: " + *e);
    }
    log_->info("auth: token '{}' ({}) created", t.info.name, station::to_string(t.info.role));
    done(t, {});
  });
}

void Gate::revoke_token(const std::string& id, std::function<void(bool, std::string)> done) {
  const auto it = std::find_if(config_.tokens.begin(), config_.tokens.end(),
                               [&](const StoredToken& t) { return t.info.id == id; });
  if (it == config_.tokens.end()) return done(false, "no token " + core::shown(id));
  const std::string name = it->info.name;
  config_.tokens.erase(it);  // refused from this moment on
  save_tokens([this, name, done = std::move(done), alive = std::weak_ptr<bool>(alive_)](std::optional<std::string> e) {
    if (!alive.lock()) return;
    if (e) return done(true, "revoked, but not yet on disk: " + *e);
    log_->info("auth: token '{}' revoked", name);
    done(true, {});
  });
}

}  // namespace evsed::auth
