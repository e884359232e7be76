#include "evsed/core/balancing.hpp"

#include <algorithm>
#include <array>

namespace evsed::core {

namespace {

struct Totals {
  std::int32_t active = 0;  // EVSEs in state C
  DeciAmps total{0};        // sum of their assigned currents
  DeciAmps active_max{0};   // sum of their ceilings
};

Totals totals_of(std::span<const EvseSlot> slots) {
  Totals t;
  for (const auto& s : slots) {
    if (!s.charging) continue;
    ++t.active;
    t.total += s.balanced;
    t.active_max += s.balanced_max;
  }
  return t;
}

// MaxCircuit is enforced on a master (it caps the sum of all EVSEs), and on a
// standalone EVSE only when a circuit meter measures the sub-circuit.
bool circuit_limit_applies(const BalanceContext& ctx) {
  const Settings& s = *ctx.settings;
  return ctx.role == Role::Master || (s.has_circuit_meter && s.mode != ChargeMode::Normal);
}

DeciAmps circuit_baseload(const BalanceContext& ctx, DeciAmps total) {
  return max(DeciAmps{0}, ctx.grid.circuit_worst_phase - total);
}

void distribute(const Settings& s, BalanceState& state, const Totals& t, std::span<EvseSlot> slots) {
  DeciAmps pool = state.iset;
  std::int32_t remaining = t.active;
  std::array<bool, kMaxEvses> assigned{};
  // Slots that need no more than an equal share (or are pinned for a solar
  // start) get what they need; the rest is shared evenly among the others.
  bool rescan = true;
  while (rescan && remaining > 0) {
    rescan = false;
    for (std::size_t n = 0; n < slots.size() && n < kMaxEvses; ++n) {
      EvseSlot& slot = slots[n];
      if (!slot.charging || assigned[n]) continue;
      const DeciAmps average = pool / remaining;
      if (s.mode == ChargeMode::Solar && slot.solar_startup) {
        slot.balanced = s.min_current.deci();
        state.iset = t.total;  // no wind-up while a car is starting on solar
      } else if (average >= slot.balanced_max) {
        slot.balanced = slot.balanced_max;
      } else {
        continue;
      }
      assigned[n] = true;
      pool -= slot.balanced;
      --remaining;
      rescan = true;
      break;
    }
  }
  for (std::size_t n = 0; n < slots.size() && n < kMaxEvses && remaining > 0; ++n) {
    EvseSlot& slot = slots[n];
    if (!slot.charging || assigned[n]) continue;
    slot.balanced = pool / remaining;
    pool -= slot.balanced;
    --remaining;
  }
}

}  // namespace

bool is_current_available(const BalanceContext& ctx, std::span<const EvseSlot> slots) {
  const Settings& s = *ctx.settings;
  const Totals t = totals_of(slots);
  const DeciAmps min_current = s.min_current.deci();

  if (s.mode == ChargeMode::Solar) {
    // Nobody charging: the export must exceed StartCurrent.
    if (t.active == 0 && ctx.grid.mains_sum >= -s.solar_start_current.deci()) return false;
    // Somebody is already below MinCurrent.
    if (min_current * t.active > t.total) return false;
    // Not enough to drop everyone to MinCurrent and add one more.
    if (t.active > 0 && ctx.grid.mains_sum > s.solar_max_import.deci() + t.total - min_current * t.active) {
      return false;
    }
  }

  const std::int32_t next_active = std::min<std::int32_t>(t.active + 1, kMaxEvses);
  const DeciAmps baseload = ctx.grid.mains_worst_phase - t.total;
  if (s.mode != ChargeMode::Normal && min_current * next_active + baseload > s.max_mains.deci()) return false;
  if (circuit_limit_applies(ctx) &&
      min_current * next_active + circuit_baseload(ctx, t.total) > s.max_circuit.deci()) {
    return false;
  }
  if (s.mode != ChargeMode::Normal && ctx.max_sum_mains.value() != 0) {
    const std::int32_t phases = ctx.role == Role::Standalone ? (ctx.single_phase_forced ? 1 : 3) : 1;
    if (min_current * (phases * next_active) + ctx.grid.mains_sum > ctx.max_sum_mains.deci()) return false;
  }
  return true;
}

BalanceOutcome calc_balanced_current(const BalanceContext& ctx, const BalanceRequest& req, BalanceState& state,
                                     std::span<EvseSlot> slots) {
  const Settings& s = *ctx.settings;
  BalanceOutcome out;
  const Totals t = totals_of(slots);
  const DeciAmps min_current = s.min_current.deci();
  const DeciAmps baseload = ctx.grid.mains_worst_phase - t.total;
  const DeciAmps baseload_circuit = circuit_baseload(ctx, t.total);
  const DeciAmps isum_import = ctx.grid.mains_sum - s.solar_max_import.deci();
  const bool circuit_guard = circuit_limit_applies(ctx);
  const bool regulating = s.mode != ChargeMode::Normal;
  bool limited_by_sum = false;

  // 1. Target for the total current.
  if (!regulating) {
    if (ctx.role == Role::Master) {
      state.iset = s.max_circuit.deci() - baseload_circuit;
      out.limiter = CurrentLimiter::MaxCircuit;
    } else {
      state.iset = slots.empty() ? DeciAmps{0} : slots[0].balanced_max;
      out.limiter = CurrentLimiter::MaxCurrent;
    }
    if (s.enable_c2 == EnableC2::Auto && ctx.phases == 1) out.request_phases = 3;
  } else {
    out.limiter = s.mode == ChargeMode::Solar ? CurrentLimiter::SolarSurplus : CurrentLimiter::MaxMains;
    if (s.mode == ChargeMode::Solar && ctx.own_state_b && s.enable_c2 == EnableC2::Auto) {
      // Before charging starts: three phases only with export for MinCurrent on each, plus 3 A.
      const int wanted = -ctx.grid.mains_sum >= min_current * 3 + regulation::kThreePhaseStartMargin ? 3 : 1;
      if (wanted != ctx.phases) out.request_phases = wanted;
    }
    DeciAmps headroom = s.max_mains.deci() - ctx.grid.mains_worst_phase;
    if (s.has_circuit_meter) {
      const DeciAmps circuit_headroom = s.max_circuit.deci() - ctx.grid.circuit_worst_phase;
      if (circuit_headroom < headroom) {
        headroom = circuit_headroom;
        if (s.mode == ChargeMode::Smart) out.limiter = CurrentLimiter::MaxCircuit;
      }
    }
    if (ctx.max_sum_mains.value() != 0) {
      const DeciAmps excess = ctx.max_sum_mains.deci() - ctx.grid.mains_sum;
      if (excess / 3 < headroom) {
        headroom = excess / 3;  // per phase
        if (s.mode == ChargeMode::Smart) out.limiter = CurrentLimiter::MaxSumMains;
      }
      limited_by_sum = excess < DeciAmps{0};
    }
    if (!limited_by_sum) out.max_sum_mains = TimerChange::clear();

    if (!req.new_evse) {
      if (req.new_measurement) {
        // Up by a quarter of the headroom (Smart), down by the whole overshoot at once.
        if (headroom > DeciAmps{0}) {
          if (s.mode == ChargeMode::Smart) state.iset += headroom / regulation::kSmartIncreaseDivisor;
        } else {
          state.iset += headroom;
        }
      }
      state.iset = std::clamp(state.iset, DeciAmps{0}, regulation::kMaxIset);
    }

    if (s.mode == ChargeMode::Solar && t.active > 0 && headroom > DeciAmps{0} && req.new_measurement) {
      // Fine regulation around the tolerated import.
      if (isum_import < DeciAmps{0}) {
        state.iset += (isum_import < -regulation::kSolarSurplusForCoarse && headroom > regulation::kSolarSurplusForCoarse)
                          ? regulation::kSolarCoarseStep
                          : regulation::kSolarFineStep;
      } else if (isum_import > regulation::kSolarImportHalve) {
        state.iset -= isum_import / 2;
      } else if (isum_import > regulation::kSolarImportCoarse) {
        state.iset -= regulation::kSolarCoarseStep;
      } else if (isum_import > regulation::kSolarImportFine) {
        state.iset -= regulation::kSolarFineStep;
      }
    }

    if (s.mode == ChargeMode::Smart && req.new_evse && t.active > 0) {
      // A car joins: start from what the mains and circuit can take now.
      state.iset = min(s.max_mains.deci() - baseload, s.max_circuit.deci() - baseload_circuit);
      if (ctx.max_sum_mains.value() != 0) {
        state.iset = min(state.iset, (ctx.max_sum_mains.deci() - ctx.grid.mains_sum) / 3);
      }
    }
  }

  // 2. Guards that hold in every mode.
  if (s.has_mains_meter && regulating && state.iset > s.max_mains.deci() - baseload) {
    state.iset = s.max_mains.deci() - baseload;
    out.limiter = CurrentLimiter::MaxMains;
  }
  if (circuit_guard && state.iset > s.max_circuit.deci() - baseload_circuit) {
    state.iset = s.max_circuit.deci() - baseload_circuit;
    out.limiter = CurrentLimiter::MaxCircuit;
  }
  if (ctx.grid_relay_open) {
    const DeciAmps relay_cap = regulation::kGridRelaySum / (ctx.single_phase_forced ? 1 : 3);
    if (state.iset > relay_cap) {
      state.iset = relay_cap;
      out.limiter = CurrentLimiter::GridRelay;
    }
  }

  // 3. Shortage handling and distribution over the charging EVSEs.
  if (t.active > 0 && (req.new_measurement || !regulating)) {
    if (state.iset < min_current * t.active) {
      state.iset = min_current * t.active;
      out.limiter = CurrentLimiter::MinCurrent;
      if (s.mode == ChargeMode::Solar) {
        const bool three_phase_auto = ctx.phases == 3 && s.enable_c2 == EnableC2::Auto;
        const DeciAmps stop_threshold = (min_current * t.active) - s.solar_start_current.deci();
        if (isum_import > DeciAmps{0} && (ctx.grid.mains_sum > stop_threshold || three_phase_auto)) {
          if (three_phase_auto && ctx.own_state_c) {
            std::int64_t left = req.solar_stop_left_s;
            if (left == 0) {
              // Small deficit: try StopTime on three phases first; otherwise 30 s.
              Seconds d = isum_import < min_current ? Seconds{s.solar_stop_time} : Seconds{0};
              if (d == Seconds{0}) d = regulation::kSwitchTo1PDefault;
              out.solar_stop = TimerChange::start(d, TimerPurpose::SwitchTo1P);
              left = d.count();
            }
            if (left <= regulation::kSwitchTo1PMarginS) {
              out.request_phases = 1;
              out.stop_for_phase_switch = true;
              out.solar_stop = TimerChange::clear();
            }
          } else if (req.solar_stop_left_s == 0 && s.solar_stop_time.count() > 0) {
            out.solar_stop = TimerChange::start(Seconds{s.solar_stop_time}, TimerPurpose::StopCharging);
          }
        } else {
          out.solar_stop = TimerChange::clear();
        }
      }
      const bool hard = (s.has_mains_meter && regulating && state.iset > s.max_mains.deci() - baseload) ||
                        (circuit_guard && state.iset > s.max_circuit.deci() - baseload_circuit) ||
                        (s.max_sum_mains_time.count() == 0 && limited_by_sum);
      if (hard && !ctx.switch_to_1p_pending) {
        ++state.no_current;
      } else if (limited_by_sum && s.max_sum_mains_time.count() > 0 && req.max_sum_mains_left_s == 0) {
        out.max_sum_mains = TimerChange::start(Seconds{s.max_sum_mains_time});
      }
    } else {
      bool phase_timer_running = false;
      if (s.mode == ChargeMode::Solar && ctx.phases == 1 && s.enable_c2 == EnableC2::Auto &&
          state.iset + regulation::kSolarTopMargin >= s.max_current.deci() && ctx.own_state_c) {
        // At the top on one phase: three phases if the export would carry MinCurrent on each.
        std::int32_t spare_a = 3 * (s.min_current.value() + 1) - s.max_current.value();
        if (spare_a < 0) spare_a = regulation::kThreePhaseSpareFallbackA;
        if (-ctx.grid.mains_sum > Amps{spare_a}.deci()) {
          phase_timer_running = true;
          std::int64_t left = req.solar_stop_left_s;
          if (left == 0) {
            out.solar_stop = TimerChange::start(regulation::kSwitchTo3PDelay, TimerPurpose::SwitchTo3P);
            left = regulation::kSwitchTo3PDelay.count();
          }
          if (left <= regulation::kSwitchTo3PMarginS) {
            out.request_phases = 3;
            out.stop_for_phase_switch = true;
            out.solar_stop = TimerChange::clear();
          }
        }
      }
      if (!phase_timer_running && !out.stop_for_phase_switch) out.solar_stop = TimerChange::clear();
      out.max_sum_mains = TimerChange::clear();
      state.no_current = 0;
    }

    if (state.iset >= t.active_max) {
      state.iset = t.active_max;
      if (out.limiter != CurrentLimiter::MinCurrent) out.limiter = CurrentLimiter::MaxCurrent;
    }
    distribute(s, state, t, slots);
    out.distributed = true;
  }

  // A lowered ceiling (override, cable, MaxCurrent) holds at once, measurement or not.
  for (auto& slot : slots) {
    if (slot.charging && slot.balanced > slot.balanced_max) slot.balanced = slot.balanced_max;
  }

  if (t.active == 0) {
    out.solar_stop = TimerChange::clear();
    out.max_sum_mains = TimerChange::clear();
    state.no_current = 0;
    out.limiter = CurrentLimiter::None;
  }

  out.raise_less_6a = regulating && (state.no_current > regulation::kShortageCycles ||
                                     ctx.grid.mains_worst_phase > s.max_mains.deci() * regulation::kRunawayFactor);
  return out;
}

}  // namespace evsed::core
