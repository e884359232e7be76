// Access: the policy table, the Authorization header, source networks, the
// accounts and tokens files, the Gate's verdicts (with a loop the test runs),
// and the diagnostics download's copy of the configuration.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>

#include "evsed/app/diagnostics.hpp"
#include "evsed/auth/gate.hpp"
#include "evsed/http/auth_header.hpp"

namespace evsed {
namespace {

using station::AccessMode;
using station::Role;

TEST(AccessPolicy, WhoMayDoWhat) {
  EXPECT_EQ(station::required_role(AccessMode::Open, true, "/settings"), Role::None);
  EXPECT_EQ(station::required_role(AccessMode::Writes, false, "/settings"), Role::None);
  EXPECT_EQ(station::required_role(AccessMode::Writes, true, "/settings"), Role::Admin);
  EXPECT_EQ(station::required_role(AccessMode::Writes, false, "/tokens"), Role::Admin);
  EXPECT_EQ(station::required_role(AccessMode::Writes, false, "/users"), Role::Admin);
  EXPECT_EQ(station::required_role(AccessMode::Writes, false, "/diagnostics"), Role::Admin);
  EXPECT_EQ(station::required_role(AccessMode::All, false, "/"), Role::Viewer);
  EXPECT_EQ(station::required_role(AccessMode::All, true, "/reboot"), Role::Admin);
  for (const auto& m : station::kAccessModes) EXPECT_EQ(station::access_mode_from(m.name), m.mode);
  EXPECT_FALSE(station::access_mode_from("none"));
}

TEST(AuthorizationHeader, BasicAndBearerStrictly) {
  auto a = http::parse_authorization("Basic YWRtaW46cGE6c3M=");  // admin:pa:ss
  EXPECT_EQ(a.user, "admin");
  EXPECT_EQ(a.password, "pa:ss");
  EXPECT_FALSE(a.problem);
  a = http::parse_authorization("bearer evsed_abc");
  EXPECT_EQ(a.bearer, "evsed_abc");
  for (const char* bad : {"Basic", "Basic !!!!", "Basic YWRtaW4=", "Bearer", "Bearer a b", "Digest x", "Basic YQ==YQ=="}) {
    EXPECT_TRUE(http::parse_authorization(bad).problem) << bad;
  }
  EXPECT_FALSE(http::parse_authorization("").problem);
  EXPECT_EQ(http::base64_decode("aGk="), "hi");
  EXPECT_FALSE(http::base64_decode("aGk"));
}

TEST(Networks, PrefixesAndMappedAddresses) {
  std::string e;
  auto lo = auth::parse_network("127.0.0.0/8", e);
  ASSERT_TRUE(lo);
  EXPECT_TRUE(auth::contains(*lo, "127.3.2.1"));
  EXPECT_TRUE(auth::contains(*lo, "::ffff:127.0.0.1"));
  EXPECT_FALSE(auth::contains(*lo, "128.0.0.1"));
  auto lan = auth::parse_network("192.168.1.0/24", e);
  EXPECT_TRUE(auth::contains(*lan, "192.168.1.200"));
  EXPECT_FALSE(auth::contains(*lan, "192.168.2.1"));
  auto one = auth::parse_network("::1", e);
  EXPECT_TRUE(auth::contains(*one, "::1"));
  EXPECT_FALSE(auth::contains(*one, "::2"));
  EXPECT_TRUE(auth::contains(*auth::parse_network("0.0.0.0/0", e), "8.8.8.8"));
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "host.example", "", "10.0.0.256"}) {
    EXPECT_FALSE(auth::parse_network(bad, e)) << bad;
  }
  EXPECT_FALSE(auth::contains(*lo, "not an address"));
}

TEST(AccountsFile, RoundTripAndRefusals) {
  ASSERT_TRUE(auth::crypto_ready());
  const auto hash = auth::hash_password("long enough");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(auth::verify_password(*hash, "long enough"));
  EXPECT_FALSE(auth::verify_password(*hash, "long enougH"));
  std::vector<auth::Account> accounts{{"admin", Role::Admin, *hash}, {"tv", Role::Viewer, *hash}};
  auto back = auth::parse_accounts(auth::accounts_json(accounts));
  ASSERT_TRUE(std::holds_alternative<std::vector<auth::Account>>(back));
  EXPECT_EQ(std::get<std::vector<auth::Account>>(back), accounts);
  for (const char* bad : {"", "[]", "{\"users\": 1}", "{\"users\": [{\"name\": \"a\"}]}",
                          "{\"users\": [{\"name\": \"a\", \"role\": \"root\", \"hash\": \"$argon2id$x\"}]}",
                          "{\"users\": [{\"name\": \"a b\", \"role\": \"admin\", \"hash\": \"$argon2id$x\"}]}",
                          "{\"users\": [{\"name\": \"a\", \"role\": \"admin\", \"hash\": \"plain\"}]}"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(auth::parse_accounts(bad))) << bad;
  }
  EXPECT_TRUE(auth::password_problem("short"));
  EXPECT_TRUE(auth::password_problem(std::string("ok\npassword")));
  EXPECT_FALSE(auth::password_problem("a fine passphrase"));
  const std::string t = auth::random_token();
  EXPECT_TRUE(t.starts_with("evsed_"));
  EXPECT_EQ(t.size(), 6U + 43U);
  EXPECT_NE(t, auth::random_token());
  EXPECT_EQ(auth::token_digest(t).size(), 64U);
}

// The Gate with a loop the test turns: posts queue until run() takes them.
struct GateRig {
  explicit GateRig(bool with_admin = true) {
    auth::GateConfig c;
    std::string e;
    c.trusted.push_back(*auth::parse_network("10.1.0.0/16", e));
    if (with_admin) c.accounts.push_back({"admin", Role::Admin, *auth::hash_password("the admin password")});
    c.accounts.push_back({"tv", Role::Viewer, *auth::hash_password("the viewer password")});
    gate.emplace(
        std::move(c),
        [this](std::function<void()> f) {
          std::lock_guard l(m);
          posted.push_back(std::move(f));
        },
        [this](auth::Gate::File file, std::string content, std::function<void(std::optional<std::string>)> done) {
          (file == auth::Gate::File::Users ? saved_users : saved) = std::move(content);
          done(save_error);
        },
        [this] { return now; }, [] { return std::int64_t{1'800'000'000}; },
        std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  }
  // What a request carried: source, Basic name and password, bearer token.
  struct Ask {
    std::string source;
    std::optional<std::string> user, password, bearer;
  };
  station::Verdict check(Ask a) {
    std::optional<station::Verdict> v;
    gate->check({a.source, a.user, a.password, a.bearer, {}}, [&](station::Verdict r) { v = std::move(r); });
    for (int i = 0; i < 500 && !v; ++i) {
      std::deque<std::function<void()>> run;
      {
        std::lock_guard l(m);
        run.swap(posted);
      }
      for (auto& f : run) f();
      if (!v) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return v.value_or(station::Verdict{Role::None, "no answer", true, 0, {}, {}});
  }
  std::mutex m;
  std::deque<std::function<void()>> posted;
  core::TimePoint now{std::chrono::hours{1}};
  // Runs what the worker posted back until `done()` holds.
  template <class Done>
  void turn_until(Done done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      std::deque<std::function<void()>> run;
      {
        std::lock_guard l(m);
        run.swap(posted);
      }
      for (auto& f : run) f();
      if (!done()) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }
  std::string set_user(std::string name, Role role, std::optional<std::string> password) {
    std::optional<std::string> e;
    gate->set_user(std::move(name), role, std::move(password), [&](std::string x) { e = std::move(x); });
    turn_until([&] { return e.has_value(); });
    return e.value_or("no answer");
  }
  std::string first_admin(const std::string& code, std::string name = "first", std::string pw = "first admin pw") {
    std::optional<std::string> e;
    gate->create_first_admin("192.0.2.9", code, std::move(name), std::move(pw),
                             [&](std::string x, int wait) { e = wait > 0 ? "wait" : std::move(x); });
    turn_until([&] { return e.has_value(); });
    return e.value_or("no answer");
  }
  std::ostringstream log;
  std::string saved;
  std::string saved_users;
  std::optional<std::string> save_error;
  std::optional<auth::Gate> gate;
};

TEST(Gate, RolesFromNetworksPasswordsAndTokens) {
  GateRig r;
  EXPECT_EQ(r.check({"10.1.2.3", {}, {}, {}}).role, Role::Admin);
  EXPECT_EQ(r.check({"192.0.2.9", {}, {}, {}}).role, Role::None);
  EXPECT_FALSE(r.check({"192.0.2.9", {}, {}, {}}).refused);
  EXPECT_EQ(r.check({"192.0.2.9", "admin", "the admin password", {}}).role, Role::Admin);
  EXPECT_EQ(r.check({"192.0.2.9", "tv", "the viewer password", {}}).role, Role::Viewer);
  const auto wrong = r.check({"192.0.2.9", "admin", "nope nope", {}});
  EXPECT_EQ(wrong.role, Role::None);
  EXPECT_TRUE(wrong.refused);
  EXPECT_TRUE(r.check({"192.0.2.9", "ghost", "whatever it is", {}}).refused);

  std::optional<station::NewToken> made;
  r.gate->create_token("evcc", Role::Admin, [&](std::optional<station::NewToken> t, std::string) { made = t; });
  ASSERT_TRUE(made);
  EXPECT_EQ(r.saved.find(made->secret), std::string::npos) << "the file has the digest only";
  EXPECT_EQ(r.check({"192.0.2.9", {}, {}, made->secret}).role, Role::Admin);
  bool revoked = false;
  r.gate->revoke_token(made->info.id, [&](bool ok, std::string) { revoked = ok; });
  EXPECT_TRUE(revoked);
  EXPECT_EQ(r.check({"192.0.2.9", {}, {}, made->secret}).role, Role::None);

  r.save_error = "disk full";
  std::string why;
  r.gate->create_token("ha", Role::Viewer, [&](std::optional<station::NewToken> t, std::string w) {
    made = t;
    why = w;
  });
  EXPECT_FALSE(made) << "a token not on disk is not handed out";
  EXPECT_NE(why.find("disk full"), std::string::npos);
  EXPECT_TRUE(r.gate->tokens().empty());
}

TEST(Gate, ALoginSessionNeedsItsCsrfTokenAndEndsAtLogout) {
  GateRig r;
  std::optional<station::Login> login;
  station::Verdict v;
  r.gate->log_in("192.0.2.9", "admin", "the admin password", [&](std::optional<station::Login> l, station::Verdict x) {
    login = std::move(l);
    v = std::move(x);
  });
  for (int i = 0; i < 500 && !login && v.role == Role::None; ++i) {
    std::deque<std::function<void()>> run;
    {
      std::lock_guard l(r.m);
      run.swap(r.posted);
    }
    for (auto& f : run) f();
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  ASSERT_TRUE(login);
  EXPECT_EQ(login->role, Role::Admin);
  EXPECT_NE(login->session, login->csrf);
  std::optional<station::Verdict> by_cookie;
  r.gate->check({"192.0.2.9", {}, {}, {}, login->session}, [&](station::Verdict x) { by_cookie = x; });
  ASSERT_TRUE(by_cookie);
  EXPECT_EQ(by_cookie->role, Role::Admin);
  EXPECT_EQ(by_cookie->csrf, login->csrf) << "the HTTP side compares it with X-CSRF-Token";
  r.gate->log_out(login->session);
  r.gate->check({"192.0.2.9", {}, {}, {}, login->session}, [&](station::Verdict x) { by_cookie = x; });
  EXPECT_EQ(by_cookie->role, Role::None);
  EXPECT_FALSE(by_cookie->refused) << "an old cookie is no failed login";
}

TEST(Gate, FailuresFromOneAddressMakeItWait) {
  GateRig r;
  for (int i = 0; i < auth::kFreeFailures; ++i) {
    EXPECT_EQ(r.check({"192.0.2.7", {}, {}, "evsed_wrong"}).retry_after_s, 0) << i;
  }
  const auto blocked = r.check({"192.0.2.7", "admin", "the admin password", {}});
  EXPECT_EQ(blocked.role, Role::None) << "even the right password waits";
  EXPECT_EQ(blocked.retry_after_s, 1);
  EXPECT_EQ(r.check({"192.0.2.8", "admin", "the admin password", {}}).role, Role::Admin) << "another address is not held";
  r.now += std::chrono::seconds{2};
  (void)r.check({"192.0.2.7", {}, {}, "evsed_wrong"});
  EXPECT_EQ(r.check({"192.0.2.7", {}, {}, "evsed_wrong"}).retry_after_s, 2) << "the wait doubles";
}

TEST(Gate, AccountsAreAddedChangedAndRemovedOnDiskFirst) {
  GateRig r;
  EXPECT_EQ(r.set_user("bob", Role::Viewer, "bob's password"), "");
  EXPECT_NE(r.saved_users.find("\"bob\""), std::string::npos);
  EXPECT_EQ(r.saved_users.find("bob's password"), std::string::npos) << "a hash only";
  EXPECT_EQ(r.check({"192.0.2.9", "bob", "bob's password", {}}).role, Role::Viewer);
  EXPECT_EQ(r.set_user("bob", Role::Admin, std::nullopt), "") << "the role alone";
  EXPECT_EQ(r.check({"192.0.2.9", "bob", "bob's password", {}}).role, Role::Admin);
  EXPECT_EQ(r.set_user("bob", Role::Admin, "a new password"), "");
  EXPECT_EQ(r.check({"192.0.2.9", "bob", "bob's password", {}}).role, Role::None) << "the old one is not remembered";
  EXPECT_EQ(r.check({"192.0.2.9", "bob", "a new password", {}}).role, Role::Admin);

  // Refusals change nothing.
  const auto before = r.gate->users();
  EXPECT_NE(r.set_user("carol", Role::Viewer, std::nullopt).find("needs one"), std::string::npos);
  EXPECT_NE(r.set_user("carol", Role::Viewer, "short").find("at least"), std::string::npos);
  EXPECT_NE(r.set_user("bad name", Role::Viewer, "long enough pw").find("name"), std::string::npos);
  EXPECT_NE(r.set_user("carol", Role::None, "long enough pw").find("role"), std::string::npos);
  r.save_error = "disk full";
  EXPECT_NE(r.set_user("carol", Role::Viewer, "long enough pw").find("disk full"), std::string::npos);
  EXPECT_EQ(r.check({"192.0.2.9", "carol", "long enough pw", {}}).role, Role::None) << "not on disk: not in force";
  std::optional<bool> found;
  std::string why;
  r.gate->delete_user("bob", [&](bool f, std::string e) {
    found = f;
    why = std::move(e);
  });
  EXPECT_TRUE(found.value_or(false));
  EXPECT_NE(why.find("disk full"), std::string::npos);
  EXPECT_EQ(r.gate->users().size(), before.size()) << "not removed when it cannot be saved";
  r.save_error.reset();

  r.gate->delete_user("bob", [&](bool f, std::string e) {
    found = f;
    why = std::move(e);
  });
  EXPECT_EQ(why, "");
  EXPECT_EQ(r.check({"192.0.2.9", "bob", "a new password", {}}).role, Role::None);
  r.gate->delete_user("bob", [&](bool f, std::string) { found = f; });
  EXPECT_FALSE(*found);
}

TEST(Gate, ChangesPerAddressAreLimited) {
  GateRig r;
  std::string scratch;
  r.gate->reconfigure(station::AccessMode::Writes, {*auth::parse_network("10.1.0.0/16", scratch)},
                      {}, 6);  // 6 a minute: one every 10 s, 6 at once
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.gate->write_wait("192.0.2.9"), 0) << i;
  EXPECT_EQ(r.gate->write_wait("192.0.2.9"), 10) << "the next one in 10 s";
  EXPECT_EQ(r.gate->write_wait("192.0.2.10"), 0) << "another address has its own";
  r.now += std::chrono::seconds{10};
  EXPECT_EQ(r.gate->write_wait("192.0.2.9"), 0);
  EXPECT_GT(r.gate->write_wait("192.0.2.9"), 0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.gate->write_wait("10.1.2.3"), 0) << "trusted: not counted";
  r.gate->reconfigure(station::AccessMode::Open, {}, {}, 6);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.gate->write_wait("192.0.2.9"), 0) << "open: SmartEVSE's behaviour";
  r.gate->reconfigure(station::AccessMode::Writes, {}, {}, 0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.gate->write_wait("192.0.2.9"), 0) << "0: no limit";
}

TEST(Gate, TheFirstAdminComesWithTheLoggedCodeOnce) {
  GateRig r(/*with_admin=*/false);
  ASSERT_TRUE(r.gate->awaiting_first_admin());
  const std::string text = r.log.str();
  const auto at = text.find(auth::kSetupCodeLabel);
  ASSERT_NE(at, std::string::npos) << text;
  const std::string code = text.substr(at + auth::kSetupCodeLabel.size(), auth::kSetupCodeLength);
  EXPECT_EQ(code.size(), 14U);
  EXPECT_EQ(code[4], '-');

  EXPECT_NE(r.first_admin("AAAA-AAAA-AAAA").find("wrong setup code"), std::string::npos);
  EXPECT_NE(r.first_admin(code, "bad name").find("user:"), std::string::npos) << "checked before the code is used";
  EXPECT_NE(r.first_admin(code, "first", "short").find("password:"), std::string::npos);
  EXPECT_TRUE(r.gate->awaiting_first_admin());
  std::string lower = code;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(r.first_admin(lower), "") << "typed in lower case: still the code";
  EXPECT_FALSE(r.gate->awaiting_first_admin());
  EXPECT_EQ(r.check({"192.0.2.9", "first", "first admin pw", {}}).role, Role::Admin);
  EXPECT_NE(r.first_admin(code, "second").find("admin account already"), std::string::npos) << "once";
  EXPECT_EQ(r.gate->users().size(), 2U);
}

TEST(Gate, WrongSetupCodesAreThrottled) {
  GateRig r(false);
  for (int i = 0; i < auth::kFreeFailures; ++i) EXPECT_NE(r.first_admin("WRNG-CODE-XXXX"), "wait") << i;
  EXPECT_EQ(r.first_admin("WRNG-CODE-XXXX"), "wait");
}

TEST(Gate, AnAccountChangesItsOwnPassword) {
  GateRig r;
  auto change = [&](std::string account, std::string current, std::string next) {
    std::optional<std::string> e;
    r.gate->change_own_password("192.0.2.9", account, std::move(current), std::move(next),
                                [&](std::string x, int wait) { e = wait > 0 ? "wait" : std::move(x); });
    r.turn_until([&] { return e.has_value(); });
    return e.value_or("no answer");
  };
  EXPECT_NE(change("tv", "not it at all", "a new viewer pw").find("current:"), std::string::npos);
  EXPECT_NE(change("tv", "the viewer password", "short").find("password:"), std::string::npos);
  EXPECT_NE(change("", "the viewer password", "a new viewer pw").find("own account"), std::string::npos);
  EXPECT_EQ(r.check({"192.0.2.9", "tv", "the viewer password", {}}).role, Role::Viewer) << "unchanged so far";
  EXPECT_EQ(change("tv", "the viewer password", "a new viewer pw"), "");
  EXPECT_EQ(r.check({"192.0.2.9", "tv", "the viewer password", {}}).role, Role::None);
  EXPECT_EQ(r.check({"192.0.2.9", "tv", "a new viewer pw", {}}).role, Role::Viewer) << "and still a viewer";
}

TEST(Gate, TheLastAdminStays) {
  GateRig r;
  EXPECT_NE(r.set_user("admin", Role::Viewer, std::nullopt).find("last admin"), std::string::npos);
  std::string why;
  r.gate->delete_user("admin", [&](bool, std::string e) { why = std::move(e); });
  EXPECT_NE(why.find("last admin"), std::string::npos);
  EXPECT_EQ(r.check({"192.0.2.9", "admin", "the admin password", {}}).role, Role::Admin);
  EXPECT_EQ(r.set_user("second", Role::Admin, "another admin pw"), "");
  r.gate->delete_user("admin", [&](bool, std::string e) { why = std::move(e); });
  EXPECT_EQ(why, "") << "with another admin it may go";
}

TEST(Gate, ChangingAnAccountEndsItsLogins) {
  GateRig r;
  std::optional<station::Login> login;
  r.gate->log_in("192.0.2.9", "tv", "the viewer password",
                 [&](std::optional<station::Login> l, station::Verdict) { login = std::move(l); });
  r.turn_until([&] { return login.has_value(); });
  ASSERT_TRUE(login);
  EXPECT_EQ(r.set_user("tv", Role::Viewer, "changed password"), "");
  std::optional<station::Verdict> v;
  r.gate->check({"192.0.2.9", {}, {}, {}, login->session}, [&](station::Verdict x) { v = x; });
  EXPECT_EQ(v->role, Role::None);
}

}  // namespace
}  // namespace evsed

// The diagnostics download's configuration copy: secrets as "(set)", paths and the rest as written.
namespace evsed {
namespace {
TEST(DiagnosticsConfig, SecretsAreReplaced) {
  EXPECT_TRUE(app::secret_key("password"));
  EXPECT_TRUE(app::secret_key("client_key_passphrase"));
  EXPECT_FALSE(app::secret_key("password_file")) << "a path, not a secret";
  EXPECT_FALSE(app::secret_key("tls_key"));
  const std::string path = ::testing::TempDir() + "/evsed-diag.toml";
  {
    std::ofstream f(path);
    f << "[mqtt]\nhost = \"broker\"\npassword = \"hunter22hunter\"\npassword_file = \"/etc/evsed/mqtt\"\n"
         "[http]\ntrusted_networks = [\"10.0.0.0/8\"]\n";
  }
  const auto j = nlohmann::json::parse(app::redacted_config_json(path));
  EXPECT_EQ(j["mqtt"]["password"], "(set)");
  EXPECT_EQ(j["mqtt"]["host"], "broker");
  EXPECT_EQ(j["mqtt"]["password_file"], "/etc/evsed/mqtt");
  EXPECT_EQ(j["http"]["trusted_networks"][0], "10.0.0.0/8");
  EXPECT_EQ(app::redacted_config_json(path).find("hunter22"), std::string::npos);
  {
    std::ofstream f(path);
    f << "[mqtt\n";
  }
  EXPECT_TRUE(nlohmann::json::parse(app::redacted_config_json(path)).contains("error"));
  std::remove(path.c_str());
}

TEST(DiagnosticsLog, TheSetupCodeIsHidden) {
  EXPECT_EQ(app::without_setup_code("auth: ... visitor for setup code ABCD-EFGH-JKMN (or run ...)"),
            "auth: ... visitor for setup code (hidden) (or run ...)");
  EXPECT_EQ(app::without_setup_code("nothing here"), "nothing here");
  EXPECT_EQ(app::without_setup_code("setup code AB"), "setup code (hidden)");
}
}  // namespace
}  // namespace evsed
