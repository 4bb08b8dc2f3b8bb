#!/usr/bin/env bash
# The main job: builds switchboard and runs `switchboard demo` — the provider simulator, a gateway,
# twenty users' traffic and the console on the demo's journal, all offline. Arguments pass through
# (e.g. `make demo ARGS="--no-console --duration 40s"`). q or Ctrl-C stops it and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --product switchboard
exec "$(swift build --show-bin-path)/switchboard" demo "$@"
