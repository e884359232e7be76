#pragma once
// State files in memory, for the Station's tests and the fuzzer: the same jobs
// the FileWriter takes, with completions queued like posts to an event loop
// and delivered by run_posted(). A failure can be set to model a full or
// read-only disk.

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "evsed/app/file_writer.hpp"

namespace evsed::app {

class MemoryFiles final : public StateFiles {
 public:
  void submit(std::vector<FileOp> ops, Done done) override {
    std::optional<std::string> error = failure;
    if (!error) {
      for (const auto& op : ops) {
        if (op.kind == FileOp::Kind::Write) {
          files[op.path] = op.content;
        } else {
          files.erase(op.path);
        }
        ++writes;
      }
    }
    if (done) posted.push_back([done = std::move(done), error] { done(error); });
  }
  void drain() override {}

  // Delivers the completions, as the loop would; returns how many ran.
  std::size_t run_posted() {
    std::size_t n = 0;
    while (!posted.empty()) {
      auto f = std::move(posted.front());
      posted.pop_front();
      f();
      ++n;
    }
    return n;
  }

  std::map<std::string, std::string> files;
  std::optional<std::string> failure;  // every job fails with this while set
  std::deque<std::function<void()>> posted;
  std::size_t writes = 0;
};

}  // namespace evsed::app
