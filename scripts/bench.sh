#!/usr/bin/env bash
# Every benchmark (`make bench`): builds `switchboard` in release (about 13 minutes cold on 2
# cores, into .build/release) and runs `switchboard bench`, which prints one table of every
# benchmark's headline figures with the machine and the features on. Arguments pass through
# (e.g. `--quick`, `--only gateway,console`, `--format markdown`, `--journal PATH` to keep the
# large journal for the next run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build -c release --product switchboard
exec "$(swift build -c release --show-bin-path)/switchboard" bench "$@"
