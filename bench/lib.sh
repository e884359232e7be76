# Shared by the bench scripts (sourced): every background process a script
# starts is remembered, and all of them are stopped on exit, whichever order
# they ended in, so a pipe through `tail` or `head` always ends.

bench_pids=()
bench_work=$(mktemp -d)

# Runs "$@" in the background and remembers it.
bench_start() {
  "$@" &
  bench_pids+=("$!")
}

bench_cleanup() {
  local pid
  # Newest first: evsed before the meters and the broker it talks to.
  for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do
    pid=${bench_pids[i]}
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${bench_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  [[ -f "$bench_work/nginx.pid" ]] && kill "$(cat "$bench_work/nginx.pid")" 2>/dev/null || true
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT

bench_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
