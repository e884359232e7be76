#pragma once
// `evsed passwd USER [--role admin|viewer] [--delete] [--state-dir DIR]`: sets
// an account's password (read from the terminal twice, or one line on stdin)
// in <state dir>/users.json, hashed with Argon2id, written atomically, 0600 and
// owned like the state directory. The daemon takes it on `systemctl reload`.

namespace evsed::app {

// Returns the exit status (0; 2 bad usage; 1 failure).
int run_passwd(int argc, const char* const* argv);

}  // namespace evsed::app
