#pragma once
// Debounces a digital input (the external switch, the lock's position switch)
// as SmartEVSE debounces its switch: a new level counts once it has been read
// the same 12 times in a row (120 ms at one read per pilot period), so contact
// bounce and interference never toggle anything.

#include <optional>

namespace evsed::core {

class InputDebouncer {
 public:
  static constexpr int kStableReads = 12;

  // One raw read; returns the level when it has just become the stable one
  // (the first stable level is reported too, so the controller learns it).
  std::optional<bool> feed(bool raw) {
    if (stable_ && raw == *stable_) {
      run_ = 0;
      return std::nullopt;
    }
    if (run_ == 0 || raw != candidate_) {
      candidate_ = raw;
      run_ = 0;
    }
    if (++run_ < kStableReads) return std::nullopt;
    stable_ = raw;
    run_ = 0;
    return raw;
  }

 private:
  std::optional<bool> stable_;
  bool candidate_ = false;
  int run_ = 0;
};

}  // namespace evsed::core
