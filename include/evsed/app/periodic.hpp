#pragma once
// A periodic timer on the daemon's loop (pilot 10 ms, control 2 s, housekeeping 1 s).

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "evsed/core/units.hpp"

namespace evsed::app {

// A periodic timer on the loop that keeps its phase and does not pile up
// callbacks after a stall (suspend, debugger).
class Periodic {
 public:
  Periodic(boost::asio::io_context& io, core::Milliseconds period, std::function<void(core::TimePoint)> tick)
      : timer_(io), period_(period), tick_(std::move(tick)) {}

  void start() {
    next_ = core::Clock::now() + period_;
    arm();
  }
  void stop() { timer_.cancel(); }
  // Longest delay of a tick behind its schedule over the last 10 to 20 s.
  [[nodiscard]] core::Milliseconds max_lag() const { return std::max(lag_[0], lag_[1]); }

 private:
  void arm() {
    timer_.expires_at(next_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = core::Clock::now();
      note_lag(now);
      tick_(now);
      next_ += period_;
      if (next_ + period_ * 10 < now) next_ = now + period_;  // fell far behind: resynchronise
      arm();
    });
  }

  void note_lag(core::TimePoint now) {
    if (now - window_start_ >= core::Seconds{10}) {
      lag_[1] = lag_[0];
      lag_[0] = core::Milliseconds{0};
      window_start_ = now;
    }
    lag_[0] = std::max(lag_[0], std::chrono::duration_cast<core::Milliseconds>(now - next_));
  }

  boost::asio::steady_timer timer_;
  core::Milliseconds period_;
  std::function<void(core::TimePoint)> tick_;
  core::TimePoint next_{};
  core::TimePoint window_start_{};
  std::array<core::Milliseconds, 2> lag_{};
};

}  // namespace evsed::app
