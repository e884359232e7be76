#!/usr/bin/env bash
# Benchmark (reported, not asserted): the dashboard in Debian's chromium; see bench/dashboard.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory build browser-deps >/dev/null
EVSED_BINARY=build/evsed node bench/dashboard.mjs
