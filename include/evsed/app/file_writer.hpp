#pragma once
// State files are written off the event loop: one thread takes jobs in the
// order they were given, writes each atomically (a fresh temporary file that
// follows no link, fsync, rename, fsync of the directory) and posts the outcome
// back to the loop. The loop never waits on a disk.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "evsed/worker/job_thread.hpp"

namespace evsed::app {

enum class FileSecrecy : std::uint8_t {
  Plain,   // 0644
  Secret,  // 0600: passwords, keys
};

struct FileOp {
  enum class Kind : std::uint8_t { Write, Remove } kind = Kind::Write;
  std::string path;
  std::string content;
  FileSecrecy secrecy = FileSecrecy::Plain;
};

// Where the Station's files go: jobs of operations, run in order, each
// completion delivered on the event loop.
class StateFiles {
 public:
  // Empty on success, else what failed (the first failing operation).
  using Done = std::function<void(std::optional<std::string>)>;
  virtual ~StateFiles() = default;
  // The operations run in order; the job stops at the first failure.
  virtual void submit(std::vector<FileOp> ops, Done done) = 0;
  // Blocks until every job given so far has run (shutdown, tests); their
  // completions are still posted.
  virtual void drain() = 0;
};

class FileWriter final : public StateFiles {
 public:
  // Runs a completion on the event loop.
  using Post = std::function<void(std::function<void()>)>;

  explicit FileWriter(Post post);
  ~FileWriter() override;  // finishes what is queued
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void submit(std::vector<FileOp> ops, Done done) override;
  void drain() override;

 private:
  Post post_;
  worker::JobThread thread_;  // last: it goes first, finishing what is queued
};

// One atomic write, on the calling thread: for the writer and for start-up.
std::optional<std::string> write_file_atomically(const std::string& path, const std::string& content,
                                                 FileSecrecy secrecy = FileSecrecy::Plain);
// Removes a file (gone already is fine) and makes the removal durable.
std::optional<std::string> remove_file_durably(const std::string& path);

}  // namespace evsed::app
