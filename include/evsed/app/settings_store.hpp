#pragma once
// Run-time settings (mode, access, solar, capacity, delayed charging, EnableC2,
// current_min) kept as JSON in the state directory. Loading is per value: one
// that is invalid (a later configuration made it so, or the file was edited)
// is dropped with its reason and the configuration's value used; the rest is
// kept. A file that is not JSON at all is kept as settings.json.bad.

#include <optional>
#include <string>
#include <vector>

#include "evsed/core/settings.hpp"

namespace evsed::app {

class SettingsStore {
 public:
  explicit SettingsStore(std::string state_dir);

  struct Loaded {
    core::Settings settings;
    std::vector<std::string> dropped;    // "key = value dropped: reason", one per value not used
    std::optional<std::string> problem;  // why the whole file was not used, if it was not
    bool found = false;
  };

  // Run-time values from the file applied over `base` (the configuration).
  // With `set_aside` false (checking only), a bad file is reported but not moved.
  [[nodiscard]] Loaded load(const core::Settings& base, bool set_aside = true) const;

  [[nodiscard]] const std::string& path() const { return path_; }

  // The JSON form written to the file.
  [[nodiscard]] static std::string to_json(const core::Settings& s);
  // Applies a JSON document over `base`, value by value.
  [[nodiscard]] static Loaded from_json(const std::string& text, const core::Settings& base);

 private:
  std::string path_;
};

// The whole of a regular file of at most `max_bytes`, or empty when it does not
// exist; `error` says why it could not be read otherwise (a directory, a FIFO,
// a device, too large, unreadable).
std::optional<std::string> read_regular_file(const std::string& path, std::size_t max_bytes, std::string& error);
// Keeps an invalid state file as <path>.bad; returns what to log.
std::string set_aside(const std::string& path, const std::string& problem);

}  // namespace evsed::app
