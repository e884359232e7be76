#!/usr/bin/env bash
# Benchmark (reported, not asserted): wrk on loopback against evsed's GET /settings
# and, in the same run, against nginx serving the same JSON as a static file.
# Usage: bench/rest.sh [seconds per run, default 10]
#        EVSED=/path/to/evsed bench/rest.sh   (another binary, e.g. an older build)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}

scripts/install-deps bench
make --no-print-directory build >/dev/null

source bench/lib.sh
work=$bench_work

evsed_port=$(bench_free_port)
nginx_port=$(bench_free_port)

bench_start "${EVSED:-build/evsed}" --simulate --listen "127.0.0.1:$evsed_port" --state-dir "$work/state" --log-level warn
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$evsed_port/settings" >/dev/null && break; sleep 0.1; done

mkdir -p "$work/www"
curl -sf "http://127.0.0.1:$evsed_port/settings" >"$work/www/settings"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    default_type application/json;
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nginx_port/settings" >/dev/null && break; sleep 0.1; done

# Prints "req/s p50 p99" for one wrk run.
measure() {
  local url=$1 connections=$2 threads=1
  [[ $connections -gt 1 ]] && threads=2
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$url" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    END {printf "%s %s %s\n", rps, p50, p99}'
}

echo "GET /settings, ${duration} s per run, $(nproc) cores, response $(wc -c <"$work/www/settings") bytes"
printf '%-6s %-12s %12s %10s %10s\n' conns server "req/s" p50 p99
for c in 1 64; do
  read -r e_rps e_p50 e_p99 < <(measure "http://127.0.0.1:$evsed_port/settings" "$c")
  read -r n_rps n_p50 n_p99 < <(measure "http://127.0.0.1:$nginx_port/settings" "$c")
  printf '%-6s %-12s %12s %10s %10s\n' "$c" evsed "$e_rps" "$e_p50" "$e_p99"
  printf '%-6s %-12s %12s %10s %10s\n' "$c" nginx "$n_rps" "$n_p50" "$n_p99"
  awk -v e="$e_rps" -v n="$n_rps" -v c="$c" 'BEGIN {printf "%-6s evsed/nginx  %.2f\n", c, e / n}'
done
