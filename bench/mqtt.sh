#!/usr/bin/env bash
# Benchmark (reported, not asserted): MQTT round trip from publishing
# <prefix>/Set/CurrentOverride to receiving the matching <prefix>/ChargeCurrentOverride
# (p50/p99 over 1000 messages), and how many /Set messages per second evsed takes
# in a burst, with the worst delay of its 10 ms pilot tick meanwhile.
# Usage: bench/mqtt.sh [round trips, default 1000] [burst size, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1000}
burst=${2:-20000}

scripts/install-deps bench
make --no-print-directory build >/dev/null

source bench/lib.sh
work=$bench_work

mqtt_port=$(bench_free_port)
http_port=$(bench_free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n' "$mqtt_port" >"$work/mosquitto.conf"
[[ $(id -u) -eq 0 ]] && echo "user root" >>"$work/mosquitto.conf"
bench_start mosquitto -c "$work/mosquitto.conf" 2>/dev/null
printf '[mqtt]\nhost = "127.0.0.1"\nport = %s\ntopic_prefix = "bench"\n' "$mqtt_port" >"$work/evsed.toml"
bench_start build/evsed --simulate --config "$work/evsed.toml" --listen "127.0.0.1:$http_port" --state-dir "$work/state" \
  --log-level error
sleep 2

/usr/bin/python3 - "$mqtt_port" "$http_port" "$rounds" "$burst" <<'PY'
import json, statistics, sys, threading, time, urllib.request
import paho.mqtt.client as paho

mqtt_port, http_port, rounds, burst = (int(a) for a in sys.argv[1:5])
got = {}
cond = threading.Condition()

dropped = [0]

def on_message(client, userdata, msg):
    if msg.topic == "bench/CommandError":
        words = msg.payload.decode().split()
        if "dropped:" in words:
            dropped[0] += int(words[0])
        return
    with cond:
        got[msg.payload.decode()] = time.perf_counter()
        cond.notify_all()

c = paho.Client(client_id="evsed-bench-client")  # not "bench": that is evsed's own id
c.on_message = on_message
c.connect("127.0.0.1", mqtt_port)
c.loop_start()
c.subscribe([("bench/ChargeCurrentOverride", 0), ("bench/CommandError", 0)])
time.sleep(0.5)

latencies = []
for i in range(rounds):
    value = str(100 + (i % 2) * 20)  # alternate 10.0 A and 12.0 A
    with cond:
        got.pop(value, None)
    start = time.perf_counter()
    c.publish("bench/Set/CurrentOverride", value, qos=0)
    with cond:
        if not cond.wait_for(lambda: value in got, timeout=2):
            continue
        latencies.append((got[value] - start) * 1000)
latencies.sort()
print(f"round trip /Set/CurrentOverride -> /ChargeCurrentOverride, {len(latencies)}/{rounds} answered:")
print(f"  p50 {latencies[len(latencies) // 2]:.2f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} ms, "
      f"max {latencies[-1]:.2f} ms")

# Burst: many commands, then one that marks the end.
start = time.perf_counter()
for i in range(burst):
    c.publish("bench/Set/CustomButton", "On" if i % 2 else "Off", qos=0)
end_value = "130"
with cond:
    got.pop(end_value, None)
c.publish("bench/Set/CurrentOverride", end_value, qos=0)
with cond:
    done = cond.wait_for(lambda: end_value in got, timeout=120)
elapsed = time.perf_counter() - start
with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/settings") as r:
    lag = json.load(r)["evsed"]["loop"]["pilot_lag_max_ms"]
time.sleep(1)
taken = burst - dropped[0]
print(f"burst of {burst} /Set messages in {elapsed:.2f} s: {taken} taken, {dropped[0]} dropped by the bounded queue "
      f"({'end marker seen' if done else 'end marker NOT seen'}) = {taken / elapsed:.0f} commands/s")
print(f"worst delay of the 10 ms pilot tick meanwhile: {lag} ms")
PY
