#pragma once
// Run-time settings (mode, access, solar, capacity, delayed charging, EnableC2,
// current_min) persisted as JSON in the state directory. Written atomically
// (temp file, fsync, rename, fsync of the directory); validated on load as a
// whole: a bad file is kept as settings.json.bad and defaults are used.

#include <optional>
#include <string>

#include "evsed/core/settings.hpp"

namespace evsed::app {

class SettingsStore {
 public:
  explicit SettingsStore(std::string state_dir);

  struct Loaded {
    core::Settings settings;
    std::optional<std::string> problem;  // why the file was not used, if it was not
    bool found = false;
  };

  // Run-time values from the file applied over `base` (the configuration).
  [[nodiscard]] Loaded load(const core::Settings& base) const;
  // Empty on success, else what failed.
  [[nodiscard]] std::optional<std::string> save(const core::Settings& s) const;
  // Removes the file: run-time settings back to the configuration's.
  [[nodiscard]] std::optional<std::string> erase() const;

  [[nodiscard]] const std::string& path() const { return path_; }

  // The JSON form, for tests and for `save`.
  [[nodiscard]] static std::string to_json(const core::Settings& s);
  // Applies a JSON document over `base`; empty settings and a reason when invalid.
  [[nodiscard]] static std::optional<core::Settings> from_json(const std::string& text, const core::Settings& base,
                                                               std::string& problem);

 private:
  std::string dir_;
  std::string path_;
};

// Writes `content` to `path` atomically; empty on success.
std::optional<std::string> write_file_atomically(const std::string& path, const std::string& content);
// The whole file, or empty when it does not exist or cannot be read.
std::optional<std::string> read_file(const std::string& path);
// Keeps an invalid state file as <path>.bad; returns what to log.
std::string set_aside(const std::string& path, const std::string& problem);

}  // namespace evsed::app
