#include "evsed/app/passwd.hpp"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "evsed/app/file_writer.hpp"
#include "evsed/auth/accounts.hpp"

namespace evsed::app {

namespace {

std::string read_secret(const std::string& prompt, bool tty) {
  std::string line;
  if (!tty) {
    std::getline(std::cin, line);
    return line;
  }
  std::cerr << prompt << std::flush;
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::cerr << "\n";
  return line;
}

}  // namespace

int run_passwd(int argc, const char* const* argv) {
  std::string user;
  std::string state_dir = "/var/lib/evsed";
  station::Role role = station::Role::Admin;
  bool remove = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--role") {
      const auto r = station::role_from(value());
      if (!r) {
        std::cerr << "evsed passwd: --role is admin or viewer\n";
        return 2;
      }
      role = *r;
    } else if (arg == "--state-dir") {
      state_dir = value();
    } else if (arg == "--delete") {
      remove = true;
    } else if (user.empty() && !arg.starts_with("-")) {
      user = arg;
    } else {
      std::cerr << "usage: evsed passwd USER [--role admin|viewer] [--delete] [--state-dir DIR]\n";
      return 2;
    }
  }
  if (auto why = auth::name_problem(user)) {
    std::cerr << "evsed passwd: " << (user.empty() ? "which user? " : "") << *why << "\n";
    return 2;
  }
  if (!auth::crypto_ready()) {
    std::cerr << "evsed passwd: libsodium cannot start\n";
    return 1;
  }
  const std::string path = state_dir + "/users.json";
  std::vector<auth::Account> accounts;
  if (std::ifstream in{path}) {
    auto parsed = auth::parse_accounts(std::string{std::istreambuf_iterator<char>(in), {}});
    if (auto* e = std::get_if<std::string>(&parsed)) {
      std::cerr << "evsed passwd: " << path << ": " << *e << "; not changed\n";
      return 1;
    }
    accounts = std::get<std::vector<auth::Account>>(std::move(parsed));
  }
  auto it = std::find_if(accounts.begin(), accounts.end(), [&](const auto& a) { return a.name == user; });
  if (remove) {
    if (it == accounts.end()) {
      std::cerr << "evsed passwd: no user " << user << "\n";
      return 1;
    }
    accounts.erase(it);
  } else {
    const bool tty = isatty(STDIN_FILENO) != 0;
    const std::string password = read_secret("New password for " + user + ": ", tty);
    if (auto why = auth::password_problem(password)) {
      std::cerr << "evsed passwd: " << *why << "; not changed\n";
      return 1;
    }
    if (tty && read_secret("Again: ", tty) != password) {
      std::cerr << "evsed passwd: the two did not match; not changed\n";
      return 1;
    }
    const auto hash = auth::hash_password(password);
    if (!hash) {
      std::cerr << "evsed passwd: hashing failed (out of memory?)\n";
      return 1;
    }
    if (it == accounts.end()) {
      accounts.push_back({user, role, *hash});
    } else {
      it->hash = *hash;
      it->role = role;
    }
  }
  if (auto e = write_file_atomically(path, auth::accounts_json(accounts), FileSecrecy::Secret)) {
    std::cerr << "evsed passwd: " << *e << "\n";
    return 1;
  }
  // Run as root for the service: the file belongs to whoever owns the state directory.
  struct stat st {};
  if (geteuid() == 0 && ::stat(state_dir.c_str(), &st) == 0 && ::chown(path.c_str(), st.st_uid, st.st_gid) != 0) {
    std::cerr << "evsed passwd: cannot give " << path << " to the service's user\n";
    return 1;
  }
  std::cout << (remove ? "removed " : "saved ") << user << (remove ? "" : std::string{" ("} + std::string{station::to_string(role)} + ")")
            << " in " << path << "; `systemctl reload evsed` puts it in force\n";
  return 0;
}

}  // namespace evsed::app
