#pragma once
// Blocking work (a disk, a database) off the event loop: one thread runs the
// jobs in the order they were given. Whoever submits posts the outcome back to
// the loop itself; the loop never waits on this thread, except in drain().

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace evsed::worker {

class JobThread {
 public:
  JobThread();
  ~JobThread();  // finishes what is queued
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  void submit(std::function<void()> job);
  // Blocks until every job given so far has run (shutdown, tests).
  void drain();

 private:
  void run(std::stop_token stop);

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> jobs_;
  bool busy_ = false;
  std::jthread thread_;  // last: it starts once the rest is ready
};

}  // namespace evsed::worker
