#pragma once
// A simulated car that follows IEC 61851-1: 12 V unplugged, 9 V plugged, 6 V
// when it wants power and sees a PWM offer; draws min(offer, its own maximum)
// on one or three phases once the contactor is closed, after a delay; stops
// drawing and returns to 9 V when the offer disappears.

#include <array>
#include <optional>

#include "evsed/core/pilot.hpp"
#include "evsed/core/units.hpp"
#include "evsed/hw/io.hpp"

namespace evsed::sim {

struct EvProfile {
  core::Amps max_current{16};
  int phases = 3;                                   // the car's on-board charger
  core::Milliseconds wake_delay{1000};              // PWM seen -> S2 closed (6 V)
  core::Milliseconds start_delay{2000};             // contactor closed -> drawing
  core::Milliseconds follow_delay{1000};            // new offer -> new draw
  core::Milliseconds stop_delay{1000};              // offer gone -> no draw, 9 V
  std::optional<core::WattHours> energy_wanted;     // full after this much (empty: never)
};

// What the EVSE presents to the car.
struct Supply {
  core::PwmDuty duty = core::kDutySteadyHigh;
  bool pilot_connected = true;
  bool l1 = false;   // main contactor
  bool l23 = false;  // second contactor
};

class Ev final : public hw::PilotLoad {
 public:
  explicit Ev(EvProfile profile = {}) : profile_(profile) {}

  void plug_in();
  void unplug();
  void set_charge_wanted(bool wanted) { wants_charge_ = wanted; }
  void set_diode_ok(bool ok) { diode_ok_ = ok; }
  void set_profile(const EvProfile& p) { profile_ = p; }

  // Advances the car to `now` under the given supply.
  void step(core::TimePoint now, const Supply& supply);

  [[nodiscard]] bool plugged() const { return plugged_; }
  [[nodiscard]] bool wants_charge() const { return wants_charge_; }
  [[nodiscard]] bool requesting() const { return requesting_; }
  [[nodiscard]] std::array<core::DeciAmps, 3> draw() const { return draw_; }
  [[nodiscard]] core::WattHours energy() const { return core::WattHours{static_cast<std::int64_t>(energy_wh_)}; }
  [[nodiscard]] const EvProfile& profile() const { return profile_; }

  [[nodiscard]] double plateau_volts() const override;
  [[nodiscard]] bool diode_blocks() const override { return diode_ok_; }

 private:
  EvProfile profile_;
  bool plugged_ = false;
  bool wants_charge_ = true;
  bool diode_ok_ = true;
  bool requesting_ = false;
  std::optional<core::TimePoint> offer_seen_since_;
  std::optional<core::TimePoint> offer_gone_since_;
  std::optional<core::TimePoint> powered_since_;
  core::DeciAmps target_{0};
  std::optional<core::TimePoint> target_changed_at_;
  std::array<core::DeciAmps, 3> draw_{};
  std::optional<core::TimePoint> last_step_;
  double energy_wh_ = 0.0;
};

}  // namespace evsed::sim
