#!/usr/bin/env bash
# Benchmark (reported, not asserted): evsed's Modbus poll cycle for a mains meter
# (Eastron3P) and an EV meter (ABB) against the theoretical bus time at 9600 baud:
# frame bytes x 11 bits / baud, plus 3.5-character gaps, plus the configured
# turnaround, for every request of the cycle. The meters are evsed-meter-sim on a
# socat pty pair, answering only after the frames' wire time (--wire-time), since
# a pty itself moves bytes at once.
# Usage: bench/modbus.sh [seconds, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
turnaround_ms=10

scripts/install-deps
make --no-print-directory build >/dev/null

source bench/lib.sh
work=$bench_work

bench_start socat pty,raw,echo=0,link="$work/evse" pty,raw,echo=0,link="$work/meter"
for _ in $(seq 50); do [[ -e "$work/evse" && -e "$work/meter" ]] && break; sleep 0.05; done
bench_start build/evsed-meter-sim --device "$work/meter" --meter Eastron3P@10 --meter ABB@12 --wire-time </dev/null >/dev/null
port=$(bench_free_port)
cat >"$work/evsed.toml" <<TOML
[mains_meter]
type = "Eastron3P"
address = 10
[ev_meter]
type = "ABB"
address = 12
[modbus]
port = "$work/evse"
poll_interval_ms = 100
turnaround_ms = $turnaround_ms
TOML
bench_start build/evsed --config "$work/evsed.toml" --simulate --listen "127.0.0.1:$port" --state-dir "$work/state" \
  --log-level warn
sleep 3

/usr/bin/python3 - "$port" "$duration" "$turnaround_ms" <<'PY'
import json, statistics, sys, time, urllib.request
port, duration, turnaround = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
baud = 9600
# Requests in a cycle: mains currents+phase powers (12 registers), EV import and
# export energy (4 + 4, 64-bit counters), EV currents+phase powers (16).
requests = [12, 4, 4, 16]
def wire_ms(registers):
    chars = 8 + 5 + 2 * registers + 2 * 3.5
    return chars * 11 * 1000 / baud + turnaround
theory = sum(wire_ms(r) for r in requests)
samples = []
end = time.monotonic() + duration
while time.monotonic() < end:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/settings") as r:
        samples.append(json.load(r)["evsed"]["modbus"]["cycle_ms"])
    time.sleep(0.25)
samples = [s for s in samples if s > 0]
measured = statistics.median(samples)
print(f"requests per cycle: {len(requests)} ({sum(requests)} registers), 9600 baud 8N1, turnaround {turnaround} ms")
print(f"theoretical bus time per cycle: {theory:.1f} ms")
print(f"measured poll cycle (median of {len(samples)}): {measured:.1f} ms (min {min(samples)}, max {max(samples)})")
print(f"ratio measured/theoretical: {measured / theory:.2f}")
PY
