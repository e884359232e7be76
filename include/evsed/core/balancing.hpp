#pragma once
// Current calculation: may one more EVSE start (SmartEVSE IsCurrentAvailable),
// and how much current the charging EVSEs get (CalcBalancedCurrent). Pure
// functions over slots, so the same code serves a standalone EVSE (one slot)
// and a power-share master (up to eight).

#include <cstdint>
#include <span>

#include "evsed/core/limiter.hpp"
#include "evsed/core/settings.hpp"
#include "evsed/core/units.hpp"

namespace evsed::core {

inline constexpr std::size_t kMaxEvses = 8;  // SmartEVSE power share: a master and up to seven nodes

// The regulation's numbers, each as SmartEVSE's CalcBalancedCurrent uses it
// (control-logic.md §3, main.cpp 940-1130).
namespace regulation {
inline constexpr DeciAmps kMaxIset{800};             // IsetBalanced is clamped to 0..800 dA (80 A, the IEC maximum)
inline constexpr DeciAmps kGridRelaySum{180};        // switch "Grid Relay" open: 18 A summed over the phases (§3.5)
inline constexpr DeciAmps kThreePhaseStartMargin{30};  // Solar + Auto: 3P start needs MinCurrent x 3 + 3 A of export
inline constexpr DeciAmps kSolarCoarseStep{5};       // Solar: +0.5 A with more than 1 A surplus ...
inline constexpr DeciAmps kSolarFineStep{1};         // ... otherwise +0.1 A
inline constexpr DeciAmps kSolarSurplusForCoarse{10};  // 1 A below the tolerated import: the coarse step
inline constexpr DeciAmps kSolarImportHalve{20};     // more than 2 A import: down by half of it
inline constexpr DeciAmps kSolarImportCoarse{10};    // more than 1 A: down 0.5 A
inline constexpr DeciAmps kSolarImportFine{3};       // more than 0.3 A: down 0.1 A
inline constexpr DeciAmps kSolarTopMargin{8};        // "at the top" on one phase: within 0.8 A of MaxCurrent
inline constexpr std::int32_t kThreePhaseSpareFallbackA = 3;  // spare export for 1P->3P when the formula goes negative
inline constexpr Seconds kSwitchTo1PDefault{30};     // 3P->1P when StopTime is 0 or the deficit is large
inline constexpr Seconds kSwitchTo3PDelay{63};       // 1P->3P after 63 s of enough export
inline constexpr std::int64_t kSwitchTo1PMarginS = 2;  // the 1P switch happens with 2 s left on its timer
inline constexpr std::int64_t kSwitchTo3PMarginS = 3;  // the 3P switch with 3 s left
inline constexpr int kShortageCycles = 2;            // LESS_6A after more than two hard-shortage calculations
inline constexpr std::int32_t kSmartIncreaseDivisor = 4;  // Smart: up by a quarter of the headroom per reading
inline constexpr std::int32_t kRunawayFactor = 2;    // mains above 2 x MaxMains: LESS_6A at once
}  // namespace regulation

enum class Role : std::uint8_t {
  Standalone,  // LoadBl 0
  Master,      // LoadBl 1: MaxCircuit caps the sum of all EVSEs
};

struct EvseSlot {
  bool charging = false;       // in state C
  DeciAmps balanced{0};        // current assigned to it
  DeciAmps balanced_max{0};    // its own ceiling (cable, MaxCurrent, override)
  bool solar_startup = false;  // charging for less than 40 s: held at MinCurrent in Solar
};

// Measurements the calculation works on, already corrected for a home battery.
struct GridMeasurement {
  DeciAmps mains_worst_phase{0};  // Imeasured: highest phase current, + = import
  DeciAmps mains_sum{0};          // Isum: sum of the three phases
  DeciAmps circuit_worst_phase{0};
};

struct BalanceContext {
  Role role = Role::Standalone;
  const Settings* settings = nullptr;
  Amps max_sum_mains{0};  // capacity limit in force now (0 = none)
  GridMeasurement grid;
  int phases = 3;                 // phases the EVSE charges on now
  bool single_phase_forced = false;
  bool own_state_b = false;
  bool own_state_c = false;
  bool grid_relay_open = false;
  bool switch_to_1p_pending = false;
};

enum class TimerPurpose : std::uint8_t {
  StopCharging,  // at expiry: stop, "waiting for solar"
  SwitchTo1P,    // at expiry: continue on one phase
  SwitchTo3P,    // at expiry: continue on three phases
};

// What the calculation wants done with a countdown timer.
struct TimerChange {
  enum class Kind : std::uint8_t { Keep, Clear, Start } kind = Kind::Keep;
  Seconds duration{0};
  TimerPurpose purpose = TimerPurpose::StopCharging;
  static TimerChange clear() { return {Kind::Clear, Seconds{0}, TimerPurpose::StopCharging}; }
  static TimerChange start(Seconds d, TimerPurpose p = TimerPurpose::StopCharging) { return {Kind::Start, d, p}; }
};

// State that persists between calculations.
struct BalanceState {
  DeciAmps iset{0};    // IsetBalanced: total current for the charging EVSEs (integrator)
  int no_current = 0;  // consecutive hard-shortage calculations
};

struct BalanceRequest {
  bool new_measurement = false;  // a fresh mains reading arrived since the last run
  bool new_evse = false;         // an EVSE just started charging (firmware mod = 1)
  std::int64_t solar_stop_left_s = 0;     // 0 = idle
  std::int64_t max_sum_mains_left_s = 0;  // 0 = idle
};

struct BalanceOutcome {
  TimerChange solar_stop;
  TimerChange max_sum_mains;
  int request_phases = 0;        // 1 or 3 to request a phase switch, 0 = none
  bool stop_for_phase_switch = false;  // go to C1 so the switch can happen
  bool raise_less_6a = false;    // hard shortage persisted, or mains above 2 x MaxMains
  bool distributed = false;      // the charging EVSEs got new currents in this run
  CurrentLimiter limiter = CurrentLimiter::None;  // what capped them (when distributed)
};

// May one more EVSE start charging now?
bool is_current_available(const BalanceContext& ctx, std::span<const EvseSlot> slots);

// One run of the regulation: updates `state` and every slot's `balanced`.
BalanceOutcome calc_balanced_current(const BalanceContext& ctx, const BalanceRequest& req, BalanceState& state,
                                     std::span<EvseSlot> slots);

}  // namespace evsed::core
