#!/usr/bin/env bash
# Benchmark (reported, not asserted): GET /sessions.csv of 100 000 sessions, and
# GET /metrics requests per second (wrk on loopback).
# Usage: bench/sessions.sh [sessions, default 100000] [seconds of wrk, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
duration=${2:-10}

scripts/install-deps bench
make --no-print-directory build >/dev/null

source bench/lib.sh
work=$bench_work
port=$(bench_free_port)
mkdir -p "$work/state"
: >"$work/evsed.toml"

# evsed makes the schema; then the sessions go in as the log would have written them.
start_evsed() {
  bench_start build/evsed --simulate --listen "127.0.0.1:$port" --state-dir "$work/state" --log-level warn \
    --config "$work/evsed.toml"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/sessions?limit=1" >/dev/null && return; sleep 0.1; done
  echo "evsed did not answer" >&2
  exit 1
}
start_evsed
kill "${bench_pids[-1]}"
wait "${bench_pids[-1]}" || true
/usr/bin/python3 - "$work/state/sessions.db" "$count" <<'PY'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
start = 1_700_000_000
rows = []
for i in range(1, n + 1):
    t = start + i * 3 * 3600
    rows.append((i, t, 3600, t + 7200, 3600, t + 7200, 7200, 6000, 11000 + i % 5000, "estimated",
                 160, 150, 3, "normal,solar", 1000, "unplugged", f"note {i}, \"quoted\"" if i % 10 == 0 else ""))
c.executemany("INSERT INTO sessions (id, started_at, start_offset, ended_at, end_offset, updated_at, connected_s, "
              "charging_s, energy_wh, energy_source, max_current_da, mean_current_da, phases, modes, solar_wh, "
              "stop_reason, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
c.execute("UPDATE totals SET sessions = ?, energy_wh = (SELECT SUM(energy_wh) FROM sessions)", (n,))
c.commit()
PY
start_evsed

t0=$(date +%s.%N)
curl -sf -o "$work/all.csv" "http://127.0.0.1:$port/sessions.csv"
t1=$(date +%s.%N)
lines=$(($(wc -l <"$work/all.csv") - 1))
awk -v a="$t0" -v b="$t1" -v n="$lines" -v bytes="$(wc -c <"$work/all.csv")" \
  'BEGIN {printf "GET /sessions.csv: %d sessions, %.1f MB in %.2f s (%.0f sessions/s)\n", n, bytes / 1e6, b - a, n / (b - a)}'
t0=$(date +%s.%N)
curl -sf -o /dev/null "http://127.0.0.1:$port/sessions?limit=10000"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN {printf "GET /sessions?limit=10000: %.3f s\n", b - a}'
t0=$(date +%s.%N)
curl -sf -o /dev/null "http://127.0.0.1:$port/sessions/summary?by=month"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN {printf "GET /sessions/summary?by=month: %.3f s\n", b - a}'

for c in 1 64; do
  threads=1
  [[ $c -gt 1 ]] && threads=2
  wrk -t"$threads" -c"$c" -d"${duration}s" --latency "http://127.0.0.1:$port/metrics" | awk -v c="$c" '
    /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    END {printf "GET /metrics, %d connections: %s req/s, p50 %s, p99 %s\n", c, rps, p50, p99}'
done
