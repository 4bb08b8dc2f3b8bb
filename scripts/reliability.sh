#!/usr/bin/env bash
# The reliability suite (`make reliability`): kill -9 under load, three journal writers, 10,000
# fuzzed bodies, Redis stopped mid-run, the journal's disk full. Builds (debug) and runs
# `switchboard reliability`, which prints what it tried and what held and fails when anything did
# not hold. Arguments pass through (e.g. `--quick`, `--only fuzz`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --product switchboard
timeout --kill-after=30 600 "$(swift build --show-bin-path)/switchboard" reliability "$@"
