#!/usr/bin/env bash
# Benchmark (reported, not asserted in the tests): how much faster than real time
# the simulated hour of tests/unit/simulation_test.cpp runs on an optimised
# build: controller, simulated board, car and site, no sleeping. The issue asks
# for at least 1000x; this prints the figure of each of five runs and the median.
# Usage: bench/simulation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory build >/dev/null
cmake --build build --target evsed_unit_tests >/dev/null

speeds=()
for _ in 1 2 3 4 5; do
  line=$(build/tests/evsed_unit_tests --gtest_filter=Simulation.OneHourOfNormalSmartAndSolarCharging 2>&1 |
         grep -o 'simulated [0-9]* s in [0-9.]* s of wall time ([0-9]*x real time)')
  echo "$line"
  speeds+=("$(sed -E 's/.*\(([0-9]+)x real time\)/\1/' <<<"$line")")
done
median=$(printf '%s\n' "${speeds[@]}" | sort -n | sed -n 3p)
echo "median: ${median}x real time (issue: >= 1000x) -> $([[ $median -ge 1000 ]] && echo meets it || echo BELOW)"
